"""BLINK through the real command line on a tiny synthetic set: the biencoder learns, retrieval
writes top-k files that both hard-negative training and the crossencoder read, the crossencoder
learns, and a converted Hugging Face BERT initialises the towers."""
import json
import shutil

import pytest
import torch

import blink_fixtures
import cli_utils

TINY = ("--encoder-layers", "2", "--encoder-embed-dim", "32", "--encoder-ffn-embed-dim", "64",
        "--encoder-attention-heads", "2", "--dropout", "0", "--attention-dropout", "0")


def fairseq_train(data, save_dir, task, criterion, arch, *extra, max_update, batch_size, lr):
    return cli_utils.run_cli([
        cli_utils.BIN / "fairseq-train", data, "--user-dir", cli_utils.USER_DIR, "--cpu",
        "--task", task, "--criterion", criterion, "--arch", arch,
        "--batch-size", str(batch_size), "--required-batch-size-multiple", "1", "--max-update", str(max_update),
        "--optimizer", "adam", "--lr", str(lr), "--lr-scheduler", "fixed", "--seed", "1", "--num-workers", "0",
        "--save-dir", save_dir, "--no-epoch-checkpoints", "--log-format", "json", "--log-interval", "1",
        "--no-progress-bar", "--max-context-length", "32", "--max-candidate-length", "16", *extra])


def losses(proc):
    return [float(r["loss"]) for r in cli_utils.train_inner_logs(proc.stdout)]


def falls(values, window, by):
    start, end = sum(values[:window]) / window, sum(values[-window:]) / window
    return end < start - by


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return blink_fixtures.write_dataset(tmp_path_factory.mktemp("blink") / "data")


@pytest.fixture(scope="module")
def biencoder(data, tmp_path_factory):
    save = tmp_path_factory.mktemp("biencoder")
    proc = fairseq_train(data, save, "blink_biencoder", "blink_in_batch", "blink_biencoder_tiny", *TINY,
                         "--vocab", data / "vocab.txt", "--kb", data / "kb.jsonl",
                         max_update=100, batch_size=8, lr=3e-3)
    return save / "checkpoint_last.pt", proc


def test_biencoder_in_batch_loss_falls(biencoder):
    values = losses(biencoder[1])
    assert len(values) == 100
    # Measured 3.07 -> 1.57 bits (10-update averages); chance over 8 candidates is 3 bits.
    assert falls(values, 10, 0.8), values


@pytest.fixture(scope="module")
def top8(data, biencoder, tmp_path_factory):
    out = tmp_path_factory.mktemp("top8")
    proc = cli_utils.run_script(
        "blink_retrieve", "--checkpoint", biencoder[0], "--kb", data / "kb.jsonl",
        "--mentions", data / "train.jsonl", data / "valid.jsonl", "--encoded-kb", out / "encoded",
        "--restrict-to-world", "--top-k", "8", "--out-dir", out, "--no-progress")
    return out, proc


def test_retrieval_writes_top_k_and_recall(top8):
    out, proc = top8
    records = [json.loads(line) for line in (out / "valid.jsonl").read_text().splitlines()]
    assert len(records) == 32
    kb = {e["id"]: e["world"] for e in blink_fixtures.kb_records()}
    for r in records:
        assert len(r["candidates"]) == 8 and r["scores"] == sorted(r["scores"], reverse=True)
        assert all(kb[c] == r["world"] for c in r["candidates"])  # restricted to the mention's world
    recall = json.loads((out / "recall.json").read_text())["train.jsonl"]["recall"]
    assert set(recall) == {"w0", "w1", "overall"} and recall["overall"]["n"] == 160
    # Chance @1 is 1/12 (12 entities per world); the trained biencoder does much better (measured 0.36 from
    # BERT's N(0, 0.02) initialisation, 0.4+ from PyTorch's default one).
    assert recall["overall"]["recall"]["1"] > 0.25
    assert "overall" in proc.stdout


