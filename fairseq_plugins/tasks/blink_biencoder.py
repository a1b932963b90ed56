"""BLINK tasks read mention jsonl directly and tokenize with the model's own vocabulary.

``blink_biencoder``: ``DATA/{split}.jsonl`` mentions; each is paired with its gold entity,
taken from ``--kb`` when given (the same title + description that retrieval encodes) or from
the mention's ``label_title``/``label`` fields. ``--hard-negatives`` names a top-k file that
``scripts/blink_retrieve.py`` wrote for the training mentions with an earlier checkpoint; each
batch then adds ``--num-hard-negatives`` of each mention's retrieved non-gold entities.
Training order is shuffled every epoch (``--no-shuffle`` keeps file order).
"""
import logging
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from fairseq.dataclass import ChoiceEnum, FairseqDataclass
from fairseq.tasks import register_task
from omegaconf import II

from ..data.blink_datasets import BlinkBiencoderDataset
from ..data.blink_formats import KnowledgeBase, Mention, read_mentions
from ..data.blink_inputs import MENTION_END, MENTION_START, TITLE_SEPARATOR, BlinkInputBuilder
from ..errors import InputError
from ..models.pretrained_encoder import build_with_pretrained_encoder
from ..tokenization import KINDS, build_tokenizer
from ._single_dictionary import SingleDictionaryTask

logger = logging.getLogger(__name__)


@dataclass
class BlinkTaskConfig(FairseqDataclass):
    data: str = field(default="", metadata={"help": "folder with {split}.jsonl mention files"})
    vocab: str = field(default="", metadata={"help": "vocabulary of the encoder (vocab.txt of the converted model)"})
    tokenizer_kind: ChoiceEnum(KINDS) = field(default="bert", metadata={"help": "tokenizer kind for --vocab"})
    kb: Optional[str] = field(default=None, metadata={"help": "knowledge-base jsonl (id, title, text, world)"})
    max_context_length: int = field(default=128, metadata={"help": "tokens of a mention in context"})
    max_candidate_length: int = field(default=128, metadata={"help": "tokens of an entity (title + description)"})
    mention_start_token: str = field(default=MENTION_START, metadata={"help": "vocabulary entry opening a mention"})
    mention_end_token: str = field(default=MENTION_END, metadata={"help": "vocabulary entry closing a mention"})
    title_separator_token: str = field(default=TITLE_SEPARATOR, metadata={"help": "entry between title and text"})
    no_shuffle: bool = field(default=False, metadata={"help": "keep file order (BLINK's default)"})
    seed: int = II("common.seed")
    train_subset: str = II("dataset.train_subset")


@dataclass
class BlinkBiencoderTaskConfig(BlinkTaskConfig):
    hard_negatives: Optional[str] = field(
        default=None, metadata={"help": "top-k jsonl of the training mentions (blink_retrieve.py with an earlier "
                                        "checkpoint); needs --kb"})
    num_hard_negatives: int = field(default=1, metadata={"help": "hard negatives added per mention and batch"})


