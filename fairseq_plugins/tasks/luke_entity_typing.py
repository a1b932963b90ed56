"""``luke_entity_typing``: LUKE on Open Entity (multi-label typing of one marked mention).

Input (LUKE legacy ``entity_typing/utils.py``, HF ``task="entity_classification"``):
``<s> left <ent> mention <ent> right </s>`` with one ``[MASK]`` entity over the markers and the
mention; without ``<ent>`` in the word vocabulary (a LUKE-lite conversion of a plain BERT) the
mention is unmarked and the entity covers its word pieces. Head: linear over that entity's state.
"""

import numpy as np
from fairseq.tasks import register_task

from ..data.luke_inputs import MentionExample
from ..data.luke_typing import read_open_entity
from ..modules.entity_heads import EntityClassificationHead
from ._luke_mentions import LukeMentionConfig, LukeMentionTask

HEAD = "luke_entity_typing"
MARKER = "<ent>"



@register_task("luke_entity_typing", dataclass=LukeMentionConfig)
class LukeEntityTypingTask(LukeMentionTask):
    HEAD = HEAD

    read = staticmethod(read_open_entity)

    def text_ids(self, record):
        """Left context, mention, right context, each tokenized alone (LUKE strips trailing spaces)."""
        texts = [t.rstrip() for t in record.pieces]
        ids = self.word_ids([t.lstrip() for t in texts])
        return [piece if text.strip() else [] for piece, text in zip(ids, texts)]

    def build_example(self, record, index, path, stats):
        tokens, firsts, lasts = self.mark(self.text_ids(record), [(1, 2)], [self.marker(MARKER)], path,
                                          record.line, stats)
        target = np.zeros(len(self.labels), dtype=np.float32)
        for label in record.labels:
            target[self.label_id(label, path, record.line, "labels")] = 1.0
        return MentionExample(tokens, firsts, lasts, np.array([self.entity_vocab.mask], dtype=np.int64), target,
                              index)

    def build_head(self, cfg):
        return EntityClassificationHead(cfg.encoder_embed_dim, len(self.labels), 1, cfg.pooler_dropout)
