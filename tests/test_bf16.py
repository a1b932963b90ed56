"""``--bf16`` on CPUs: what fairseq does with it once our entry point stops it meaning ``--tpu``.

Learning under ``--bf16`` is checked in ``test_training_cli``; here, that the run really is bf16
(not silently fp32) with fp32 master weights, and that the torchrun launcher shares the fix.
"""
import math

import pytest
import torch
from fairseq import tasks
from fairseq.dataclass.utils import convert_namespace_to_omegaconf
from fairseq.optim.fp16_optimizer import FP16Optimizer
from fairseq.trainer import Trainer

import cli_utils
from fairseq_plugins.compat import parse_training_args


@pytest.fixture(scope="module")
def data_bin(tmp_path_factory):
    return cli_utils.make_data_bin(tmp_path_factory.mktemp("bf16"))


def train_cfg(data_bin, save_dir, *extra):
    args = parse_training_args([str(a) for a in cli_utils.train_args(data_bin, save_dir, *extra)])
    return args, convert_namespace_to_omegaconf(args)


def test_bf16_trains_a_bf16_model_with_fp32_master_weights(data_bin, tmp_path):
    args, cfg = train_cfg(data_bin, tmp_path, "--bf16")
    assert args.bf16 and not args.tpu
    task = tasks.setup_task(cfg.task)
    trainer = Trainer(cfg, task, task.build_model(cfg.model), task.build_criterion(cfg.criterion))
    assert trainer.device == torch.device("cpu")
    assert {p.dtype for p in trainer.model.parameters()} == {torch.bfloat16}
    assert isinstance(trainer.optimizer, FP16Optimizer)
    assert {p.dtype for p in trainer.optimizer.fp32_params} == {torch.float32}
    assert trainer.optimizer.scaler is None  # bf16 has fp32's exponent range: no loss scaling


def test_fp32_run_is_unchanged(data_bin, tmp_path):
    args, _ = train_cfg(data_bin, tmp_path)
    assert not args.bf16 and not args.tpu


def test_bf16_under_torchrun(data_bin, tmp_path):
    proc = cli_utils.train_distributed(2, data_bin, tmp_path / "ckpt", "--bf16", "--no-save")
    losses = [float(r["loss"]) for r in cli_utils.train_inner_logs(proc.stdout)]
    assert len(losses) == 2 and all(math.isfinite(x) for x in losses), losses
