"""LUKE entity typing and relation classification: LUKE's micro P/R/F1, readers, inputs, CLI training."""
import json
import os
import random

import pytest
import torch

from cli_utils import BIN, REPO, USER_DIR, json_logs, run_cli, write_lines
from fairseq_plugins.data.json_files import read_json_records
from fairseq_plugins.data.luke_inputs import MentionStats, mark_mentions, span_positions
from fairseq_plugins.data.luke_relation import read_tacred
from fairseq_plugins.data.luke_typing import read_open_entity
from fairseq_plugins.errors import InputError
from fairseq_plugins.metrics.typing_f1 import relation_counts, typing_counts


# ---- metrics ------------------------------------------------------------------------------------------

def test_typing_f1_counts_every_example_label_pair():
    # labels: person, place, time
    gold = torch.tensor([[1, 0, 0], [1, 1, 0], [0, 0, 1]])
    logits = torch.tensor([[2.0, 0.5, -1.0], [0.1, -0.2, -3.0], [-1.0, -1.0, 0.0]])
    counts = typing_counts(logits > 0, gold > 0)
    # predicted: (0,person) (0,place) (1,person) -> 3; gold 4; correct (0,person) (1,person) -> 2.
    # logit exactly 0 is not predicted (LUKE: logit > 0).
    assert (counts.true_positives, counts.predicted, counts.gold) == (2, 3, 4)
    assert counts.precision == pytest.approx(2 / 3) and counts.recall == pytest.approx(1 / 2)
    assert counts.f1 == pytest.approx(2 * (2 / 3) * (1 / 2) / (2 / 3 + 1 / 2))
    nothing = typing_counts(torch.zeros(2, 3, dtype=torch.bool), gold[:2] > 0)
    assert (nothing.precision, nothing.recall, nothing.f1) == (0.0, 0.0, 0.0)


def test_relation_f1_ignores_no_relation():
    gold = torch.tensor([0, 1, 2, 2, 0, 3])
    pred = torch.tensor([0, 1, 1, 0, 2, 3])
    counts = relation_counts(pred, gold, negative=0)
    # predicted non-negative: 1,1,2,3 -> 4; gold non-negative: 1,2,2,3 -> 4; correct: ex 1 and ex 5 -> 2.
    assert (counts.true_positives, counts.predicted, counts.gold) == (2, 4, 4)
    assert counts.f1 == pytest.approx(0.5)
    # A correct no_relation is not a true positive.
    assert relation_counts(torch.tensor([0]), torch.tensor([0])).f1 == 0.0


# ---- readers and inputs -------------------------------------------------------------------------------

def open_entity_record(sent, mention, labels):
    start = sent.index(mention)
    return {"sent": sent, "start": start, "end": start + len(mention), "labels": labels}


def test_reader_names_line_and_field(tmp_path):
    good = open_entity_record("Alice met Bob .", "Bob", ["person"])
    path = tmp_path / "train.json"
    path.write_text("[\n" + json.dumps(good) + ",\n" + json.dumps({**good, "end": 40}) + "\n]\n")
    with pytest.raises(InputError, match=r"train\.json:3: end: mention end 40 is not in \(10, 15\]"):
        read_open_entity(path)
    path.write_text(json.dumps(good) + "\n\n" + json.dumps({**good, "start": -1}) + "\n")
    with pytest.raises(InputError, match=r"train\.json:3: start: mention start -1 is outside the text"):
        read_open_entity(path)
    path.write_text(json.dumps({**good, "labels": "person"}) + "\n")
    with pytest.raises(InputError, match=r"train\.json:1: labels: expected list, got str"):
        read_open_entity(path)
    path.write_text('[{"sent": "a"},\n {"sent": ]')
    with pytest.raises(InputError, match=r"train\.json:2: malformed JSON"):
        read_json_records(path)
    path.write_text(json.dumps([good, good], indent=1))
    assert [r.line for r in read_open_entity(path)] == [2, 10]  # each record spans 8 lines
    tacred = {"token": ["Bob", "works", "for", "Acme"], "subj_start": 0, "subj_end": 0, "obj_start": 3,
              "obj_end": 4, "relation": "per:employee_of"}
    path.write_text(json.dumps([tacred]))
    with pytest.raises(InputError, match=r"train\.json:1: obj_end: span \[3, 4\] is outside the 4 words"):
        read_tacred(path)
    path.write_text(json.dumps([{**tacred, "obj_start": 0, "obj_end": 1}]))
    with pytest.raises(InputError, match="overlap"):
        read_tacred(path)


