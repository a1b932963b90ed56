"""fairseq-plugins: the ``--user-dir`` package.

Importing it registers every task, model and criterion with fairseq. fairseq
auto-imports only ``tasks/`` and ``models/`` of a user dir, so the other
subpackages are imported here; ``compat`` comes first because it adjusts how
checkpoints load on the modern stack.
"""
from . import compat  # noqa: F401  (must precede anything that loads checkpoints)
from . import checkpoint_io  # noqa: F401  (atomic checkpoint copies, clear errors for bad files)
from . import data, modules, optim  # noqa: F401
from . import criterions, models, tasks  # noqa: F401

__version__ = "0.1.0"
