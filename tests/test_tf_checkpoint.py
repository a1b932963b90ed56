"""TensorFlow checkpoints without TensorFlow: the bundle format against a checkpoint TensorFlow wrote
(tests/fixtures/tf_bundle, from the values of :func:`fixture_tensors`), and Google BERT export / import of our
BERT checkpoints."""
import gzip
import os
import shutil
import sys

import numpy as np
import pytest
import torch

from fairseq_plugins.conversion import tf_checkpoint
from fairseq_plugins.errors import InputError

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "tf_bundle")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def fixture_tensors():
    """The variables, in the order given to TensorFlow's SaveV2, that the fixture was written from
    (TensorFlow 2.21, ``tf.raw_ops.SaveV2``); regenerated here with numpy alone."""
    rng = np.random.RandomState(7)
    out = {"bert/embeddings/word_embeddings": rng.randn(11, 6).astype(np.float32), "global_step": np.int64(1234567)}
    for i in range(3):
        for name, shape in (("attention/self/query/kernel", (6, 6)), ("attention/self/query/bias", (6,)),
                            ("output/LayerNorm/gamma", (6,)), ("output/LayerNorm/beta", (6,)),
                            ("intermediate/dense/kernel", (6, 9)), ("intermediate/dense/bias", (9,))):
            out[f"bert/encoder/layer_{i}/{name}"] = rng.randn(*shape).astype(np.float32)
    out["cls/predictions/output_bias"] = rng.randn(11).astype(np.float32)
    out["cls/seq_relationship/output_weights"] = rng.randn(2, 6).astype(np.float32)
    out["a_scalar"] = np.float32(-2.5)
    out["empty"] = np.zeros((0, 3), np.float32)
    out["float64_matrix"] = rng.randn(2, 3)
    for i in range(140):  # ~2 KB names: a 286 KB index, more than one 256 KB data block
        out[f"long/{(i * 37) % 140:03d}/" + "x" * 2000] = np.float32(i)
    return out


def data_blocks(index_path) -> int:
    """How many data blocks a table has: the entries of its index block, found through the footer."""
    with open(index_path, "rb") as f:
        data = f.read()
    footer = data[-tf_checkpoint.FOOTER_SIZE:]
    _, pos = tf_checkpoint._read_varint(footer, 0)
    _, pos = tf_checkpoint._read_varint(footer, pos)
    offset, pos = tf_checkpoint._read_varint(footer, pos)
    size, _ = tf_checkpoint._read_varint(footer, pos)
    return len(list(tf_checkpoint._block_entries(data[offset:offset + size])))


@pytest.fixture
def reference(tmp_path):
    """The fixture checkpoint unpacked: PREFIX.index (stored gzipped, it is mostly repeated x's) and data."""
    prefix = str(tmp_path / "reference.ckpt")
    with gzip.open(os.path.join(FIXTURE, "reference.ckpt.index.gz"), "rb") as src, open(prefix + ".index", "wb") as dst:
        shutil.copyfileobj(src, dst)
    shutil.copy(os.path.join(FIXTURE, "reference.ckpt.data-00000-of-00001"), tf_checkpoint.data_path(prefix))
    return prefix


def test_crc32c():
    assert tf_checkpoint.crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    data = np.random.RandomState(0).randint(0, 256, 300_007).astype(np.uint8).tobytes()
    # the vectorised path (large buffers) against the byte-at-a-time definition
    assert tf_checkpoint.crc32c(data) == tf_checkpoint._crc_update(0xFFFFFFFF, data) ^ 0xFFFFFFFF


def test_reader_parses_tensorflow_checkpoint(reference):
    expected = fixture_tensors()
    reader = tf_checkpoint.CheckpointReader(reference)
    assert reader.names() == sorted(expected)  # the index is sorted
    assert sorted(reader.names(), key=lambda n: reader.entries[n].offset) == list(expected)  # data in given order
    got = tf_checkpoint.read_checkpoint(reference + ".index")
    for name, value in expected.items():
        assert got[name].dtype == value.dtype and got[name].shape == value.shape, name
        assert np.array_equal(got[name], value), name
    index = tf_checkpoint.read_table(reference + ".index")
    assert len(index) == len(expected) + 1 and index[0][0] == b""
    assert data_blocks(reference + ".index") == 2  # TensorFlow's 256 KB blocks: the index spans two


def test_writer_is_byte_identical_to_tensorflow(reference, tmp_path):
    prefix = str(tmp_path / "ours.ckpt")
    tf_checkpoint.write_checkpoint(prefix, fixture_tensors())
    for suffix in (".index", ".data-00000-of-00001"):
        with open(reference + suffix, "rb") as a, open(prefix + suffix, "rb") as b:
            assert a.read() == b.read(), suffix


