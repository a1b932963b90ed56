"""UER-py .bin and Hugging Face GPT-2 conversion: parity with transformers, round trips, bad input."""
import json
import os
import sys

import pytest
import torch

transformers = pytest.importorskip("transformers")

from fairseq_plugins.conversion import fairseq_to_uer, hf_to_fairseq, uer_to_fairseq  # noqa: E402
from fairseq_plugins.conversion.fairseq_checkpoint import load_checkpoint  # noqa: E402
from fairseq_plugins.conversion.gpt2 import PAD_LOGIT_BIAS  # noqa: E402
from fairseq_plugins.conversion.state_tables import export_state  # noqa: E402
from fairseq_plugins.conversion.uer_checkpoint import uer_name_map  # noqa: E402
from fairseq_plugins.data import VocabDictionary  # noqa: E402
from fairseq_plugins.errors import InputError  # noqa: E402
from fairseq_plugins.models.uer import UerConfig, UerModel, resolve_options  # noqa: E402

from test_conversion import randomize  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(55)]
BERT_SIZES = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
                  max_position_embeddings=40, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
UER_BERT_CONFIG = dict(emb_size=32, hidden_size=32, feedforward_size=48, heads_num=4, layers_num=2,
                       max_seq_length=40, dropout=0.0, hidden_act="gelu", embedding=["word", "pos", "seg"],
                       encoder="transformer", mask="fully_visible")


def hf_bert_to_uer(hf, names):
    """UER-py's own BERT mapping (scripts/convert_bert_from_huggingface_to_uer.py), written out here
    independently of the converter: the reference the parity test checks it against."""
    old = names == "old"
    out = {}
    e = "bert.embeddings."
    out["embedding.word_embedding.weight" if old else "embedding.word.embedding.weight"] = \
        hf[f"{e}word_embeddings.weight"]
    out["embedding.position_embedding.weight" if old else "embedding.pos.embedding.weight"] = \
        hf[f"{e}position_embeddings.weight"]
    types = hf[f"{e}token_type_embeddings.weight"]  # UER's segment 0 is padding
    out["embedding.segment_embedding.weight" if old else "embedding.seg.embedding.weight"] = \
        torch.cat([torch.zeros(1, types.size(1)), types])
    out["embedding.layer_norm.gamma"] = hf[f"{e}LayerNorm.weight"]
    out["embedding.layer_norm.beta"] = hf[f"{e}LayerNorm.bias"]
    for i in range(BERT_SIZES["num_hidden_layers"]):
        u, h = f"encoder.transformer.{i}.", f"bert.encoder.layer.{i}."
        for p in ("weight", "bias"):
            for j, q in enumerate(("query", "key", "value")):
                out[f"{u}self_attn.linear_layers.{j}.{p}"] = hf[f"{h}attention.self.{q}.{p}"]
            out[f"{u}self_attn.final_linear.{p}"] = hf[f"{h}attention.output.dense.{p}"]
            out[f"{u}feed_forward.linear_1.{p}"] = hf[f"{h}intermediate.dense.{p}"]
            out[f"{u}feed_forward.linear_2.{p}"] = hf[f"{h}output.dense.{p}"]
        for p, q in (("weight", "gamma"), ("bias", "beta")):
            out[f"{u}layer_norm_1.{q}"] = hf[f"{h}attention.output.LayerNorm.{p}"]
            out[f"{u}layer_norm_2.{q}"] = hf[f"{h}output.LayerNorm.{p}"]
    sp, mlm1, mlm2, norm = (("target.nsp_linear_", "target.mlm_linear_1", "target.mlm_linear_2", "target.layer_norm")
                            if old else ("target.sp.linear_", "target.mlm.linear_1", "target.mlm.linear_2",
                                         "target.mlm.layer_norm"))
    for p in ("weight", "bias"):
        out[f"{sp}1.{p}"] = hf[f"bert.pooler.dense.{p}"]
        out[f"{sp}2.{p}"] = hf[f"cls.seq_relationship.{p}"]
        out[f"{mlm1}.{p}"] = hf[f"cls.predictions.transform.dense.{p}"]
    out[f"{norm}.gamma"] = hf["cls.predictions.transform.LayerNorm.weight"]
    out[f"{norm}.beta"] = hf["cls.predictions.transform.LayerNorm.bias"]
    out[f"{mlm2}.weight"], out[f"{mlm2}.bias"] = hf["cls.predictions.decoder.weight"], hf["cls.predictions.bias"]
    return {k: v.clone() for k, v in out.items()}


