"""LUKE: parity with transformers.LukeModel, conversion both ways, entity-aware attention, LUKE-lite."""
import json
import os

import pytest
import torch
import torch.nn.functional as F

from test_conversion import randomize
from fairseq_plugins.conversion.fairseq_checkpoint import load_checkpoint
from fairseq_plugins.conversion.luke import luke_fairseq_to_hf, luke_hf_to_fairseq
from fairseq_plugins.errors import InputError
from fairseq_plugins.modules.entity_aware_attention import EntityAwareSelfAttention
from fairseq_plugins.modules.entity_embeddings import EntityEmbeddings

transformers = pytest.importorskip("transformers")

SMALL = dict(hidden_size=48, num_hidden_layers=3, num_attention_heads=4, intermediate_size=80,
             max_position_embeddings=42, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
             layer_norm_eps=1e-5, pad_token_id=1, type_vocab_size=2, vocab_size=62, entity_vocab_size=9,
             entity_emb_size=20)
# [PAD] deliberately not at id 0, as in Hugging Face's LUKE-lite vocabulary.
ENTITY_VOCAB = {"[MASK]": 0, "[UNK]": 1, "[PAD]": 2, "[MASK2]": 3, "Japan": 4, "Tokyo": 5, "Kyoto": 6,
                "Osaka": 7, "Nara": 8}
ENTITY_PAD = 2


def save_luke(model, path, drop_entity_queries=False):
    model.save_pretrained(path)
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    tokens = specials + [f"w{i}" for i in range(SMALL["vocab_size"] - len(specials) - 3)] + ["<mask>"]
    with open(os.path.join(path, "vocab.json"), "w") as f:
        json.dump({t: i for i, t in enumerate(tokens)}, f)
    with open(os.path.join(path, "added_tokens.json"), "w") as f:
        json.dump({"<ent>": len(tokens), "<ent2>": len(tokens) + 1}, f)
    with open(os.path.join(path, "entity_vocab.json"), "w") as f:
        json.dump(ENTITY_VOCAB, f)
    if drop_entity_queries:
        from safetensors.torch import load_file, save_file

        weights = load_file(os.path.join(path, "model.safetensors"))
        save_file({k: v for k, v in weights.items() if "2e_query" not in k and "2w_query" not in k},
                  os.path.join(path, "model.safetensors"))
    return str(path)


def inputs():
    """Right-padded words, entities with padding rows, multi-word mentions and -1 padded positions."""
    g = torch.Generator().manual_seed(0)
    lengths = (12, 8, 4)
    tokens = torch.full((3, 12), 1, dtype=torch.long)
    for i, n in enumerate(lengths):
        tokens[i, :n] = torch.randint(4, 55, (n,), generator=g)
        tokens[i, 0], tokens[i, n - 1] = 0, 2
    entity_ids = torch.tensor([[4, 0, 7, 5], [8, 3, ENTITY_PAD, ENTITY_PAD], [6, ENTITY_PAD, ENTITY_PAD, ENTITY_PAD]])
    positions = torch.full((3, 4, 3), -1, dtype=torch.long)
    for b, rows in enumerate([[(1, 3), (4, 5), (2, 4), (9, 11)], [(1, 2), (3, 6)], [(1, 3)]]):
        for e, (s, t) in enumerate(rows):
            positions[b, e, :t - s] = torch.arange(s, t)
    types = torch.zeros_like(tokens)
    types[0, 6:12] = 1
    entity_types = torch.tensor([[0, 1, 0, 1], [1, 0, 0, 0], [0, 0, 0, 0]])
    return tokens, types, entity_ids, positions, entity_types


def hf_outputs(hf, tokens, types, entity_ids, positions, entity_types):
    with torch.no_grad():
        return hf(input_ids=tokens, attention_mask=tokens.ne(1).long(), token_type_ids=types, entity_ids=entity_ids,
                  entity_attention_mask=entity_ids.ne(ENTITY_PAD).long(), entity_position_ids=positions,
                  entity_token_type_ids=entity_types, output_hidden_states=True)


def our_outputs(model, tokens, types, entity_ids, positions, entity_types):
    with torch.no_grad():
        return model(tokens, features_only=True, return_all_hiddens=True, segment_labels=types,
                     entity_ids=entity_ids, entity_positions=positions, entity_segments=entity_types)