def test_hard_negatives_join_the_batch(data, top8, tmp_path):
    proc = fairseq_train(data, tmp_path, "blink_biencoder", "blink_in_batch", "blink_biencoder_tiny", *TINY,
                         "--vocab", data / "vocab.txt", "--kb", data / "kb.jsonl", "--no-save",
                         "--hard-negatives", top8[0] / "train.jsonl", "--num-hard-negatives", "2",
                         max_update=3, batch_size=8, lr=1e-3)
    logs = cli_utils.train_inner_logs(proc.stdout)
    assert [float(r["candidates"]) for r in logs] == [24.0] * 3  # 8 golds + 8 x 2 negatives
    assert "hard negatives for 160 of 160 mentions" in proc.stdout + proc.stderr


def test_hard_negatives_need_a_kb(data, top8, tmp_path):
    with pytest.raises(RuntimeError, match="hard negatives need --kb"):
        fairseq_train(data, tmp_path, "blink_biencoder", "blink_in_batch", "blink_biencoder_tiny", *TINY,
                      "--vocab", data / "vocab.txt", "--hard-negatives", top8[0] / "train.jsonl",
                      max_update=1, batch_size=8, lr=1e-3)


def test_crossencoder_softmax_over_candidates_loss_falls(data, top8, tmp_path):
    proc = fairseq_train(top8[0], tmp_path, "blink_crossencoder", "blink_crossencoder", "blink_crossencoder_tiny",
                         *TINY, "--vocab", data / "vocab.txt", "--kb", data / "kb.jsonl", "--no-save",
                         "--max-seq-length", "48", max_update=150, batch_size=4, lr=1e-3)
    values = losses(proc)
    # Measured about 2.98 -> 2.7 bits (25-update averages) over 8 candidates.
    assert len(values) == 150 and falls(values, 25, 0.15), values
    valid = cli_utils.json_logs(proc.stdout, "valid")[-1]
    assert float(valid["valid_accuracy"]) <= float(valid["valid_normalized_accuracy"])


def convert_tiny_bert(data, out):
    """A 2-layer Hugging Face BERT on the fixture vocabulary, converted; returns its model.pt."""
    transformers = pytest.importorskip("transformers")
    from fairseq_plugins.conversion import hf_to_fairseq

    vocab_size = len((data / "vocab.txt").read_text().split())
    config = transformers.BertConfig(vocab_size=vocab_size, hidden_size=24, num_hidden_layers=2,
                                     num_attention_heads=2, intermediate_size=48, max_position_embeddings=64,
                                     pad_token_id=0)
    torch.manual_seed(0)
    transformers.BertModel(config).save_pretrained(out / "hf")
    shutil.copy(data / "vocab.txt", out / "hf" / "vocab.txt")
    hf_to_fairseq(str(out / "hf"), str(out / "converted"))
    return out / "converted" / "model.pt"


