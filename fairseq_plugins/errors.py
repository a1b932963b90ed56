"""The one error type users see for bad input.

Readers, converters and loaders raise :class:`InputError` naming the file, the
line and the field at fault, so that a malformed vocabulary or checkpoint is
reported in one sentence instead of a stack trace from deep inside fairseq.
"""
from __future__ import annotations

import os
from typing import Optional


class InputError(ValueError):
    """Bad user input: ``path[:line]: [field: ]message``."""

    def __init__(self, path, message: str, line: Optional[int] = None, field: Optional[str] = None):
        self.path = os.fspath(path) if path is not None else None
        self.line = line
        self.field = field
        self.message = message
        where = self.path or "<input>"
        if line is not None:
            where += f":{line}"
        what = f"{field}: {message}" if field else message
        super().__init__(f"{where}: {what}")

    def __reduce__(self):  # picklable, so it crosses worker-process boundaries intact
        return type(self), (self.path, self.message, self.line, self.field)
