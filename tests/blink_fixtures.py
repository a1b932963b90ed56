"""A tiny synthetic entity-linking set for the BLINK tests: a WordPiece vocabulary with BLINK's
marker tokens, a two-world KB whose entities each own a name word and topic words, and mentions
whose surface form is the entity's name amid words of its topic (learnable in a few updates)."""
import json
import random
from pathlib import Path

SPECIALS = ["[PAD]", "[unused0]", "[unused1]", "[unused2]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
N_ENTITIES = 24
FILLER = [f"filler{i}" for i in range(10)]


def entity_words(i):
    return f"name{i}", [f"topic{i}a", f"topic{i}b"]


def write_vocab(path):
    words = [w for i in range(N_ENTITIES) for w in (entity_words(i)[0], *entity_words(i)[1])]
    Path(path).write_text("\n".join(SPECIALS + FILLER + words + ["."]) + "\n")
    return path


def kb_records():
    return [{"id": f"E{i}", "title": entity_words(i)[0], "text": " ".join(entity_words(i)[1] * 3) + " .",
             "world": f"w{i % 2}"} for i in range(N_ENTITIES)]


def mention_records(n, seed):
    rng = random.Random(seed)
    records = []
    for _ in range(n):
        i = rng.randrange(N_ENTITIES)
        name, topic = entity_words(i)
        left = " ".join(rng.choices(FILLER + topic, k=rng.randint(2, 8)))
        right = " ".join(rng.choices(FILLER + topic, k=rng.randint(2, 8)))
        records.append({"context_left": left, "mention": name, "context_right": right, "label_id": f"E{i}",
                        "label_title": name, "label": " ".join(topic * 3) + " .", "world": f"w{i % 2}"})
    return records


def write_jsonl(path, records):
    Path(path).write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def write_dataset(root, n_train=160, n_valid=32):
    """``root/{vocab.txt, kb.jsonl, train.jsonl, valid.jsonl}``; returns root."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    write_vocab(root / "vocab.txt")
    write_jsonl(root / "kb.jsonl", kb_records())
    write_jsonl(root / "train.jsonl", mention_records(n_train, 0))
    write_jsonl(root / "valid.jsonl", mention_records(n_valid, 1))
    return root
