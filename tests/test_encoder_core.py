"""The encoder core's contracts, checked directly on tiny random modules (no fairseq run).

Each test pins a property that conversion parity alone would not catch: parity tests use one
configuration and full-length or right-padded batches, while a training run meets every mix of
sharing, causality, padding amount and precision.
"""
import pytest
import torch
import torch.nn.functional as F

from fairseq_plugins.data import VocabDictionary
from fairseq_plugins.models.bert_plugin import BertPluginConfig, BertPluginEncoder
from fairseq_plugins.modules import (MaskedLMHead, SelfAttention, TransformerEmbeddings, TransformerEncoderCore,
                                     TransformerLayer)

PAD = 1
VOCAB = 50
HIDDEN = 16


def make_core(num_layers=3, groups=None, causal=False, normalize_before=False, padding_offset_positions=False,
              hidden=HIDDEN, heads=2, seed=0):
    """A dropout-free core with non-trivial LayerNorm parameters (so a skipped norm shows)."""
    torch.manual_seed(seed)
    embeddings = TransformerEmbeddings(VOCAB, hidden, hidden, padding_idx=PAD, max_positions=40,
                                       padding_offset_positions=padding_offset_positions, dropout=0.0)
    core = TransformerEncoderCore(
        embeddings,
        lambda: TransformerLayer(hidden, 2 * hidden, heads, F.gelu, dropout=0.0, attention_dropout=0.0,
                                 normalize_before=normalize_before),
        num_layers=num_layers, hidden_dim=hidden, num_layer_groups=groups, normalize_before=normalize_before,
        causal=causal)
    with torch.no_grad():
        for name, p in core.named_parameters():
            if "norm" in name:
                p.normal_(mean=1.0 if name.endswith("weight") else 0.0, std=0.3)
    return core.eval()


def random_tokens(batch, length, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(PAD + 1, VOCAB, (batch, length), generator=g)


def right_pad(tokens, lengths, total=None):
    total = total or tokens.size(1)
    out = torch.full((tokens.size(0), total), PAD, dtype=torch.long)
    for i, n in enumerate(lengths):
        out[i, :n] = tokens[i, :n]
    return out


# ---- ALBERT-style sharing -----------------------------------------------------------------------

def test_one_group_is_one_parameter_set_applied_to_every_layer():
    core = make_core(num_layers=4, groups=1)
    single = make_core(num_layers=1)
    assert len(core.layers) == 1
    assert sum(p.numel() for p in core.parameters()) == sum(p.numel() for p in single.parameters())

    tokens = random_tokens(2, 7)
    with torch.no_grad():
        states = core(tokens)
        assert len(states) == 5
        for i in range(4):  # every layer is the one shared layer applied to the previous state
            torch.testing.assert_close(states[i + 1], core.layers[0](states[i]))
        core.layers[0].fc1.weight.mul_(1.5)  # (a constant shift would vanish in the LayerNorm)
        changed = core(tokens)
    for i in range(1, 5):
        assert (changed[i] - states[i]).abs().max() > 1e-3, f"layer {i} did not use the shared weights"
    torch.testing.assert_close(changed[0], states[0])


def test_groups_share_consecutive_layers_as_albert_does():
    """ALBERT: layer i uses group int(i / (layers / groups)); 4 layers, 2 groups -> 0, 0, 1, 1."""
    core = make_core(num_layers=4, groups=2)
    groups = [[g for g, layer in enumerate(core.layers) if layer is core.layer(i)] for i in range(4)]
    assert groups == [[0], [0], [1], [1]]


def test_model_config_builds_shared_layers():
    """``--encoder-layer-groups 1`` reaches the core: the state dict holds one layer, not four."""
    dictionary = VocabDictionary(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(20)])
    cfg = BertPluginConfig(encoder_layers=4, encoder_layer_groups=1, encoder_embed_dim=16,
                           encoder_ffn_embed_dim=32, encoder_attention_heads=2, embedding_dim=8, max_positions=20)
    encoder = BertPluginEncoder(cfg, dictionary)
    layer_keys = {k.split(".")[2] for k in encoder.state_dict() if k.startswith("sentence_encoder.layers.")}
    assert layer_keys == {"0"}
    _, extra = encoder(torch.tensor([[2, 7, 8, 3]]), return_all_hiddens=True)
    assert len(extra["inner_states"]) == 5


