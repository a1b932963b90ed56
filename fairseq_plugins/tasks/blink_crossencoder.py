"""``blink_crossencoder``: rerank the biencoder's top-k entities of each mention.

``DATA/{split}.jsonl`` are the top-k files ``scripts/blink_retrieve.py`` writes (mention fields
plus ``candidates``, best first); ``--kb`` gives the candidates' titles and descriptions.
Training keeps the mentions whose gold entity was retrieved (a softmax over k needs it);
other splits keep every mention, the unretrieved ones scored as wrong, so that validation
reports unnormalized accuracy next to normalized (gold retrieved) accuracy.
"""
import logging
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from fairseq.tasks import register_task

from ..data.blink_datasets import BlinkCrossencoderDataset
from ..errors import InputError
from .blink_biencoder import BlinkTask, BlinkTaskConfig

logger = logging.getLogger(__name__)


@dataclass
class BlinkCrossencoderTaskConfig(BlinkTaskConfig):
    max_seq_length: int = field(default=256, metadata={"help": "tokens of context + candidate"})
    max_candidates: Optional[int] = field(
        default=None, metadata={"help": "use only the first k retrieved candidates (default: all)"})


@register_task("blink_crossencoder", dataclass=BlinkCrossencoderTaskConfig)
class BlinkCrossencoderTask(BlinkTask):
    def load_dataset(self, split, epoch=1, combine=False, **kwargs):
        if self.kb is None:
            raise InputError(None, "the crossencoder needs --kb for the candidates' titles and descriptions",
                             field="kb")
        path, mentions = self.read_split(split)
        for m in mentions:
            if not m.candidates:
                raise InputError(path, "no candidates: not a top-k file of blink_retrieve.py", line=m.line,
                                 field="candidates")
            missing = [c for c in m.candidates if c not in self.kb]
            if missing:
                raise InputError(path, f"candidate {missing[0]!r} is not in {self.cfg.kb}", line=m.line,
                                 field="candidates")
        k = self.cfg.max_candidates
        lists = [m.candidates[:k] if k else m.candidates for m in mentions]
        target = np.array([c.index(m.label_id) if m.label_id in c else -1 for m, c in zip(mentions, lists)])
        training = split == self.cfg.train_subset
        if training:
            keep = np.flatnonzero(target >= 0)
            logger.info("%s: training on the %d of %d mentions whose gold entity was retrieved", path, len(keep),
                        len(mentions))
            mentions, lists, target = [mentions[i] for i in keep], [lists[i] for i in keep], target[keep]
            if not mentions:
                raise InputError(path, "no mention has its gold entity among its candidates")
        candidates, index = self.candidate_store(mentions, [c for cs in lists for c in cs])
        topk = [np.array([index[c] for c in cs], dtype=np.int64) for cs in lists]
        self.datasets[split] = BlinkCrossencoderDataset(
            self.context_tensors(mentions), candidates, topk, target, self.dictionary.pad(), self.builder.pair,
            self.cfg.max_seq_length, shuffle=not self.cfg.no_shuffle and training, seed=self.cfg.seed)
        logger.info("%s: %d mentions, up to %d candidates each", path, len(mentions), max(map(len, lists)))
