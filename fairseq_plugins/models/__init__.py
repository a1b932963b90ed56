"""Registered models: one encoder core plus task heads."""
from . import bert_plugin  # noqa: F401
from . import uer  # noqa: F401
from . import blink_biencoder, blink_crossencoder  # noqa: F401
from . import luke  # noqa: F401
from . import lear  # noqa: F401
from . import nq_reader  # noqa: F401
from . import extractive_qa  # noqa: F401
from . import token_tagger  # noqa: F401