class BlinkTask(SingleDictionaryTask):
    """What both BLINK tasks share: vocabulary, input builder, KB and candidate token store."""

    def __init__(self, cfg: BlinkTaskConfig, tokenizer):
        super().__init__(cfg)
        self.tokenizer = tokenizer
        self.dictionary = tokenizer.dictionary
        self.builder = BlinkInputBuilder(tokenizer, cfg.max_context_length, cfg.max_candidate_length,
                                         cfg.mention_start_token, cfg.mention_end_token, cfg.title_separator_token)
        self._kb = None

    @classmethod
    def setup_task(cls, cfg, **kwargs):
        if not cfg.vocab:
            raise InputError(None, "--vocab is required (the vocab.txt of the encoder)", field="vocab")
        return cls(cfg, build_tokenizer(cfg.tokenizer_kind, cfg.vocab))

    def build_model(self, cfg, from_checkpoint=False):
        return build_with_pretrained_encoder(self, cfg, from_checkpoint)

    @property
    def kb(self) -> Optional[KnowledgeBase]:
        if self._kb is None and self.cfg.kb:
            self._kb = KnowledgeBase(self.cfg.kb)
        return self._kb

    def split_path(self, split: str) -> str:
        return os.path.join(self.cfg.data, f"{split}.jsonl")

    def read_split(self, split: str) -> Tuple[str, List[Mention]]:
        path = self.split_path(split)
        return path, read_mentions(path, self.kb)

    def context_tensors(self, mentions: Sequence[Mention]) -> List[torch.Tensor]:
        ids = self.builder.contexts([m.context_left for m in mentions], [m.mention for m in mentions],
                                    [m.context_right for m in mentions])
        return [torch.tensor(i, dtype=torch.long) for i in ids]

    def candidate_store(self, mentions: Sequence[Mention], extra_ids: Sequence[str] = ()):
        """(token tensors, entity id -> index) for every gold and extra entity.

        Entities come from the KB when there is one, else from the mentions' label fields."""
        index: Dict[str, int] = {}
        titles, texts = [], []
        if self.kb is not None:
            wanted = list(dict.fromkeys([m.label_id for m in mentions] + list(extra_ids)))
            for entity in self.kb.entities([self.kb.row_of[i] for i in wanted]):
                index[entity.id] = len(titles)
                titles.append(entity.title)
                texts.append(entity.text)
        else:
            for m in mentions:
                if m.label_id not in index:
                    index[m.label_id] = len(titles)
                    titles.append(m.label_title)
                    texts.append(m.label)
        ids = self.builder.candidates(titles, texts)
        return [torch.tensor(i, dtype=torch.long) for i in ids], index


def mention_key(m: Mention) -> tuple:
    return m.context_left, m.mention, m.context_right, m.label_id


@register_task("blink_biencoder", dataclass=BlinkBiencoderTaskConfig)
class BlinkBiencoderTask(BlinkTask):
    def load_dataset(self, split, epoch=1, combine=False, **kwargs):
        path, mentions = self.read_split(split)
        negatives: Optional[List[List[str]]] = None
        if self.cfg.hard_negatives and split == self.cfg.train_subset:
            negatives = self._mined_negatives(mentions)
        candidates, index = self.candidate_store(mentions, [i for n in negatives or [] for i in n])
        gold = np.array([index[m.label_id] for m in mentions], dtype=np.int64)
        pools = None if negatives is None else [np.array([index[i] for i in n], dtype=np.int64) for n in negatives]
        self.datasets[split] = BlinkBiencoderDataset(
            self.context_tensors(mentions), candidates, gold, self.dictionary.pad(), pools,
            self.cfg.num_hard_negatives, shuffle=not self.cfg.no_shuffle and split == self.cfg.train_subset,
            seed=self.cfg.seed)
        logger.info("%s: %d mentions, %d distinct entities", path, len(mentions), len(candidates))

    def _mined_negatives(self, mentions: List[Mention]) -> List[List[str]]:
        """Per mention, its retrieved entities other than the gold, matched by context, mention and label."""
        path = self.cfg.hard_negatives
        if self.kb is None:
            raise InputError(path, "hard negatives need --kb for the negatives' titles and descriptions")
        mined = {}
        for m in read_mentions(path):
            if m.candidates is None:
                raise InputError(path, "no candidates: not a top-k file of blink_retrieve.py", line=m.line,
                                 field="candidates")
            mined[mention_key(m)] = m.candidates
        unmatched = unknown = 0
        negatives = []
        for m in mentions:
            pool = mined.get(mention_key(m))
            unmatched += pool is None
            kept = [c for c in pool or [] if c != m.label_id and c in self.kb]
            unknown += len([c for c in pool or [] if c not in self.kb])
            negatives.append(kept)
        logger.info("%s: hard negatives for %d of %d mentions (%d without a mined list, %d entity ids not in "
                    "the KB skipped)", path, len(mentions) - unmatched, len(mentions), unmatched, unknown)
        return negatives