@pytest.fixture(scope="module")
def hf_bert():
    config = transformers.BertConfig(vocab_size=len(VOCAB), layer_norm_eps=1e-6, hidden_act="gelu", **BERT_SIZES)
    return randomize(transformers.BertForPreTraining(config))


def write_files(folder, state, config=None):
    os.makedirs(folder, exist_ok=True)
    torch.save(state, os.path.join(folder, "model.bin"))
    with open(os.path.join(folder, "vocab.txt"), "w") as f:
        f.write("\n".join(VOCAB) + "\n")
    if config is not None:
        with open(os.path.join(folder, "config.json"), "w") as f:
            json.dump(config, f)
    return [os.path.join(folder, n) for n in ("model.bin", "vocab.txt", "config.json")]


def load_ours(out_dir):
    _, _, model = load_checkpoint(os.path.join(out_dir, "model.pt"), arg_overrides={"data": str(out_dir)})
    return model.eval()


def bert_inputs():
    """(tokens, mask, token types) of 3 sentence pairs, two of them padded."""
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(5, len(VOCAB), (3, 12), generator=g)
    types = torch.zeros_like(tokens)
    types[:, 6:] = 1
    mask = torch.ones_like(tokens, dtype=torch.bool)
    mask[1, 8:], mask[2, 4:] = False, False
    tokens[~mask] = 0
    return tokens, mask, types


def test_uer_bert_parity_with_transformers_and_old_names(tmp_path, hf_bert):
    """UER-named BERT weights (mapped from transformers' as UER-py maps them) give transformers' outputs."""
    models = {}
    for names in ("new", "old"):
        uer_bin, vocab, config = write_files(tmp_path / names, hf_bert_to_uer(hf_bert.state_dict(), names),
                                             UER_BERT_CONFIG)
        report = uer_to_fairseq(uer_bin, str(tmp_path / f"fs_{names}"), vocab, config_path=config)
        assert report.initialised == [] and report.unused == []
        assert "--uer-config" in report.train_flags and report.train_flags[-1] == "uer_bert"  # target from the .bin
        models[names] = load_ours(tmp_path / f"fs_{names}")
    a, b = (m.state_dict() for m in models.values())
    assert all(torch.equal(a[k], b[k]) for k in a)
    model = models["new"]
    assert model.cfg.target == "bert"

    tokens, mask, types = bert_inputs()
    segments = (types + 1) * mask  # UER: 1 and 2 for the sentences, 0 for padding
    with torch.no_grad():
        ref = hf_bert(input_ids=tokens, attention_mask=mask.long(), token_type_ids=types, output_hidden_states=True)
        states = model.body(tokens, segments)
        out = model(tokens, segment_labels=segments)
    assert (states - ref.hidden_states[-1])[mask].abs().max() <= 1e-5
    assert (out["mlm"] - ref.prediction_logits)[mask].abs().max() <= 1e-4
    assert (out["sp"] - ref.seq_relationship_logits).abs().max() <= 1e-5


def random_uer_state(options, names="new", drop=()):
    """A UER-named state dict from a randomly initialised model of these options."""
    torch.manual_seed(3)
    model = UerModel(UerConfig(**options), VocabDictionary(VOCAB))
    randomize(model)
    state = export_state(model.state_dict(), uer_name_map(options, names, model.state_dict().keys()))
    return {k: v for k, v in state.items() if k not in drop}


