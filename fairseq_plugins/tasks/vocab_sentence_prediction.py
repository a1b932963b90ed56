"""fairseq's ``sentence_prediction`` with the original vocabulary's ids.

The input dictionary keeps the vocabulary's ids (labels keep fairseq's Dictionary), and
``--init-token`` defaults to the vocabulary's own ``[CLS]`` / ``<s>`` so that the
classification head reads the token it was trained to read. Each binarized sentence already
ends with the end token, so pairs read ``[CLS] a [SEP] b [SEP]`` for BERT vocabularies;
RoBERTa's ``<s> a </s></s> b </s>`` gets its extra ``</s>`` as ``--separator-token``.
Segment ids for the second sentence are not yet passed (all token type 0).
"""
import logging

from fairseq.tasks import register_task
from fairseq.tasks.sentence_prediction import SentencePredictionConfig, SentencePredictionTask

from ..data import load_dictionary

logger = logging.getLogger(__name__)


@register_task("vocab_sentence_prediction", dataclass=SentencePredictionConfig)
class VocabSentencePredictionTask(SentencePredictionTask):
    @classmethod
    def load_dictionary(cls, filename):
        dictionary = load_dictionary(filename)
        dictionary.add_symbol("<mask>")
        return dictionary

    def __init__(self, cfg, data_dictionary, label_dictionary):
        super().__init__(cfg, data_dictionary, label_dictionary)
        if cfg.init_token is None:
            cfg.init_token = data_dictionary.bos()
            logger.info("init token: %s (%d)", data_dictionary[cfg.init_token], cfg.init_token)
        if cfg.separator_token is None and data_dictionary.bos_word == "<s>":
            cfg.separator_token = data_dictionary.eos()