def test_many_small_blocks_round_trip(tmp_path):
    rng = np.random.RandomState(1)
    tensors = {f"layer_{i}/w{'z' * (i % 7)}": rng.randn(i % 4 + 1, 3).astype(np.float32) for i in range(60)}
    tf_checkpoint.write_checkpoint(tmp_path / "small", tensors, block_size=128)
    assert data_blocks(tmp_path / "small.index") > 10
    back = tf_checkpoint.read_checkpoint(tmp_path / "small")
    assert list(back) == sorted(tensors) and all(np.array_equal(back[k], v) for k, v in tensors.items())
    tf_checkpoint.write_checkpoint_state(tmp_path, "small")
    assert set(tf_checkpoint.read_checkpoint(tmp_path)) == set(tensors)  # found through the checkpoint file


def test_corrupt_files_are_named(reference):
    index = reference + ".index"
    with open(index, "rb") as f:
        original = f.read()
    for position, what in ((1000, "checksum mismatch"), (len(original) - 2, "magic number")):
        broken = bytearray(original)
        broken[position] ^= 0x55
        with open(index, "wb") as f:
            f.write(bytes(broken))
        with pytest.raises(InputError, match=what) as e:
            tf_checkpoint.CheckpointReader(reference)
        assert e.value.path == index
    with open(index, "wb") as f:
        f.write(original)
    data = tf_checkpoint.data_path(reference)
    with open(data, "r+b") as f:
        f.seek(3)
        f.write(b"\xff")
    with pytest.raises(InputError, match="checksum mismatch") as e:
        tf_checkpoint.CheckpointReader(reference).tensor("bert/embeddings/word_embeddings")
    assert e.value.path == data and e.value.field == "bert/embeddings/word_embeddings"
    with pytest.raises(InputError, match="index not found"):
        tf_checkpoint.CheckpointReader(reference + "-nothing")


# ---- Google BERT ------------------------------------------------------------------------------------------------

transformers = pytest.importorskip("transformers")

from fairseq_plugins.conversion import hf_to_fairseq  # noqa: E402
from fairseq_plugins.conversion.google_bert import (fairseq_to_google, google_name, google_to_fairseq,  # noqa: E402
                                                    hf_name, uer_bin_to_google)

from test_conversion import randomize, save_hf  # noqa: E402
from test_uer_conversion import (BERT_SIZES, UER_BERT_CONFIG, VOCAB, bert_inputs, hf_bert_to_uer,  # noqa: E402
                                 load_ours, write_files)


@pytest.fixture(scope="module")
def hf_bert():
    config = transformers.BertConfig(vocab_size=len(VOCAB), layer_norm_eps=1e-6, hidden_act="gelu", **BERT_SIZES)
    return randomize(transformers.BertForPreTraining(config))


def test_names_follow_google(hf_bert):
    """Google's spelling, checked on names written out by hand, and the inverse rule on every parameter."""
    assert google_name("bert.encoder.layer.1.attention.self.query.weight") == (
        "bert/encoder/layer_1/attention/self/query/kernel", True)
    assert google_name("bert.encoder.layer.0.output.LayerNorm.bias") == ("bert/encoder/layer_0/output/LayerNorm/beta",
                                                                         False)
    assert google_name("bert.embeddings.token_type_embeddings.weight") == ("bert/embeddings/token_type_embeddings",
                                                                           False)
    assert google_name("bert.pooler.dense.weight") == ("bert/pooler/dense/kernel", True)
    assert google_name("cls.predictions.transform.LayerNorm.weight") == ("cls/predictions/transform/LayerNorm/gamma",
                                                                         False)
    assert google_name("cls.predictions.bias") == ("cls/predictions/output_bias", False)
    assert google_name("cls.seq_relationship.weight") == ("cls/seq_relationship/output_weights", False)
    for name in hf_bert.state_dict():
        assert hf_name(google_name(name)[0]) == (name, google_name(name)[1])


