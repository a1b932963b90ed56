"""``luke_record``: cloze QA on ReCoRD with LUKE (the seed's ``entity-span-qa``).

``DATA`` holds ``train``, ``valid`` (or the release's ``dev``, SuperGLUE's ``val``) and ``test`` as
``.json`` (release) or ``.jsonl`` (SuperGLUE). Inputs are described in ``data/luke_record.py``:
the placeholder is one word token (``--placeholder-token``, default the vocabulary's mask token),
candidates are wrapped in ``--entity-marker`` (``<ent>`` when the vocabulary has it), and every
entity is the entity vocabulary's ``[MASK]``. Head: a linear over ``[placeholder ; candidate]``;
loss: binary cross-entropy per candidate; prediction: the candidate with the highest logit over
all windows of a question. Validation logs the official ReCoRD EM/F1 over questions (``em``,
``f1``), a question without candidates scoring 0.
"""
import logging
import os
from dataclasses import dataclass, field
from typing import Optional

from fairseq.dataclass import FairseqDataclass
from fairseq.tasks import register_task

from ..data.luke_record import RecordDataset, RecordInputs, RecordStats, read_record
from ..errors import InputError
from ..modules.entity_heads import PlaceholderScoringHead
from ._luke_vocab import LukeVocabTask

logger = logging.getLogger(__name__)

HEAD = "luke_record"


@dataclass
class LukeRecordConfig(FairseqDataclass):
    data: str = field(default="", metadata={"help": "folder with train / valid (dev, val) / test .json or .jsonl"})
    vocab_dir: str = field(default="", metadata={
        "help": "converted model folder: dict.txt, tokenizer files, entity vocabulary"})
    max_seq_length: int = field(default=512, metadata={"help": "word pieces per window, query included"})
    max_query_length: int = field(default=90, metadata={
        "help": "query word pieces kept (cut around the placeholder, counted)"})
    doc_stride: int = field(default=128, metadata={"help": "word pieces between window starts"})
    max_mention_length: int = field(default=30, metadata={
        "help": "entity positions per candidate, markers included (longer ones are cut)"})
    placeholder_token: Optional[str] = field(default=None, metadata={
        "help": "word token standing for @placeholder (default: the vocabulary's mask token)"})
    entity_marker: Optional[str] = field(default=None, metadata={
        "help": "word token around every candidate (default: <ent> when the vocabulary has it; 'none' for "
                "no markers)"})


def share_token_type(task, cfg) -> None:
    """A model with one token type (RoBERTa's LUKE) reads the passage with the question's type 0:
    ``task.passage_segment`` and the datasets loaded before the model was built follow."""
    if task.passage_segment and getattr(cfg, "num_segments", 2) < 2:
        logger.info("the model has one token type: the passage shares it with the question")
        task.passage_segment = 0
        for dataset in task.datasets.values():
            dataset.passage_segment = 0


@register_task("luke_record", dataclass=LukeRecordConfig)
class LukeRecordTask(LukeVocabTask):
    HEAD = HEAD

    def __init__(self, cfg: LukeRecordConfig, dictionary, entity_vocab):
        super().__init__(cfg, dictionary, entity_vocab)
        placeholder = cfg.placeholder_token or ("<mask>" if dictionary.has_mask() else None)
        if placeholder is None or (placeholder not in dictionary.indices and placeholder != "<mask>"):
            raise InputError(os.path.join(cfg.vocab_dir, "dict.txt"),
                             f"no placeholder token {placeholder or '(the vocabulary has no mask token)'}; "
                             "pass --placeholder-token", field="placeholder_token")
        marker = cfg.entity_marker if cfg.entity_marker is not None else ("<ent>" if "<ent>" in dictionary.indices
                                                                          else "none")
        if marker != "none" and marker not in dictionary.indices:
            raise InputError(os.path.join(cfg.vocab_dir, "dict.txt"), f"no entity marker token {marker!r}",
                             field="entity_marker")
        # BERT-style vocabularies give the passage token type 1; RoBERTa uses 0 and </s></s> (LUKE's rule).
        self.byte_level = self.prefix == " "
        self.passage_segment = 0 if self.byte_level else 1
        self.inputs = RecordInputs(
            lambda texts: [self.dictionary_ids(t) for t in self.tokenizer.tokenize_batch(texts)], self.prefix,
            dictionary.bos(), dictionary.eos(), dictionary.index(placeholder),
            None if marker == "none" else dictionary.index(marker), self.byte_level, cfg.max_seq_length,
            cfg.max_query_length, cfg.doc_stride)
        logger.info("placeholder token %s, entity marker %s, passage token type %d", placeholder, marker,
                    self.passage_segment)

    @classmethod
    def setup_task(cls, cfg, **kwargs):
        dictionary, entity_vocab = cls.load_vocabs(cfg)
        return cls(cfg, dictionary, entity_vocab)

    def split_path(self, split: str) -> str:
        names = [split] + (["dev", "val"] if split == "valid" else [])
        for name in names:
            for extension in (".json", ".jsonl"):
                path = os.path.join(self.cfg.data, name + extension)
                if os.path.isfile(path):
                    return path
        raise InputError(os.path.join(self.cfg.data, f"{split}.json"),
                         f"no {' / '.join(names)} file (.json or .jsonl) in {self.cfg.data}")

    def build_dataset(self, path, keep_empty: bool = True) -> RecordDataset:
        """Windows of every question of ``path``; ``keep_empty`` keeps questions without candidates (for
        evaluation: they score 0)."""
        stats = RecordStats()
        try:
            examples, questions, texts = self.inputs.examples(read_record(path), stats, keep_empty)
        except ValueError as e:
            if isinstance(e, InputError):
                raise
            raise InputError(path, str(e))
        logger.info("%s: %s", path, stats.summary())
        return RecordDataset(examples, questions, texts, self.dictionary.pad(), self.entity_vocab.pad,
                             self.entity_vocab.mask, self.cfg.max_mention_length, self.passage_segment)

    def load_dataset(self, split, epoch=1, combine=False, **kwargs):
        self.datasets[split] = self.build_dataset(self.split_path(split), keep_empty=split != "train")

    def build_model(self, cfg, from_checkpoint=False):
        model = super().build_model(cfg, from_checkpoint)
        share_token_type(self, cfg)
        return model

    def build_head(self, cfg):
        return PlaceholderScoringHead(cfg.encoder_embed_dim, cfg.pooler_dropout)
