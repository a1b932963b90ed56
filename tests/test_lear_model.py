"""LEAR model pieces against their formulas, and the optimizer: head learning rates and no frozen parameter."""
import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from fairseq_plugins.errors import InputError
from fairseq_plugins.models.lear import LearConfig, LearModel
from fairseq_plugins.modules.label_fusion import LabelAttentionFusion, LabelCosineFusion, SpanClassifier
from fairseq_plugins.optim.lear_adam import LearAdam, LearAdamConfig
from fairseq_plugins.tasks.lear_ner import LearNerConfig, LearNerTask
from lear_fixtures import minilm_vocab, write_labels

TINY = dict(encoder_layers=1, encoder_embed_dim=16, encoder_ffn_embed_dim=32, encoder_attention_heads=2,
            max_positions=64)


def test_attention_fusion_is_the_papers_formula():
    torch.manual_seed(0)
    fusion = LabelAttentionFusion(8)
    text, labels = torch.randn(2, 5, 8), torch.randn(3, 4, 8)
    mask = torch.tensor([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=torch.bool)
    t, lab = fusion.text_proj(text), fusion.label_proj(labels)
    scores = torch.einsum("bih,cjh->bicj", t, lab) + (~mask).float()[None, None] * -10000.0  # LEAR's masking
    attended = torch.einsum("bicj,cjh->bich", scores.softmax(-1), lab)
    expected = torch.tanh(fusion.out_proj(t[:, :, None] + attended))
    assert torch.allclose(fusion(text, labels, mask), expected, atol=1e-5)


def test_cosine_fusion_formula():
    fusion = LabelCosineFusion(8)
    text, pooled = torch.randn(2, 5, 8), torch.randn(3, 8)
    t, lab = fusion.text_proj(text), fusion.label_proj(pooled)
    cos = (t[:, :, None] * lab).sum(-1) / (t.norm(dim=-1)[..., None] * lab.norm(dim=-1))
    assert torch.allclose(fusion(text, pooled), t[:, :, None] + cos[..., None] * lab, atol=1e-5)


def test_span_classifier_equals_concat_mlp_on_every_pair_within_width():
    torch.manual_seed(0)
    head = SpanClassifier(num_labels=2, hidden_dim=4, dropout=0.0, max_width=3, chunk_widths=2)
    fused = torch.randn(1, 6, 2, 4, requires_grad=True)
    logits = head(fused)
    assert logits.shape == (1, 3, 6, 2)
    # LEAR's Linear(2H, 2H) on concat(F_i, F_j): the two halves are start_proj and end_proj.
    linear = nn.Linear(8, 8)
    linear.weight.data = torch.cat([head.start_proj.weight, head.end_proj.weight], 1)
    linear.bias.data = head.start_proj.bias.data
    for w in range(3):
        for i in range(6 - w):
            h = F.gelu(linear(torch.cat([fused[0, i], fused[0, i + w]], -1)))
            expected = (h * head.classifier.weight).sum(-1) + head.classifier.bias
            assert torch.allclose(logits[0, w, i], expected, atol=1e-5)
    # Recomputed chunks in training give the same gradients as storing everything.
    head.train()
    (grad,) = torch.autograd.grad(head(fused).sum(), fused)
    head.eval()
    (reference,) = torch.autograd.grad(head(fused).sum(), fused)
    assert torch.allclose(grad, reference, atol=1e-6)


@pytest.fixture(scope="module")
def task(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lear")
    write_labels(folder)
    return LearNerTask.setup_task(LearNerConfig(data=str(folder), vocab=str(minilm_vocab()), max_length=16))


def build(task, **overrides):
    torch.manual_seed(0)
    return LearModel.build_model(LearConfig(**{**TINY, "dropout": 0.0, "attention_dropout": 0.0,
                                               "head_dropout": 0.0, **overrides}), task)


def fake_batch(task, model):
    tokens = torch.tensor([[101, 2198, 2003, 1999, 3000, 102], [101, 7592, 2088, 102, 0, 0]])
    return model(tokens), tokens


@pytest.mark.parametrize("fusion, nested", [("attention", False), ("attention", True), ("cosine", False)])
def test_every_trainable_parameter_changes_and_heads_get_the_multiplier(task, fusion, nested):
    model = build(task, fusion=fusion, nested=nested, task_layer_lr=10.0)
    optimizer = LearAdam(LearAdamConfig(lr=[1e-3], weight_decay=0.01, adam_betas="(0.9, 0.999)"), list(model.parameters()))
    head = {id(p) for m in (model.fusion, model.start_classifier, model.end_classifier, model.span_classifier)
            if m is not None for p in m.parameters()}
    for group in optimizer.param_groups:
        ids = {id(p) for p in group["params"]}
        assert ids <= head if group["lr_scale"] == 10.0 else not ids & head
        assert math.isclose(group["lr"], 1e-3 * group["lr_scale"])
        assert group["weight_decay"] == (0.0 if group["decay_exempt"] else 0.01)
    assert {p.dim() <= 1 for g in optimizer.param_groups if g["decay_exempt"] for p in g["params"]} == {True}
    optimizer.set_lr(5e-4)  # what a scheduler does: the ratio survives
    assert optimizer.get_lr() == 5e-4 and {g["lr"] for g in optimizer.param_groups} == {5e-4, 5e-3}

    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    out, _ = fake_batch(task, model)
    loss = out["start"].sigmoid().sum() + out["end"].sigmoid().sum()
    if nested:
        loss = loss + out["span"].sigmoid().sum()
    loss.backward()
    optimizer.step()
    unchanged = [n for n, p in model.named_parameters() if p.requires_grad and torch.equal(p, before[n])]
    assert unchanged == []
    assert model.encoder.lm_head is None and (model.encoder.pooler is None) == (fusion == "attention")


def test_label_descriptions_go_through_the_shared_encoder_every_forward(task):
    model = build(task)
    assert torch.equal(model.label_tokens, task.label_tokens)
    out, tokens = fake_batch(task, model)
    out["start"].sum().backward()
    label_only = sorted(set(task.label_tokens.flatten().tolist()) - set(tokens.flatten().tolist()) - {0})
    rows = model.encoder.sentence_encoder.embeddings.embed_tokens.weight.grad[label_only]
    assert label_only and bool((rows.abs().sum(-1) > 0).all())  # words seen only in the descriptions learn


def test_plain_adam_is_refused_when_heads_need_another_rate(task):
    model = build(task, task_layer_lr=10.0)
    from fairseq.optim.adam import FairseqAdam, FairseqAdamConfig

    plain = FairseqAdam(FairseqAdamConfig(lr=[1e-3], adam_betas="(0.9, 0.999)"), list(model.parameters()))
    task._lr_scales_checked = False
    with pytest.raises(InputError, match="lear_adam"):
        task.optimizer_step(plain, model, 0)