def test_google_export_import_round_trip_and_parity(tmp_path, hf_bert):
    """transformers BERT -> ours -> Google checkpoint -> ours: the same weights, and transformers' outputs."""
    report = hf_to_fairseq(save_hf(hf_bert, VOCAB, tmp_path / "hf"), str(tmp_path / "ours"))
    original = load_ours(tmp_path / "ours")
    fairseq_to_google(report.output, str(tmp_path / "google"))
    assert sorted(os.listdir(tmp_path / "google")) == ["bert_config.json", "bert_model.ckpt.data-00000-of-00001",
                                                      "bert_model.ckpt.index", "checkpoint", "vocab.txt"]
    exported = tf_checkpoint.read_checkpoint(tmp_path / "google")
    hf = hf_bert.state_dict()
    assert np.array_equal(exported["bert/encoder/layer_1/attention/self/key/kernel"],
                          hf["bert.encoder.layer.1.attention.self.key.weight"].numpy().T)
    assert np.array_equal(exported["cls/predictions/output_bias"], hf["cls.predictions.bias"].numpy())
    assert np.array_equal(exported["bert/embeddings/LayerNorm/gamma"], hf["bert.embeddings.LayerNorm.weight"].numpy())
    assert len(exported) == 5 + 16 * BERT_SIZES["num_hidden_layers"] + 2 + 5  # embeddings, layers, pooler, mlm head

    training_state = {"global_step": np.int64(7), "bert/pooler/dense/kernel/adam_m": np.zeros((32, 32), np.float32),
                      "bert/pooler/dense/kernel/adam_v": np.ones((32, 32), np.float32)}
    tf_checkpoint.write_checkpoint(tmp_path / "google" / "bert_model.ckpt", {**exported, **training_state})
    back = google_to_fairseq(str(tmp_path / "google"), str(tmp_path / "back"))
    assert back.initialised == [] and back.unused == [] and "3 optimizer-state variables skipped" in back.model_type
    model = load_ours(tmp_path / "back")
    a, b = original.state_dict(), model.state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    tokens, mask, types = bert_inputs()
    with torch.no_grad():
        ref = hf_bert(input_ids=tokens, attention_mask=mask.long(), token_type_ids=types)
        logits, _ = model(tokens, segment_labels=types)
    assert (logits - ref.prediction_logits)[mask].abs().max() <= 1e-4


def test_uer_bin_export_keeps_the_nsp_head(tmp_path, hf_bert):
    """A UER-py .bin (target bert) -> Google: the next-sentence head stored untransposed, UER's padding segment
    row dropped; imported back as our BERT it computes transformers' hidden states and MLM logits."""
    uer_bin, vocab, config = write_files(tmp_path / "uer", hf_bert_to_uer(hf_bert.state_dict(), "new"),
                                         UER_BERT_CONFIG)
    sys.path.insert(0, os.path.join(REPO, "scripts"))
    import convert_fairseq_to_google
    import convert_google_to_fairseq

    convert_fairseq_to_google.main(["--input-model-path", uer_bin, "--vocab-path", vocab, "--config-path", config,
                                    "--out-dir", str(tmp_path / "google")])
    exported = tf_checkpoint.read_checkpoint(tmp_path / "google")
    hf = hf_bert.state_dict()
    assert np.array_equal(exported["cls/seq_relationship/output_weights"], hf["cls.seq_relationship.weight"].numpy())
    assert np.array_equal(exported["bert/embeddings/token_type_embeddings"],
                          hf["bert.embeddings.token_type_embeddings.weight"].numpy())
    convert_google_to_fairseq.main(["--google-dir", str(tmp_path / "google"), "--out-dir", str(tmp_path / "back")])
    model = load_ours(tmp_path / "back")
    tokens, mask, types = bert_inputs()
    with torch.no_grad():
        ref = hf_bert(input_ids=tokens, attention_mask=mask.long(), token_type_ids=types)
        logits, _ = model(tokens, segment_labels=types)
    assert (logits - ref.prediction_logits)[mask].abs().max() <= 1e-4
    with pytest.raises(SystemExit, match="not found"):
        convert_google_to_fairseq.main(["--google-dir", str(tmp_path / "nothing"), "--out-dir", str(tmp_path / "x")])


def test_non_bert_models_are_refused(tmp_path):
    uer_bin, vocab, config = write_files(tmp_path / "lstm", {}, dict(
        emb_size=16, hidden_size=24, layers_num=2, dropout=0.0, encoder="lstm", embedding=["word"],
        remove_embedding_layernorm=True, target=["lm"]))
    from fairseq_plugins.models.uer import UerConfig, UerModel, resolve_options
    from fairseq_plugins.conversion.state_tables import export_state
    from fairseq_plugins.conversion.uer_checkpoint import uer_name_map
    from fairseq_plugins.data import VocabDictionary

    options = resolve_options("uer_bert_base", config)
    options.pop("uer_config")
    state = UerModel(UerConfig(**options), VocabDictionary(VOCAB)).state_dict()
    torch.save(export_state(state, uer_name_map(options, "new", state.keys())), uer_bin)
    with pytest.raises(InputError, match="not a BERT setting") as e:
        uer_bin_to_google(uer_bin, str(tmp_path / "google"), vocab, config_path=config)
    assert e.value.field == "encoder"
    with pytest.raises(InputError, match="bert_config.json not found"):
        google_to_fairseq(str(tmp_path), str(tmp_path / "out"))
