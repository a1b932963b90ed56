"""fairseq's ``masked_lm`` with a dictionary whose ids are the original vocabulary's.

Only dictionary loading changes: converted BERT/RoBERTa weights keep meaning the same
tokens, and ``[MASK]`` is the vocabulary's own entry (see ``data/vocab_dictionary.py``).
"""
import os

from fairseq import utils
from fairseq.tasks import register_task
from fairseq.tasks.masked_lm import MaskedLMConfig, MaskedLMTask

from ..data import load_dictionary


@register_task("vocab_masked_lm", dataclass=MaskedLMConfig)
class VocabMaskedLMTask(MaskedLMTask):
    @classmethod
    def load_dictionary(cls, filename):
        return load_dictionary(filename)

    @classmethod
    def load_dict(cls, cfg):
        paths = utils.split_paths(cfg.data)
        assert len(paths) > 0
        return load_dictionary(os.path.join(paths[0], "dict.txt"))