def load(out_dir):
    return load_checkpoint(os.path.join(out_dir, "model.pt"), arg_overrides={"data": str(out_dir)})[2].eval()


def assert_parity(ref, ours, tokens, entity_ids, atol=1e-5):
    _, extra = ours
    words, entities = tokens.ne(1), entity_ids.ne(ENTITY_PAD)
    assert len(ref.hidden_states) == len(extra["inner_states"]) == len(extra["entity_inner_states"])
    for layer, (a, b) in enumerate(zip(ref.hidden_states, extra["inner_states"])):
        assert (a - b)[words].abs().max() <= atol, f"words, layer {layer}"
    for layer, (a, b) in enumerate(zip(ref.entity_hidden_states, extra["entity_inner_states"])):
        assert (a - b)[entities].abs().max() <= atol, f"entities, layer {layer}"


@pytest.mark.parametrize("aware", [True, False])
def test_hidden_state_parity_with_transformers(tmp_path, aware):
    config = transformers.LukeConfig(use_entity_aware_attention=aware, **SMALL)
    hf = randomize(transformers.LukeModel(config))
    report = luke_hf_to_fairseq(save_luke(hf, tmp_path / "hf"), str(tmp_path / "fs"))
    assert report.unused == []
    model = load(tmp_path / "fs")
    assert model.args.entity_padding_idx == ENTITY_PAD and model.args.no_entity_aware_attention is not aware
    batch = inputs()
    assert_parity(hf_outputs(hf, *batch), our_outputs(model, *batch), batch[0], batch[2])
    # Without entities LUKE is its word encoder alone.
    with torch.no_grad():
        ref = hf(input_ids=batch[0], attention_mask=batch[0].ne(1).long(), token_type_ids=batch[1])
        words, extra = model(batch[0], features_only=True, segment_labels=batch[1])
    assert extra["entity_states"] is None
    assert (ref.last_hidden_state - words)[batch[0].ne(1)].abs().max() <= 1e-5


def test_round_trip_is_exact(tmp_path):
    hf = randomize(transformers.LukeModel(transformers.LukeConfig(**SMALL)))
    luke_hf_to_fairseq(save_luke(hf, tmp_path / "hf"), str(tmp_path / "fs"))
    luke_fairseq_to_hf(str(tmp_path / "fs" / "model.pt"), str(tmp_path / "back"))
    again = transformers.LukeModel.from_pretrained(tmp_path / "back")
    original = hf.state_dict()
    for name, tensor in again.state_dict().items():
        assert torch.equal(tensor, original[name]), name
    assert json.load(open(tmp_path / "back" / "entity_vocab.json")) == ENTITY_VOCAB
    assert json.load(open(tmp_path / "back" / "added_tokens.json")) == {"<ent>": 60, "<ent2>": 61}


def test_released_checkpoint_without_entity_queries_copies_the_word_query(tmp_path):
    """LUKE is pre-trained with plain attention: w2e/e2w/e2e start as the word query, under a ``luke.`` prefix."""
    config = transformers.LukeConfig(use_entity_aware_attention=False, **SMALL)
    hf = randomize(transformers.LukeForMaskedLM(config))
    report = luke_hf_to_fairseq(save_luke(hf, tmp_path / "hf"), str(tmp_path / "fs"), entity_aware_attention=True)
    model = load(tmp_path / "fs")
    assert not model.args.no_entity_aware_attention
    assert sum("2e_query" in n or "2w_query" in n for n in report.initialised) == 3 * 2 * 3
    state = model.state_dict()
    for i in range(3):
        fused = state[f"encoder.sentence_encoder.layers.{i}.self_attn.in_proj.weight"]
        extra = state[f"encoder.sentence_encoder.layers.{i}.self_attn.entity_in_proj.weight"]
        assert all(torch.equal(part, fused[:48]) for part in extra.chunk(3))
    # With every query equal to the word query, entity-aware attention is plain attention: outputs match.
    batch = inputs()
    assert_parity(hf_outputs(hf.luke, *batch), our_outputs(model, *batch), batch[0], batch[2])


