"""Raw Zeshel (Logeswaran et al. 2019) -> BLINK's mention and KB jsonl.

Raw layout: ``documents/<world>.json`` (``document_id, title, text``; text whitespace-tokenized)
and ``mentions/<split>.json`` (``start_index``/``end_index`` inclusive word positions in the
context document). Unlike BLINK's converter, case is kept (the tokenizer decides), KB ids are
Zeshel's document ids (unique across worlds, where BLINK's per-world row numbers are not), and
worlds whose documents are absent are allowed; mentions that cannot be resolved are counted.
"""
from __future__ import annotations

import json
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict

from ..errors import InputError
from .blink_formats import write_jsonl

logger = logging.getLogger(__name__)

WORLD_SPLITS = {
    "train": ("american_football", "doctor_who", "fallout", "final_fantasy", "military", "pro_wrestling",
              "starwars", "world_of_warcraft"),
    "valid": ("coronation_street", "muppets", "ice_hockey", "elder_scrolls"),
    "test": ("forgotten_realms", "lego", "star_trek", "yugioh"),
}
# Output split -> raw mentions file (BLINK reads val.json for "valid").
MENTION_FILES = {"train": "train.json", "valid": "val.json", "test": "test.json"}
CONTEXT_WORDS = 128


@dataclass
class ZeshelReport:
    documents: Counter = field(default_factory=Counter)  # per world
    mentions: Counter = field(default_factory=Counter)  # per split
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    outside_split_worlds: Counter = field(default_factory=Counter)  # split -> mentions of other splits' worlds

    def summary(self) -> str:
        lines = [f"documents: {sum(self.documents.values())} in {len(self.documents)} worlds",
                 "mentions: " + ", ".join(f"{s} {n}" for s, n in self.mentions.items())]
        if self.skipped:
            lines.append("skipped: " + ", ".join(f"{n} {r}" for r, n in sorted(self.skipped.items())))
        if self.outside_split_worlds:
            lines.append("mentions whose world belongs to another split (kept): " + ", ".join(
                f"{s} {n}" for s, n in self.outside_split_worlds.items()))
        return "\n".join(lines)


def _read_json_lines(path):
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise InputError(path, f"not a JSON line ({e})", line=number)
            yield number, obj


def _require(obj, keys, path, number):
    for key in keys:
        if key not in obj:
            raise InputError(path, "missing", line=number, field=key)


def read_documents(raw_dir) -> Dict[str, dict]:
    """document_id -> {title, text, world} for every ``documents/<world>.json``."""
    doc_dir = os.path.join(raw_dir, "documents")
    if not os.path.isdir(doc_dir):
        raise InputError(doc_dir, "no documents/ folder: not a Zeshel directory")
    documents = {}
    for name in sorted(os.listdir(doc_dir)):
        if not name.endswith(".json"):
            continue
        world, path = name[:-5], os.path.join(doc_dir, name)
        for number, obj in _read_json_lines(path):
            _require(obj, ("document_id", "title", "text"), path, number)
            if obj["document_id"] in documents:
                raise InputError(path, f"duplicate document_id {obj['document_id']!r}", line=number,
                                 field="document_id")
            documents[obj["document_id"]] = {"title": obj["title"], "text": obj["text"], "world": world}
    if not documents:
        raise InputError(doc_dir, "no documents")
    return documents


def convert_zeshel(raw_dir, out_dir, context_words: int = CONTEXT_WORDS) -> ZeshelReport:
    """Write ``kb.jsonl`` (all worlds) and ``{train,valid,test}.jsonl`` mentions to ``out_dir``."""
    report = ZeshelReport()
    documents = read_documents(raw_dir)
    for doc in documents.values():
        report.documents[doc["world"]] += 1
    write_jsonl(os.path.join(out_dir, "kb.jsonl"), (
        {"id": doc_id, "title": d["title"], "text": d["text"], "world": d["world"]}
        for doc_id, d in documents.items()))
    for split, file_name in MENTION_FILES.items():
        path = os.path.join(raw_dir, "mentions", file_name)
        if not os.path.isfile(path):
            raise InputError(path, "mentions file not found")
        records = []
        for number, obj in _read_json_lines(path):
            _require(obj, ("context_document_id", "label_document_id", "start_index", "end_index", "text",
                           "corpus"), path, number)
            context, label = documents.get(obj["context_document_id"]), documents.get(obj["label_document_id"])
            if context is None or label is None:
                report.skipped["context or label document not in documents/"] += 1
                continue
            words = context["text"].split(" ")
            start, end = obj["start_index"], obj["end_index"]
            if not (isinstance(start, int) and isinstance(end, int) and 0 <= start <= end < len(words)):
                raise InputError(path, f"span [{start}, {end}] outside the {len(words)} words of document "
                                       f"{obj['context_document_id']}", line=number, field="start_index")
            if " ".join(words[start:end + 1]) != obj["text"]:
                report.skipped["span text differs from the document's words"] += 1
                continue
            if obj["corpus"] not in WORLD_SPLITS[split]:
                report.outside_split_worlds[split] += 1
            records.append({
                "context_left": " ".join(words[max(0, start - context_words):start]),
                "mention": obj["text"],
                "context_right": " ".join(words[end + 1:end + 1 + context_words]),
                "label_id": obj["label_document_id"], "label_title": label["title"], "label": label["text"],
                "world": obj["corpus"], "mention_id": obj.get("mention_id"),
            })
        report.mentions[split] = write_jsonl(os.path.join(out_dir, f"{split}.jsonl"), records)
    logger.info("%s", report.summary())
    return report
