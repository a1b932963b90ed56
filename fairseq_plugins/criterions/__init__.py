"""Registered criterions (the foundation reuses fairseq's masked_lm and sentence_prediction)."""
from . import blink_crossencoder, blink_in_batch  # noqa: F401
from . import uer_pretrain  # noqa: F401
from . import uer_classification  # noqa: F401
from . import luke_span_ner  # noqa: F401
from . import luke_entity_classification  # noqa: F401
from . import luke_record  # noqa: F401
from . import luke_squad  # noqa: F401
from . import luke_pretrain  # noqa: F401
from . import lear_span  # noqa: F401
from . import nq_reader  # noqa: F401
from . import extractive_qa  # noqa: F401
from . import token_tagging  # noqa: F401