ROUND_TRIPS = {
    "albert_shared_factorized_old_names": (dict(emb_size=16, hidden_size=32, feedforward_size=48, heads_num=4,
                                                 layers_num=3, max_seq_length=40, dropout=0.0, encoder="transformer",
                                                 embedding=["word", "pos", "seg"], target=["mlm", "sp"],
                                                 data_processor="albert", parameter_sharing=True), "old", ()),
    "gpt_pre_ln_tied_lm_without_bias": (dict(emb_size=32, hidden_size=32, feedforward_size=48, heads_num=4,
                                             layers_num=2, max_seq_length=40, dropout=0.0, encoder="transformer",
                                             mask="causal", layernorm_positioning="pre", embedding=["word", "pos"],
                                             remove_embedding_layernorm=True, tie_weights=True, target=["lm"]),
                                        "new", ("target.lm.output_layer.bias",)),
    "lstm_lm": (dict(emb_size=16, hidden_size=24, layers_num=2, dropout=0.0, encoder="lstm", embedding=["word"],
                     remove_embedding_layernorm=True, target=["lm"]), "new", ()),
}


@pytest.mark.parametrize("case", ROUND_TRIPS)
def test_round_trip_uer_ours_uer(tmp_path, case):
    config, names, drop = ROUND_TRIPS[case]
    uer_bin, vocab, config_path = write_files(tmp_path / "uer", {}, config)
    options = resolve_options("uer_bert_base", config_path)
    options.pop("uer_config")
    source = random_uer_state(options, names, drop)
    torch.save(source, uer_bin)
    report = uer_to_fairseq(uer_bin, str(tmp_path / "fs"), vocab, config_path=config_path)
    assert report.initialised == [f"{d.replace('target.lm.output_layer', 'lm_output')} (zeros: the checkpoint's "
                                  "LM output has no bias)" for d in drop]
    fairseq_to_uer(str(tmp_path / "fs" / "model.pt"), str(tmp_path / "back" / "model.bin"), names=names)
    back = torch.load(tmp_path / "back" / "model.bin")
    assert set(back) == set(source) | set(drop)
    assert all(torch.equal(back[k], source[k]) for k in source)
    assert all(not back[k].any() for k in drop)
    # The config written beside it rebuilds the same model, and so does the vocabulary.
    assert (tmp_path / "back" / "model_vocab.txt").read_text().split() == VOCAB
    uer_to_fairseq(tmp_path / "back" / "model.bin", str(tmp_path / "fs2"), tmp_path / "back" / "model_vocab.txt",
                   config_path=tmp_path / "back" / "model_config.json")
    a, b = load_ours(tmp_path / "fs").state_dict(), load_ours(tmp_path / "fs2").state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_config_disagreeing_with_checkpoint_names_parameter_and_shapes(tmp_path, hf_bert):
    state = hf_bert_to_uer(hf_bert.state_dict(), "new")
    uer_bin, vocab, config = write_files(tmp_path, state, {**UER_BERT_CONFIG, "feedforward_size": 64})
    with pytest.raises(InputError, match=r"encoder\.transformer\.0\.feed_forward\.linear_1\.weight: shape \(48, 32\) "
                                         r"in the checkpoint, but the configuration gives \(64, 32\)"):
        uer_to_fairseq(uer_bin, str(tmp_path / "fs"), vocab, config_path=config)
    with open(vocab, "a") as f:
        f.write("extra\n")
    with pytest.raises(InputError, match=r"vocab\.txt: 61 tokens, but the checkpoint's "
                                         r"embedding\.word\.embedding\.weight has 60 rows"):
        uer_to_fairseq(uer_bin, str(tmp_path / "fs"), vocab, config_path=config)


def test_missing_heads_are_initialised_and_reported_encoder_tensors_are_required(tmp_path, hf_bert):
    state = {k: v for k, v in hf_bert_to_uer(hf_bert.state_dict(), "new").items() if not k.startswith("target.sp.")}
    uer_bin, vocab, config = write_files(tmp_path, state, UER_BERT_CONFIG)
    report = uer_to_fairseq(uer_bin, str(tmp_path / "mlm"), vocab, config_path=config)
    assert report.train_flags[-1] == "uer_mlm" and report.initialised == []  # target read from the checkpoint
    report = uer_to_fairseq(uer_bin, str(tmp_path / "bert"), vocab, config_path=config, options={"target": "bert"})
    assert sorted(report.initialised) == ["sp_output.bias", "sp_output.weight", "sp_pooler.dense.bias",
                                          "sp_pooler.dense.weight"]
    del state["encoder.transformer.1.self_attn.linear_layers.2.bias"]
    torch.save(state, uer_bin)
    with pytest.raises(InputError, match=r"transformer\.1\.self_attn\.linear_layers\.2\.bias: tensor not found"):
        uer_to_fairseq(uer_bin, str(tmp_path / "bad"), vocab, config_path=config)


