"""``--optimizer adamw_fused``: the same update as fairseq's ``adam``, its checkpoint state interchangeable,
and fp32 master weights under ``--bf16``."""
import copy

import pytest
import torch
from fairseq import optim, tasks
from fairseq.dataclass.utils import convert_namespace_to_omegaconf
from fairseq.optim.fp16_optimizer import FP16Optimizer
from fairseq.trainer import Trainer
from omegaconf import OmegaConf

import cli_utils
from fairseq_plugins.compat import parse_training_args
from fairseq_plugins.optim.fused_adamw import FusedAdamW


def build(name, params, **overrides):
    cfg = OmegaConf.create({"_name": name, "lr": [1e-2], "adam_betas": "(0.9, 0.98)", "adam_eps": 1e-6,
                            "weight_decay": 0.1, "use_old_adam": False, "fp16_adam_stats": False, "tpu": False,
                            **overrides})
    return optim.build_optimizer(cfg, params)


def parameter_sets(seed=0):
    torch.manual_seed(seed)
    shapes = [(7, 5), (5,), (3, 4, 2)]
    base = [torch.randn(s) for s in shapes]
    return [[torch.nn.Parameter(t.clone()) for t in base] for _ in range(2)]


def step_both(optimizers, param_sets, steps, seed):
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        grads = [torch.randn(p.shape, generator=g) for p in param_sets[0]]
        for opt, params in zip(optimizers, param_sets):
            for p, grad in zip(params, grads):
                p.grad = grad.clone()
            opt.step()
            opt.zero_grad()


def test_same_update_as_fairseq_adam_and_interchangeable_state():
    ours_params, theirs_params = parameter_sets()
    ours, theirs = build("adamw_fused", ours_params), build("adam", theirs_params)
    assert isinstance(ours, FusedAdamW)
    step_both([ours, theirs], [ours_params, theirs_params], steps=6, seed=1)
    for a, b in zip(ours_params, theirs_params):  # eps enters after the bias correction in torch, before in fairseq
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    assert ours_params[0].sub(parameter_sets()[0][0]).abs().max() > 1e-2  # it did move

    # Resume adam's state in adamw_fused (and back): the runs go on together.
    resumed = build("adamw_fused", ours_params)
    resumed.load_state_dict(copy.deepcopy(theirs.state_dict()))  # as from a checkpoint file: no shared moments
    assert resumed.param_groups[0]["decoupled_weight_decay"] and resumed.param_groups[0]["fused"]
    step_both([resumed, theirs], [ours_params, theirs_params], steps=3, seed=2)
    for a, b in zip(ours_params, theirs_params):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_fp16_adam_stats_is_refused():
    with pytest.raises(ValueError, match="fp16-adam-stats"):
        build("adamw_fused", parameter_sets()[0], fp16_adam_stats=True)


def test_bf16_run_keeps_fp32_master_weights_and_learns(tmp_path):
    data_bin = cli_utils.make_data_bin(tmp_path / "data")
    args = parse_training_args([str(a) for a in cli_utils.train_args(
        data_bin, tmp_path / "ckpt", "--bf16", "--optimizer", "adamw_fused")])
    cfg = convert_namespace_to_omegaconf(args)
    task = tasks.setup_task(cfg.task)
    trainer = Trainer(cfg, task, task.build_model(cfg.model), task.build_criterion(cfg.criterion))
    assert isinstance(trainer.optimizer, FP16Optimizer)
    assert isinstance(trainer.optimizer.fp32_optimizer, FusedAdamW)
    assert {p.dtype for p in trainer.optimizer.fp32_params} == {torch.float32}
    assert trainer.optimizer.param_groups[0]["fused"]

    task.load_dataset("train")
    batches = task.get_batch_iterator(task.dataset("train"), max_sentences=4, seed=1).next_epoch_itr(shuffle=False)
    sample = next(iter(batches))
    losses = [trainer.train_step([sample])["loss"] for _ in range(8)]
    assert losses[-1] < losses[0], losses