def test_converted_bert_initialises_both_towers(data, tmp_path):
    from fairseq_plugins.retrieval.blink_models import load_blink

    pretrained = convert_tiny_bert(data, tmp_path)
    source = torch.load(pretrained, weights_only=False)["model"]
    task, model = load_blink(pretrained_encoder=str(pretrained), vocab=str(data / "vocab.txt"))
    for tower in (model.context_tower, model.candidate_tower):
        for name, tensor in tower.encoder.state_dict().items():
            torch.testing.assert_close(tensor, source[f"encoder.{name}"], msg=name)

    # Mean pooling ignores padding; --normalize gives unit entities and mentions at --similarity-scale.
    task, model = load_blink(pretrained_encoder=str(pretrained), vocab=str(data / "vocab.txt"),
                             representation="mean", normalize=True)
    short, long = [5, 9, 10, 6], [5, 9, 10, 11, 12, 13, 6]
    with torch.no_grad():
        alone = model.encode_candidates(torch.tensor([short]))
        batch = model.encode_candidates(torch.tensor([short + [0] * 3, long]))
        features, _ = model.candidate_tower.encoder(torch.tensor([short]), features_only=True)
        contexts = model.encode_contexts(torch.tensor([short + [0] * 3, long]))
    torch.testing.assert_close(batch[0], alone[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(alone[0], torch.nn.functional.normalize(features[0].mean(0), dim=0))
    torch.testing.assert_close(batch.norm(dim=1), torch.ones(2))
    torch.testing.assert_close(contexts.norm(dim=1), torch.full((2,), 20.0))
    # Sizes come from the checkpoint (no size flags), and the trained checkpoint no longer needs it.
    fairseq_train(data, tmp_path / "ckpt", "blink_biencoder", "blink_in_batch", "blink_biencoder",
                  "--vocab", data / "vocab.txt", "--pretrained-encoder", pretrained, "--max-positions", "64",
                  max_update=2, batch_size=8, lr=1e-4)
    pretrained.unlink()
    task, model = load_blink(str(tmp_path / "ckpt" / "checkpoint_last.pt"))
    assert model.cfg.encoder_embed_dim == 24 and model.cfg.pretrained_encoder is None


@pytest.mark.parametrize("choice, trained", [("all_encoder_layers", (".layers.0.", ".layers.1.")),
                                             ("top_layer", (".layers.1.",))])
def test_type_optimization_trains_only_the_chosen_layers(data, tmp_path, choice, trained):
    pretrained = convert_tiny_bert(data, tmp_path)
    fairseq_train(data, tmp_path / "ckpt", "blink_biencoder", "blink_in_batch", "blink_biencoder",
                  "--vocab", data / "vocab.txt", "--pretrained-encoder", pretrained, "--max-positions", "64",
                  "--projection-dim", "8", "--type-optimization", choice, max_update=2, batch_size=8, lr=1e-3)
    source = torch.load(pretrained, weights_only=False)["model"]
    state = torch.load(tmp_path / "ckpt" / "checkpoint_last.pt", weights_only=False)["model"]
    for tower in ("context_tower", "candidate_tower"):
        for name, tensor in source.items():
            if name.startswith("encoder.lm_head."):
                continue
            changed = not torch.equal(state[f"{tower}.{name}"], tensor)
            # embeddings and the pooler stay as converted (BLINK's recipes); the chosen layers move
            assert changed == any(part in name for part in trained), (tower, name)


def test_type_optimization_needs_something_to_train(data, tmp_path):
    with pytest.raises(RuntimeError, match="type_optimization: --type-optimization additional: no parameter"):
        fairseq_train(data, tmp_path, "blink_biencoder", "blink_in_batch", "blink_biencoder_tiny", *TINY,
                      "--vocab", data / "vocab.txt", "--type-optimization", "additional",
                      max_update=1, batch_size=8, lr=1e-3)


def test_retrieval_in_bfloat16_matches_float32(data, biencoder, top8, tmp_path):
    out, encoded = tmp_path / "bf16", tmp_path / "encoded"
    shutil.copytree(top8[0] / "encoded", encoded)
    cli_utils.run_script(
        "blink_retrieve", "--checkpoint", biencoder[0], "--kb", data / "kb.jsonl", "--mentions", data / "valid.jsonl",
        "--encoded-kb", encoded, "--restrict-to-world", "--top-k", "8", "--out-dir", out,
        "--no-progress", "--dtype", "bfloat16", "--device", "cpu")
    # the bf16 encoder's vectors replace the float32 ones rather than mix with them
    assert json.loads((encoded / "meta.json").read_text())["encoder"].endswith("-torch.bfloat16")
    fp32 = [json.loads(line) for line in (top8[0] / "valid.jsonl").read_text().splitlines()]
    bf16 = [json.loads(line) for line in (out / "valid.jsonl").read_text().splitlines()]
    same_top1 = sum(a["candidates"][0] == b["candidates"][0] for a, b in zip(fp32, bf16)) / len(fp32)
    overlap = sum(len(set(a["candidates"]) & set(b["candidates"])) for a, b in zip(fp32, bf16)) / (8 * len(fp32))
    assert same_top1 >= 0.9 and overlap >= 0.95, (same_top1, overlap)
