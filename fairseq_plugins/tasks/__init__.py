"""Registered tasks."""
from . import vocab_masked_lm, vocab_sentence_prediction  # noqa: F401
from . import luke_ner  # noqa: F401
from . import luke_entity_typing, luke_relation  # noqa: F401
from . import uer_pretrain  # noqa: F401
from . import uer_classification  # noqa: F401
from . import blink_biencoder, blink_crossencoder  # noqa: F401
from . import lear_ner  # noqa: F401
from . import nq_reader  # noqa: F401
