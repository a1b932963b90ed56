"""Reading UTF-8 text files line by line with errors that name the file and line.

Python's text mode raises ``UnicodeDecodeError`` from deep inside iteration, with a byte offset
into a buffer and no file name; decoding each line here turns a stray Latin-1 byte into
``file:line: not UTF-8 text``.
"""
import os
from typing import Iterator, Tuple

from ..errors import InputError


def text_lines(path, what: str = "file") -> Iterator[Tuple[int, str]]:
    """``(line number, line)`` for every line of ``path``, without its line ending (streamed)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, f"{what} not found")
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise InputError(path, f"not UTF-8 text ({e.reason} at byte {e.start} of the line)", line=number)
            yield number, line.rstrip("\r\n")
