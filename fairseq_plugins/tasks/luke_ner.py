"""``luke_ner``: named entity recognition by span enumeration (LUKE on CoNLL-2003).

``DATA/{train,valid,test}.txt`` are CoNLL files (``--tagging-scheme iob1`` for the original
``eng.*`` files, ``iob2`` otherwise). ``--vocab-dir`` is a converted model folder: its
``dict.txt`` and tokenizer files (``vocab.txt`` for WordPiece, ``vocab.json`` + ``merges.txt``
for byte-level BPE) and its entity vocabulary (LUKE-lite's when absent).
"""
import logging
import os
from dataclasses import dataclass, field
from typing import Optional

from fairseq.dataclass import ChoiceEnum, FairseqDataclass
from fairseq.tasks import register_task

from ..data.conll import read_conll
from ..data.luke_entity_vocab import EntityVocab
from ..data.luke_ner import LukeNerDataset, build_examples
from ..errors import InputError
from ..modules.entity_heads import EntitySpanClassificationHead
from ._luke_vocab import LukeVocabTask

logger = logging.getLogger(__name__)

HEAD = "luke_ner"


@dataclass
class LukeNerConfig(FairseqDataclass):
    data: str = field(default="", metadata={"help": "folder with train.txt / valid.txt / test.txt (CoNLL)"})
    vocab_dir: str = field(default="", metadata={
        "help": "converted model folder: dict.txt, tokenizer files, entity vocabulary"})
    tagging_scheme: ChoiceEnum(["iob1", "iob2"]) = field(default="iob1", metadata={
        "help": "tags of the files: iob1 (original CoNLL-2003 eng.*) or iob2"})
    labels: Optional[str] = field(default=None, metadata={
        "help": "comma-separated entity types (default: the sorted types of train.txt)"})
    max_seq_length: int = field(default=512, metadata={"help": "subwords per input, document context included"})
    max_mention_length: int = field(default=16, metadata={"help": "longest enumerated span, in subwords"})
    max_entity_length: int = field(default=0, metadata={
        "help": "spans per example; 0 = all spans of a sentence in one example (then the logged F1 is the exact "
                "entity-level F1); LUKE uses 128"})
    seed: int = field(default=1, metadata={"help": "shuffling seed"})


@register_task("luke_ner", dataclass=LukeNerConfig)
class LukeNerTask(LukeVocabTask):
    HEAD = HEAD

    def __init__(self, cfg: LukeNerConfig, dictionary, entity_vocab: EntityVocab, labels):
        super().__init__(cfg, dictionary, entity_vocab)
        self.labels = labels

    @classmethod
    def setup_task(cls, cfg: LukeNerConfig, **kwargs):
        dictionary, entity_vocab = cls.load_vocabs(cfg)
        if cfg.labels:
            types = [t.strip() for t in cfg.labels.split(",") if t.strip()]
        else:
            train = read_conll(os.path.join(cfg.data, "train.txt"), cfg.tagging_scheme)
            types = sorted({e[2] for d in train for s in d.sentences for e in s.entities})
        return cls(cfg, dictionary, entity_vocab, ["NIL"] + types)

    def build_dataset(self, path, shuffle=False):
        documents = read_conll(path, self.cfg.tagging_scheme)
        try:
            examples, stats = build_examples(
                documents, self.word_ids, self.labels, self.dictionary.bos(), self.dictionary.eos(),
                self.cfg.max_seq_length, self.cfg.max_mention_length, self.cfg.max_entity_length, path)
        except ValueError as e:
            raise InputError(path, str(e))
        logger.info("%s: %d sentences, %d spans, %d gold entities; %d gold longer than --max-mention-length, "
                    "%d sentences cut to --max-seq-length losing %d gold (all counted as missed)", path,
                    stats.sentences, stats.spans, stats.gold, stats.gold_too_long, stats.truncated_sentences,
                    stats.gold_truncated)
        return LukeNerDataset(examples, self.dictionary.pad(), self.entity_vocab.pad, self.entity_vocab.mask,
                              self.cfg.max_mention_length, shuffle=shuffle, seed=self.cfg.seed)

    def load_dataset(self, split, epoch=1, combine=False, **kwargs):
        path = os.path.join(self.cfg.data, f"{split}.txt")
        self.datasets[split] = self.build_dataset(path, shuffle=split == "train")

    def build_head(self, cfg):
        return EntitySpanClassificationHead(cfg.encoder_embed_dim, len(self.labels), cfg.pooler_dropout)