def test_bert_folder_becomes_luke_lite(tmp_path):
    config = transformers.BertConfig(vocab_size=40, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=40, max_position_embeddings=30)
    hf = transformers.BertModel(config).eval()
    hf.save_pretrained(tmp_path / "hf")
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(35)]
    (tmp_path / "hf" / "vocab.txt").write_text("\n".join(tokens) + "\n")
    report = luke_hf_to_fairseq(str(tmp_path / "hf"), str(tmp_path / "fs"))
    assert any("entity_embeddings" in n for n in report.initialised)
    model = load(tmp_path / "fs")
    assert model.args.entity_vocab_size == 4 and model.args.entity_padding_idx == 2
    words = torch.tensor([[2, 7, 8, 9, 3]])
    with torch.no_grad():
        ref = hf(input_ids=words).last_hidden_state
        ours, extra = model(words, features_only=True, entity_ids=torch.tensor([[0]]),
                            entity_positions=torch.tensor([[[1, 2]]]))
        alone, _ = model(words, features_only=True)
    assert torch.allclose(ref, alone, atol=1e-5)
    assert extra["entity_states"].shape == (1, 1, 32) and not torch.allclose(ours, alone)
    with pytest.raises(InputError, match="no LukeModel equivalent"):
        luke_fairseq_to_hf(str(tmp_path / "fs" / "model.pt"), str(tmp_path / "back"))


def test_bad_folders(tmp_path):
    hf = transformers.LukeModel(transformers.LukeConfig(**SMALL))
    path = save_luke(hf, tmp_path / "hf")
    os.remove(os.path.join(path, "entity_vocab.json"))
    with pytest.raises(InputError, match="no entity vocabulary"):
        luke_hf_to_fairseq(path, str(tmp_path / "out"))
    with open(os.path.join(path, "entity_vocab.json"), "w") as f:
        json.dump({"[PAD]": 0, "[UNK]": 1, "[MASK]": 2}, f)
    with pytest.raises(InputError, match="3 entities, but config.json says entity_vocab_size 9"):
        luke_hf_to_fairseq(path, str(tmp_path / "out"))


# ---- modules ------------------------------------------------------------------------------------------

def test_entity_position_is_the_mean_of_word_positions():
    emb = EntityEmbeddings(5, 4, 6, max_positions=10, num_segments=1, padding_idx=0, dropout=0.0)
    positions = torch.tensor([[[2, 3, 7], [4, -1, -1], [-1, -1, -1]]])
    got = emb.span_positions(positions)[0]
    table = emb.embed_positions.weight
    assert torch.allclose(got[0], table[[2, 3, 7]].mean(0))
    assert torch.allclose(got[1], table[4])
    assert torch.equal(got[2], torch.zeros(6))


def test_block_query_attention_equals_four_separate_score_blocks():
    """The one SDPA call over the block-built query reproduces LUKE's explicit w2w/w2e/e2w/e2e scores."""
    torch.manual_seed(0)
    attn = EntityAwareSelfAttention(16, 2).eval()
    x = torch.randn(2, 7, 16)
    words = 5
    mask = torch.ones(2, 1, 1, 7, dtype=torch.bool)
    mask[1, ..., 3:5] = False
    mask[1, ..., 6] = False
    got = attn(x, mask, num_words=words)

    q, k, v = (attn.split_heads(t) for t in attn.in_proj(x).chunk(3, -1))
    w2e, e2w, e2e = (attn.split_heads(t) for t in attn.entity_in_proj(x).chunk(3, -1))
    kw, ke = k[:, :, :words], k[:, :, words:]
    scores = torch.cat([
        torch.cat([q[:, :, :words] @ kw.transpose(-1, -2), w2e[:, :, :words] @ ke.transpose(-1, -2)], -1),
        torch.cat([e2w[:, :, words:] @ kw.transpose(-1, -2), e2e[:, :, words:] @ ke.transpose(-1, -2)], -1)], 2)
    scores = (scores / 8 ** 0.5).masked_fill(~mask, float("-inf"))
    expected = attn.out_proj(attn.merge_heads(F.softmax(scores, -1) @ v))
    assert torch.allclose(got, expected, atol=1e-6)
