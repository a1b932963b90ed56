"""Registered tasks."""
from . import vocab_masked_lm, vocab_sentence_prediction  # noqa: F401
from . import luke_ner  # noqa: F401
from . import luke_entity_typing, luke_relation  # noqa: F401
from . import luke_record  # noqa: F401
from . import luke_squad  # noqa: F401
from . import luke_pretrain  # noqa: F401
from . import uer_pretrain  # noqa: F401
from . import uer_classification  # noqa: F401
from . import uer_dbqa, uer_c3  # noqa: F401
from . import blink_biencoder, blink_crossencoder  # noqa: F401
from . import lear_ner  # noqa: F401
from . import nq_reader  # noqa: F401
from . import extractive_qa  # noqa: F401
from . import token_tagging  # noqa: F401