def test_mentions_are_marked_and_context_cut_around_them():
    stats = MentionStats()
    # pieces: left (2 ids), mention (1), right (3); marker 9.
    tokens, firsts, lasts = mark_mentions([[1, 2], [3], [4, 5, 6]], [(1, 2)], [9], 0, 99, 20, stats)
    assert tokens.tolist() == [0, 1, 2, 9, 3, 9, 4, 5, 6, 99]
    assert (firsts.tolist(), lasts.tolist()) == ([3], [5])
    # Two mentions (relation): head words 0, tail word 2, markers 7 / 8; no marker keeps only the pieces.
    tokens, firsts, lasts = mark_mentions([[1], [2], [3, 4]], [(0, 1), (2, 3)], [7, 8], 0, 99, 20, stats)
    assert tokens.tolist() == [0, 7, 1, 7, 2, 8, 3, 4, 8, 99]
    assert (firsts.tolist(), lasts.tolist()) == ([1, 5], [3, 8])
    tokens, firsts, lasts = mark_mentions([[1], [2], [3, 4]], [(2, 3)], [None], 0, 99, 20, stats)
    assert tokens[firsts[0]:lasts[0] + 1].tolist() == [3, 4]
    assert stats.truncated == 0
    # 8 left + marked mention (3) + 8 right in a window of 7: 2 context pieces a side, counted.
    tokens, firsts, lasts = mark_mentions([list(range(10, 18)), [5], list(range(20, 28))], [(1, 2)], [9], 0, 99, 9,
                                          stats)
    assert tokens.tolist() == [0, 16, 17, 9, 5, 9, 20, 21, 99] and stats.truncated == 1
    assert (firsts.tolist(), lasts.tolist()) == ([3], [5])
    with pytest.raises(ValueError, match="more than --max-seq-length 4"):
        mark_mentions([[1], [5, 6], [2]], [(1, 2)], [9], 0, 99, 4, stats)
    assert span_positions(torch.tensor([[3, 1]]), torch.tensor([[5, 1]]), 4).tolist() == [[[3, 4, 5, -1],
                                                                                            [1, -1, -1, -1]]]


# ---- CLI ---------------------------------------------------------------------------------------------

WORDS = ["the", "a", "met", "saw", "in", "on", "visited", "called", "yesterday", "and", "works", "for", "."]
TYPED = {"alice": ["person"], "bob": ["person"], "paris": ["location"], "tokyo": ["location"],
         "monday": ["time"], "acme": ["organization"], "globex": ["organization", "location"]}
MODEL_FLAGS = ("--arch", "luke_tiny", "--encoder-layers", "1", "--encoder-embed-dim", "32",
               "--encoder-ffn-embed-dim", "64", "--encoder-attention-heads", "2", "--entity-emb-size", "16",
               "--dropout", "0", "--attention-dropout", "0", "--pooler-dropout", "0", "--max-positions", "64")


def tiny_vocab_dir(tmp_path):
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<ent>", "<ent2>"] + WORDS + sorted(TYPED)
    folder = tmp_path / "vocab"
    write_lines(folder / "vocab.txt", tokens)
    write_lines(folder / "dict.txt", tokens)
    return folder


def open_entity_file(path, n, seed):
    rng = random.Random(seed)
    records = []
    for _ in range(n):
        mention = rng.choice(sorted(TYPED))
        left = " ".join(rng.choices(WORDS, k=rng.randint(0, 4)))
        right = " ".join(rng.choices(WORDS, k=rng.randint(1, 4)))
        records.append(open_entity_record(f"{left} {mention} {right}".strip(), mention, TYPED[mention]))
    path.write_text(json.dumps(records, indent=1))
    return path


def fairseq_train(data, vocab, save_dir, task, criterion, *extra):
    return run_cli([BIN / "fairseq-train", data, "--user-dir", USER_DIR, "--cpu", "--task", task,
                    "--vocab-dir", vocab, "--criterion", criterion, *MODEL_FLAGS, "--max-seq-length", "32",
                    "--batch-size", "8", "--optimizer", "adam", "--lr", "3e-3", "--lr-scheduler", "fixed",
                    "--num-workers", "0", "--save-dir", save_dir, "--no-save", "--seed", "1",
                    "--required-batch-size-multiple", "1", "--log-format", "json", "--log-interval", "1",
                    "--no-progress-bar", *extra], timeout=60)