# ---- causal mode --------------------------------------------------------------------------------

@pytest.mark.parametrize("pad_to", [None, 12], ids=["no-padding", "right-padding"])
def test_causal_output_ignores_later_tokens(pad_to):
    core = make_core(causal=True)
    length, t = 8, 4
    tokens = random_tokens(2, length)
    later = tokens.clone()
    later[:, t + 1:] = random_tokens(2, length - t - 1, seed=7)
    if pad_to:
        tokens, later = right_pad(tokens, [length, length - 2], pad_to), right_pad(later, [length, length - 2], pad_to)
    with torch.no_grad():
        before, after = core(tokens), core(later)
    for layer, (a, b) in enumerate(zip(before, after)):
        torch.testing.assert_close(a[:, :t + 1], b[:, :t + 1], msg=f"layer {layer} saw a later token")
        assert (a[0, t + 1:] - b[0, t + 1:]).abs().max() > 1e-4  # the change itself is visible later on


def test_causal_padding_equals_unpadded():
    """The masked path (padding) and the is_causal path (no padding) compute the same thing."""
    core = make_core(causal=True)
    tokens = random_tokens(1, 6)
    with torch.no_grad():
        plain = core(tokens)[-1]
        padded = core(right_pad(tokens, [6], 10))[-1]
    torch.testing.assert_close(padded[:, :6], plain)


# ---- padding ------------------------------------------------------------------------------------

@pytest.mark.parametrize("roberta_positions", [False, True], ids=["bert-positions", "roberta-positions"])
def test_real_positions_do_not_depend_on_padding(roberta_positions):
    core = make_core(padding_offset_positions=roberta_positions)
    lengths = [9, 5, 2]
    tokens = random_tokens(3, 9)
    with torch.no_grad():
        alone = [core(tokens[i:i + 1, :n]) for i, n in enumerate(lengths)]  # no padding at all
        for total in (9, 13, 30):
            batch = right_pad(tokens, lengths, total)
            states = core(batch)
            for i, n in enumerate(lengths):
                for layer in range(len(states)):
                    torch.testing.assert_close(states[layer][i, :n], alone[i][layer][0],
                                               msg=f"row {i}, layer {layer}, padded to {total}")

        # What sits in padded positions (the pad embedding row, segment ids there) is never read.
        batch = right_pad(tokens, lengths, 13)
        reference = core(batch)[-1]
        segments = torch.zeros_like(batch).masked_fill(batch.eq(PAD), 1)
        core.embeddings.embed_tokens.weight[PAD].normal_()
        perturbed = core(batch, segments)[-1]
    real = batch.ne(PAD)
    torch.testing.assert_close(perturbed[real], reference[real])


# ---- positions ----------------------------------------------------------------------------------

def test_roberta_positions_match_hand_computed_case():
    """HF's create_position_ids_from_input_ids: non-pads count from padding_idx + 1, pads get padding_idx."""
    embeddings = TransformerEmbeddings(VOCAB, 8, 8, padding_idx=PAD, max_positions=10, padding_offset_positions=True)
    tokens = torch.tensor([[0, 5, 6, 2, PAD, PAD],
                           [PAD, PAD, 0, 7, 2, PAD],   # left padding: counting starts at the first real token
                           [0, 5, 6, 7, 8, 2]])
    expected = torch.tensor([[2, 3, 4, 5, 1, 1],
                             [1, 1, 2, 3, 4, 1],
                             [2, 3, 4, 5, 6, 7]])
    assert torch.equal(embeddings.positions(tokens), expected)
    # Learned positions: max_positions real ones plus the padding_idx + 1 rows below them.
    assert embeddings.embed_positions.num_embeddings == 10 + PAD + 1

    transformers = pytest.importorskip("transformers")
    reference = transformers.models.roberta.modeling_roberta.RobertaEmbeddings.create_position_ids_from_input_ids
    assert torch.equal(reference(tokens, PAD), expected)


def test_bert_positions_count_from_zero():
    embeddings = TransformerEmbeddings(VOCAB, 8, 8, padding_idx=PAD, max_positions=10)
    tokens = torch.tensor([[0, 5, 2, PAD]])
    assert embeddings.positions(tokens).tolist() == [[0, 1, 2, 3]]


