"""LEAR through the real command line: fairseq-train (flat and nested) learns, resumes, and predicts, and
starts from a converted Hugging Face BERT."""
import json
import shutil

import pytest
import torch

import cli_utils
from lear_fixtures import LEAR_DATA, minilm_vocab

TINY = ("--arch", "lear_tiny", "--encoder-layers", "2", "--encoder-embed-dim", "32", "--encoder-ffn-embed-dim", "64",
        "--encoder-attention-heads", "2", "--dropout", "0", "--attention-dropout", "0")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """The first ACE-2004 sentences (nested entities included) as train and valid."""
    if not LEAR_DATA.is_dir():
        pytest.skip("shared LEAR data absent")
    folder = tmp_path_factory.mktemp("ace")
    lines = (LEAR_DATA / "ace2004/train.json").read_text(encoding="utf-8").splitlines()
    (folder / "train.json").write_text("\n".join(lines[:48]) + "\n", encoding="utf-8")
    (folder / "valid.json").write_text("\n".join(lines[48:64]) + "\n", encoding="utf-8")
    for name in ("label_map.json", "label_annotation.txt"):
        shutil.copy(LEAR_DATA / "ace2004" / name, folder / name)
    return folder


def train(data, save_dir, *extra, max_update=24):
    return cli_utils.run_cli([
        cli_utils.BIN / "fairseq-train", data, "--user-dir", cli_utils.USER_DIR, "--cpu",
        "--task", "lear_ner", "--vocab", minilm_vocab(), "--max-length", "48", *TINY,
        "--criterion", "lear_span", "--optimizer", "lear_adam", "--lr", "1e-3", "--task-layer-lr", "3",
        "--lr-scheduler", "fixed", "--batch-size", "8", "--required-batch-size-multiple", "1",
        "--max-update", str(max_update), "--seed", "1", "--num-workers", "0", "--save-dir", save_dir,
        "--no-epoch-checkpoints", "--log-format", "json", "--log-interval", "1", "--no-progress-bar", *extra])


def falls(proc):
    losses = [float(r["loss"]) for r in cli_utils.json_logs(proc.stdout, "train_inner")]
    start, end = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    # Measured: ~10.5 -> ~2.5 (flat), ~11 -> ~3 (nested); a broken gradient path stays near the start.
    assert end < 0.5 * start, losses
    return losses


def test_flat_training_learns_resumes_and_predicts(data, tmp_path):
    falls(train(data, tmp_path / "ckpt"))
    valid = cli_utils.json_logs(train(data, tmp_path / "ckpt", max_update=28).stdout, "valid")[-1]
    # Resumed from checkpoint_last (optimizer groups with their multipliers restored) and validated with F1.
    assert valid["valid_num_updates"] == "28" and {"valid_f1", "valid_precision", "valid_recall"} <= set(valid)
    out = tmp_path / "pred.jsonl"
    proc = cli_utils.run_script("lear_predict", "--checkpoint", tmp_path / "ckpt" / "checkpoint_last.pt",
                                "--input", data / "valid.json", "--output", out, "--threshold", "0.01")
    scores = json.loads(proc.stdout.strip().splitlines()[-1])
    assert scores["gold"] == sum(len(json.loads(line)["entities"]) for line in open(data / "valid.json"))
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 16 and scores["predicted"] == sum(len(r["entities"]) for r in rows) > 0
    for row in rows:
        for entity in row["entities"]:
            assert row["text"][entity["start_offset"]:entity["end_offset"]] == entity["text"]
            assert entity["label"] in {"FAC", "GPE", "LOC", "ORG", "PER", "VEH", "WEA"} and 0 < entity["score"] <= 1


def test_nested_training_learns(data, tmp_path):
    proc = train(data, tmp_path / "ckpt", "--nested", "--max-span-length", "8", "--no-save")
    falls(proc)
    assert "span_loss" in cli_utils.json_logs(proc.stdout, "train_inner")[-1]


def test_plain_adam_with_a_head_multiplier_is_refused(data, tmp_path):
    with pytest.raises(RuntimeError, match="needs --optimizer lear_adam"):
        train(data, tmp_path / "ckpt", "--optimizer", "adam", "--no-save", max_update=1)


def test_pretrained_encoder_sizes_are_saved_and_its_path_dropped(data, tmp_path):
    """The architecture is applied to the config fairseq saves, not to the model's merged copy (which
    ``--arch lear``, the model's own name, gets)."""
    transformers = pytest.importorskip("transformers")
    from fairseq_plugins.conversion import hf_to_fairseq
    from fairseq_plugins.conversion.fairseq_checkpoint import load_checkpoint

    hf = tmp_path / "hf"
    config = transformers.BertConfig(vocab_size=len(minilm_vocab().read_text(encoding="utf-8").split()),
                                     hidden_size=24, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=48, max_position_embeddings=64, pad_token_id=0)
    torch.manual_seed(0)
    transformers.BertModel(config).save_pretrained(hf)
    shutil.copy(minilm_vocab(), hf / "vocab.txt")
    hf_to_fairseq(str(hf), str(tmp_path / "converted"))
    pretrained = tmp_path / "converted" / "model.pt"
    # TINY's --encoder-embed-dim 32 is overridden by the checkpoint's 24.
    train(data, tmp_path / "ckpt", "--arch", "lear", "--pretrained-encoder", pretrained, max_update=2)
    pretrained.unlink()
    cfg, task, model = load_checkpoint(str(tmp_path / "ckpt" / "checkpoint_last.pt"))
    assert cfg.model.encoder_embed_dim == 24 and cfg.model.max_positions == 64
    assert cfg.model.pretrained_encoder is None
    assert model.encoder.sentence_encoder.embeddings.embed_tokens.weight.size(1) == 24