def test_fairseq_train_entity_typing_loss_falls_and_f1_is_logged(tmp_path):
    data = tmp_path / "open_entity"
    data.mkdir()
    open_entity_file(data / "train.json", 64, 0)
    open_entity_file(data / "dev.json", 16, 1)  # the release's name for the validation split
    proc = fairseq_train(data, tiny_vocab_dir(tmp_path), tmp_path / "ck", "luke_entity_typing",
                         "luke_entity_typing", "--max-epoch", "10")
    train = [float(r["train_loss"]) for r in json_logs(proc.stdout + proc.stderr, "train")]
    valid = json_logs(proc.stdout + proc.stderr, "valid")
    assert len(train) == 10 and train[-1] < 0.5 * train[0], train
    assert float(valid[-1]["valid_f1"]) > 80, valid[-1]
    assert "4 labels: location, organization, person, time" in proc.stdout + proc.stderr


def test_unknown_label_names_file_line_and_field(tmp_path):
    data = tmp_path / "open_entity"
    data.mkdir()
    open_entity_file(data / "train.json", 8, 0)
    (data / "valid.json").write_text(json.dumps([open_entity_record("Bob .", "Bob", ["wizard"])]))
    labels = write_lines(tmp_path / "labels.txt", ["person", "location", "time", "organization"])
    with pytest.raises(RuntimeError, match=r"valid\.json:1: labels: unknown label 'wizard'"):
        fairseq_train(data, tiny_vocab_dir(tmp_path), tmp_path / "ck", "luke_entity_typing",
                      "luke_entity_typing", "--labels", labels, "--max-update", "1")


def test_fairseq_train_relation_classification_loss_falls(tmp_path):
    rng = random.Random(0)
    relations = {("alice", "acme"): "per:employee_of", ("acme", "paris"): "org:city_of_headquarters",
                 ("bob", "monday"): "no_relation"}
    data = tmp_path / "tacred"
    data.mkdir()
    for split, n in (("train", 64), ("valid", 16)):
        records = []
        for _ in range(n):
            (subj, obj), relation = rng.choice(sorted(relations.items()))
            words = rng.choices(WORDS, k=2) + [subj] + rng.choices(WORDS, k=2) + [obj, "."]
            if rng.random() < 0.5:  # object before subject
                words = rng.choices(WORDS, k=1) + [obj] + rng.choices(WORDS, k=3) + [subj, "."]
            s, o = words.index(subj), words.index(obj)
            records.append({"token": words, "subj_start": s, "subj_end": s, "obj_start": o, "obj_end": o,
                            "relation": relation})
        (data / f"{split}.json").write_text(json.dumps(records))
    proc = fairseq_train(data, tiny_vocab_dir(tmp_path), tmp_path / "ck", "luke_relation_classification",
                         "luke_relation_classification", "--max-epoch", "10")
    out = proc.stdout + proc.stderr
    train = [float(r["train_loss"]) for r in json_logs(out, "train")]
    assert len(train) == 10 and train[-1] < 0.5 * train[0], train
    assert float(json_logs(out, "valid")[-1]["valid_f1"]) > 80
    assert "3 labels: no_relation, org:city_of_headquarters, per:employee_of" in out


# ---- Hugging Face LukeFor*Classification heads ----------------------------------------------------------

HEAD_CASES = {  # class, labels in a deliberately unsorted Hugging Face order
    "LukeForEntityClassification": ["time", "person", "location"],
    "LukeForEntityPairClassification": ["per:title", "no_relation", "org:founded"],
    "LukeForEntitySpanClassification": ["NIL", "PER", "LOC", "ORG"],
}