# ---- pre-LN, hidden states ----------------------------------------------------------------------

def test_pre_ln_applies_final_layer_norm_to_last_state_only():
    core = make_core(num_layers=2, normalize_before=True)
    assert core.final_layer_norm is not None
    tokens = random_tokens(2, 5)
    with torch.no_grad():
        states = core(tokens)
        last_layer_output = core.layer(1)(states[1])
        torch.testing.assert_close(states[-1], core.final_layer_norm(last_layer_output))
        assert (states[-1] - last_layer_output).abs().max() > 1e-2
    assert make_core(normalize_before=False).final_layer_norm is None


def test_all_hidden_states_are_returned():
    core = make_core(num_layers=3)
    tokens = random_tokens(2, 6)
    with torch.no_grad():
        states = core(tokens)
        assert len(states) == 3 + 1
        torch.testing.assert_close(states[0], core.embeddings(tokens))
        assert all(s.shape == (2, 6, HIDDEN) for s in states)


# ---- bad configuration --------------------------------------------------------------------------

@pytest.mark.parametrize("layers, groups", [(4, 3), (2, 3), (3, -1)])
def test_layers_not_divisible_by_groups_is_refused(layers, groups):
    with pytest.raises(ValueError, match=rf"{layers} layers cannot be split into"):
        make_core(num_layers=layers, groups=groups)


def test_hidden_not_divisible_by_heads_is_refused():
    with pytest.raises(ValueError, match="hidden size 30 is not a multiple of 4 attention heads"):
        SelfAttention(30, 4)
    with pytest.raises(ValueError, match="not a multiple of"):
        make_core(hidden=18, heads=4)


# ---- mixed precision ----------------------------------------------------------------------------

@pytest.mark.parametrize("causal", [False, True], ids=["bidirectional", "causal"])
def test_bf16_autocast_forward_backward_on_cpu(causal):
    core = make_core(causal=causal).train()
    head = MaskedLMHead(HIDDEN, HIDDEN, VOCAB, F.gelu, weight=core.embeddings.embed_tokens.weight)
    tokens = right_pad(random_tokens(3, 10), [10, 6, 3])
    dtypes = []
    core.layers[0].self_attn.register_forward_hook(lambda module, args, out: dtypes.append(out.dtype))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = head(core(tokens)[-1])
        loss = F.cross_entropy(logits.float().view(-1, VOCAB), tokens.view(-1), ignore_index=PAD)
    loss.backward()
    assert dtypes and set(dtypes) == {torch.bfloat16}  # autocast really ran attention in bf16
    assert torch.isfinite(loss)
    grads = [p.grad for p in list(core.parameters()) + list(head.parameters()) if p.grad is not None]
    assert grads and all(torch.isfinite(g).all() for g in grads)
    assert core.layers[0].self_attn.in_proj.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("mask_kind", ["none", "bool", "additive"])
def test_cpu_training_attention_is_sdpa_math(mask_kind):
    """With dropout on a CPU, SelfAttention does the softmax itself (SDPA's fused CPU kernels take no dropout):
    at p=0 the two are the same function, in values and gradients; in training its dropout really drops."""
    from fairseq_plugins.modules.transformer_layer import SelfAttention, softmax_attention

    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, 5, 4, requires_grad=True) for _ in range(3))
    keep = torch.tensor([[True] * 5, [True, True, True, False, False]])[:, None, None, :]
    mask = {"none": None, "bool": keep, "additive": torch.zeros(keep.shape).masked_fill(~keep, float("-inf"))}[mask_kind]
    ours = softmax_attention(q @ k.transpose(-1, -2) / 2.0, v, mask, 0.0, True)
    reference = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    torch.testing.assert_close(ours, reference, atol=1e-6, rtol=1e-5)
    grads = torch.autograd.grad(ours.sum(), (q, k, v))
    for a, b in zip(grads, torch.autograd.grad(reference.sum(), (q, k, v))):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)

    attention = SelfAttention(8, 2, dropout=0.5).train()
    x = torch.randn(2, 5, 8)
    assert not torch.equal(attention(x), attention(x))  # dropout applied
    assert torch.equal(attention.eval()(x), attention(x))
