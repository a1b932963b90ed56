"""A base for LUKE tasks that classify marked mentions: entity typing, relation classification.

Underscored: a shared base the task modules import, registering nothing itself. ``DATA`` holds
``train.json``, ``valid.json`` (or the release's ``dev.json``) and ``test.json``; the label set is
read from ``--labels`` (one a line) or collected from ``train.json``.
"""
import logging
import os
from dataclasses import dataclass, field
from typing import List, Optional

from fairseq.dataclass import FairseqDataclass

from ..data.json_files import read_label_lines
from ..data.luke_inputs import MentionDataset, MentionStats, mark_mentions
from ..errors import InputError
from ._luke_vocab import LukeVocabTask

logger = logging.getLogger(__name__)


@dataclass
class LukeMentionConfig(FairseqDataclass):
    data: str = field(default="", metadata={"help": "folder with train.json, valid.json (or dev.json), test.json"})
    vocab_dir: str = field(default="", metadata={
        "help": "converted model folder: dict.txt, tokenizer files, entity vocabulary"})
    labels: Optional[str] = field(default=None, metadata={
        "help": "file with the label set, one a line (default: the labels of train.json)"})
    max_seq_length: int = field(default=512, metadata={
        "help": "word pieces per input, markers included; longer texts lose context around the mentions "
                "(counted)"})
    max_mention_length: int = field(default=30, metadata={
        "help": "entity positions per mention, markers included (LUKE's max_mention_length; longer ones are "
                "cut, counted)"})


class LukeMentionTask(LukeVocabTask):
    """Subclasses write ``read(path)``, maybe ``sort_labels(labels)``, and ``build_example(record, index,
    path, stats)`` (a MentionExample, built with :meth:`mark`)."""

    def __init__(self, cfg, dictionary, entity_vocab, labels: List[str]):
        super().__init__(cfg, dictionary, entity_vocab)
        self.labels = labels
        self.label_ids = {label: i for i, label in enumerate(labels)}

    @staticmethod
    def read(path):
        """The records of a file, each with a ``line`` and its gold ``labels``."""
        raise NotImplementedError

    @staticmethod
    def sort_labels(labels) -> List[str]:
        return sorted(labels)

    @classmethod
    def setup_task(cls, cfg, **kwargs):
        dictionary, entity_vocab = cls.load_vocabs(cfg)
        if cfg.labels:
            labels = cls.sort_labels(read_label_lines(cfg.labels))
        else:
            train = cls.read(os.path.join(cfg.data, "train.json"))
            labels = cls.sort_labels({label for r in train for label in r.labels})
        if not labels:
            raise InputError(cfg.labels or os.path.join(cfg.data, "train.json"), "no labels")
        logger.info("%d labels: %s", len(labels), ", ".join(labels))
        return cls(cfg, dictionary, entity_vocab, labels)

    def split_path(self, split: str) -> str:
        path = os.path.join(self.cfg.data, f"{split}.json")
        dev = os.path.join(self.cfg.data, "dev.json")
        return dev if split == "valid" and not os.path.isfile(path) and os.path.isfile(dev) else path

    def label_id(self, label: str, path, line: int, field_name: str) -> int:
        if label not in self.label_ids:
            raise InputError(path, f"unknown label {label!r} (labels: {', '.join(self.labels)})", line=line,
                             field=field_name)
        return self.label_ids[label]

    def mark(self, pieces, mentions, markers, path, line, stats: MentionStats):
        try:
            tokens, firsts, lasts = mark_mentions(pieces, mentions, markers, self.dictionary.bos(),
                                                  self.dictionary.eos(), self.cfg.max_seq_length, stats)
        except ValueError as e:
            raise InputError(path, str(e), line=line)
        stats.long_mentions += int((lasts - firsts + 1 > self.cfg.max_mention_length).sum())
        return tokens, firsts, lasts

    def build_dataset(self, path) -> MentionDataset:
        records, stats = self.read(path), MentionStats()
        examples = [self.build_example(r, i, path, stats) for i, r in enumerate(records)]
        stats.examples = len(examples)
        logger.info("%s: %d examples; %d lost context to --max-seq-length, %d mentions cut to "
                    "--max-mention-length", path, stats.examples, stats.truncated, stats.long_mentions)
        return MentionDataset(examples, self.dictionary.pad(), self.entity_vocab.pad, self.cfg.max_mention_length)

    def load_dataset(self, split, epoch=1, combine=False, **kwargs):
        self.datasets[split] = self.build_dataset(self.split_path(split))
