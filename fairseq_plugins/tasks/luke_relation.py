"""``luke_relation_classification``: LUKE on TACRED (one relation between a subject and an object).

Input (LUKE legacy ``relation_classification/utils.py``, HF ``task="entity_pair_classification"``):
the words with ``<ent> subject <ent>`` and ``<ent2> object <ent2>`` (markers omitted when the word
vocabulary lacks them), entities ``[MASK]`` (head) and ``[MASK2]`` (tail; ``[MASK]`` when the entity
vocabulary has no ``[MASK2]``). Head: bias-free linear over ``[head ; tail]``. Labels:
``no_relation`` (id 0, not counted by the metric) then the others sorted.
"""
import logging

import numpy as np
from fairseq.tasks import register_task

from ..data.luke_entity_vocab import MASK2
from ..data.luke_inputs import MentionExample
from ..data.luke_relation import read_tacred
from ..modules.entity_heads import EntityClassificationHead
from ._luke_mentions import LukeMentionConfig, LukeMentionTask

logger = logging.getLogger(__name__)

HEAD = "luke_relation_classification"
MARKERS = ("<ent>", "<ent2>")
NEGATIVE = "no_relation"



@register_task("luke_relation_classification", dataclass=LukeMentionConfig)
class LukeRelationTask(LukeMentionTask):
    HEAD = HEAD

    read = staticmethod(read_tacred)

    @staticmethod
    def sort_labels(labels):
        return [NEGATIVE] + sorted(set(labels) - {NEGATIVE})

    def build_example(self, record, index, path, stats):
        markers = [self.marker(m) for m in MARKERS]
        tokens, firsts, lasts = self.mark(self.word_ids(record.words), [record.head, record.tail], markers, path,
                                          record.line, stats)
        tail = self.entity_vocab.special(MASK2)
        entity_ids = np.array([self.entity_vocab.mask, self.entity_vocab.mask if tail is None else tail],
                              dtype=np.int64)
        target = np.array(self.label_id(record.relation, path, record.line, "relation"), dtype=np.int64)
        return MentionExample(tokens, firsts, lasts, entity_ids, target, index)

    def build_head(self, cfg):
        return EntityClassificationHead(cfg.encoder_embed_dim, len(self.labels), 2, cfg.pooler_dropout, bias=False)