def test_conversion_scripts(tmp_path, hf_bert, capsys):
    sys.path.insert(0, os.path.join(REPO, "scripts"))
    try:
        import convert_fairseq_to_uer
        import convert_uer_to_fairseq
    finally:
        sys.path.pop(0)
    uer_bin, vocab, config = write_files(tmp_path, hf_bert_to_uer(hf_bert.state_dict(), "old"), UER_BERT_CONFIG)
    convert_uer_to_fairseq.main(["--input-model-path", uer_bin, "--vocab-path", vocab, "--config-path", config,
                                 "--out-dir", str(tmp_path / "fs")])
    assert "train with: --arch uer_bert_base --uer-config" in capsys.readouterr().out
    convert_fairseq_to_uer.main(["--checkpoint", str(tmp_path / "fs" / "model.pt"),
                                 "--output-model-path", str(tmp_path / "back.bin"), "--names", "old"])
    back = torch.load(tmp_path / "back.bin")
    source = torch.load(uer_bin)
    assert back.keys() == source.keys() and all(torch.equal(back[k], source[k]) for k in source)
    with pytest.raises(SystemExit, match="checkpoint not found"):
        convert_fairseq_to_uer.main(["--checkpoint", str(tmp_path / "none.pt"), "--output-model-path", "x.bin"])


# --------------------------------------------------------------------------- Hugging Face GPT-2

def write_gpt2(folder, vocab_size=50, **sizes):
    config = transformers.GPT2Config(vocab_size=vocab_size, n_positions=24, n_embd=32, n_layer=2, n_head=4,
                                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                                     bos_token_id=vocab_size - 1, eos_token_id=vocab_size - 1, **sizes)
    model = randomize(transformers.GPT2LMHeadModel(config))
    model.save_pretrained(folder)
    tokens = [f"t{i}" for i in range(vocab_size - 1)] + ["<|endoftext|>"]  # GPT-2 ends with its one special
    with open(os.path.join(folder, "vocab.json"), "w") as f:
        json.dump({t: i for i, t in enumerate(tokens)}, f)
    with open(os.path.join(folder, "merges.txt"), "w") as f:
        f.write("#version: 0.2\nt 0\n")
    return model


def test_gpt2_parity_with_transformers(tmp_path):
    hf = write_gpt2(tmp_path / "hf", n_inner=40)
    report = hf_to_fairseq(str(tmp_path / "hf"), str(tmp_path / "fs"))  # dispatches on model_type
    assert report.model_type == "gpt2" and report.unused == []
    assert report.initialised == [f"<pad> (id 50: zero embedding, output bias {PAD_LOGIT_BIAS:g})"]
    assert (tmp_path / "fs" / "merges.txt").is_file()
    model = load_ours(tmp_path / "fs")
    dictionary = VocabDictionary.load(tmp_path / "fs" / "dict.txt")
    assert dictionary.pad() == 50 and dictionary.eos() == dictionary.bos() == 49  # <|endoftext|>
    tokens = torch.randint(0, 50, (2, 17), generator=torch.Generator().manual_seed(0))
    tokens[0, 0] = 49
    with torch.no_grad():
        ref = hf(input_ids=tokens, output_hidden_states=True)
        states = model.body(tokens)
        logits = model(tokens)["lm"]
    assert (states - ref.hidden_states[-1]).abs().max() <= 1e-5
    assert (logits[..., :50] - ref.logits).abs().max() <= 1e-5
    # The appended padding row takes no probability mass: GPT-2's distribution is unchanged.
    assert (logits.log_softmax(-1)[..., :50] - ref.logits.log_softmax(-1)).abs().max() <= 1e-5


def test_gpt2_unsupported_settings_are_refused(tmp_path):
    write_gpt2(tmp_path / "hf", scale_attn_by_inverse_layer_idx=True)
    with pytest.raises(InputError, match="scale_attn_by_inverse_layer_idx=True is not supported"):
        hf_to_fairseq(str(tmp_path / "hf"), str(tmp_path / "fs"))