@pytest.mark.parametrize("architecture", sorted(HEAD_CASES))
def test_classification_heads_convert_with_logit_parity_and_back(tmp_path, architecture):
    transformers = pytest.importorskip("transformers")
    from test_conversion import randomize
    from test_luke_model import ENTITY_PAD, SMALL, inputs, load, save_luke
    from fairseq_plugins.conversion.luke import luke_fairseq_to_hf, luke_hf_to_fairseq

    labels = HEAD_CASES[architecture]
    config = transformers.LukeConfig(**SMALL, id2label=dict(enumerate(labels)),
                                     label2id={label: i for i, label in enumerate(labels)})
    hf_class = getattr(transformers, architecture)
    hf = randomize(hf_class(config)).eval()
    path = save_luke(hf, tmp_path / "hf")
    vocab = json.load(open(os.path.join(path, "vocab.json")))
    write_lines(os.path.join(path, "vocab.txt"), sorted(vocab, key=vocab.get))  # a tokenizer our tasks can build
    report = luke_hf_to_fairseq(path, str(tmp_path / "fs"))
    assert report.unused == []
    model = load(tmp_path / "fs")
    tokens, types, entity_ids, positions, entity_types = inputs()
    kwargs = dict(input_ids=tokens, attention_mask=tokens.ne(1).long(), token_type_ids=types,
                  entity_ids=entity_ids, entity_attention_mask=entity_ids.ne(ENTITY_PAD).long(),
                  entity_position_ids=positions, entity_token_type_ids=entity_types)
    starts, ends = positions[..., 0].clamp(min=0), positions.max(-1).values.clamp(min=0)
    if architecture == "LukeForEntitySpanClassification":
        kwargs.update(entity_start_positions=starts, entity_end_positions=ends)
    with torch.no_grad():
        expected = hf(**kwargs).logits
        words, extra = model(tokens, features_only=True, segment_labels=types, entity_ids=entity_ids,
                             entity_positions=positions, entity_segments=entity_types)
        (name, head), = model.entity_heads.items()
        if architecture == "LukeForEntitySpanClassification":
            ours = head(words, extra["entity_states"], starts, ends)
        else:
            ours = head(extra["entity_states"])
    task_labels = load_labels(tmp_path / "fs", architecture, labels)
    columns = [labels.index(label) if label != "NIL" else 0 for label in task_labels]
    real = entity_ids.ne(ENTITY_PAD) if ours.dim() == 3 else torch.ones(ours.size(0), dtype=torch.bool)
    assert (ours - expected[..., columns])[real].abs().max() <= 1e-5
    # back to Hugging Face: the same classifier under our label order
    luke_fairseq_to_hf(str(tmp_path / "fs" / "model.pt"), str(tmp_path / "back"))
    again = hf_class.from_pretrained(tmp_path / "back").eval()
    assert [again.config.id2label[i] for i in range(len(labels))] == task_labels
    with torch.no_grad():
        assert torch.equal(again(**kwargs).logits, expected[..., columns])
    if architecture != "LukeForEntitySpanClassification":
        check_predictions(tmp_path, architecture, task_labels)


def check_predictions(tmp_path, architecture, labels):
    """scripts/predict_luke.py on the converted model, no training: one JSON line per example, metric table."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("predict_luke", REPO / "scripts" / "predict_luke.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    rng = random.Random(0)
    if architecture == "LukeForEntityClassification":
        records = [open_entity_record(f"w{rng.randint(5, 50)} w{rng.randint(5, 50)} w{k} w{rng.randint(5, 50)}",
                                      f"w{k}", rng.sample(labels, rng.randint(0, 2))) for k in (1, 2, 3, 4)]
    else:
        records = [{"token": [f"w{rng.randint(5, 50)}" for _ in range(6)], "subj_start": 0, "subj_end": 1,
                    "obj_start": 3, "obj_end": 3, "relation": rng.choice(labels)} for _ in range(4)]
    path = tmp_path / "input.json"
    path.write_text(json.dumps(records))
    out = tmp_path / "pred.jsonl"
    import contextlib
    import io

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        script.main(["--checkpoint", str(tmp_path / "fs" / "model.pt"), "--input", str(path), "--output", str(out)])
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 4 and all(set(r["scores"]) == set(labels) for r in rows)
    tp = predicted = gold = 0
    for row, record in zip(rows, records):
        assert "text" in row and row["line"] >= 1
        if architecture == "LukeForEntityClassification":
            assert row["mention"] == record["sent"][record["start"]:record["end"]]
            assert row["predicted"] == [label for label in labels if row["scores"][label] > 0.5]
            tp += len(set(row["predicted"]) & set(row["gold"]))
            predicted, gold = predicted + len(row["predicted"]), gold + len(row["gold"])
        else:
            assert row["predicted"] == max(row["scores"], key=row["scores"].get)
            tp += row["predicted"] == row["gold"] != "no_relation"
            predicted += row["predicted"] != "no_relation"
            gold += row["gold"] != "no_relation"
    table = printed.getvalue().splitlines()[-1].split()
    assert [int(x) for x in table[1:4]] == [gold, predicted, tp], printed.getvalue()


def load_labels(folder, architecture, hf_labels):
    """Our task's label order: sorted (typing), no_relation first (relations), NIL then as given (NER)."""
    if architecture == "LukeForEntitySpanClassification":
        return hf_labels
    return (folder / "labels.txt").read_text().split()
