"""What every ``scripts/convert_*.py`` does around its conversion: warnings to stderr, bad input as one
``error: ...`` line and exit status 1 (no traceback), the conversion's report on stdout."""
import logging
import sys
from typing import Callable

from ..errors import InputError


def run_conversion(convert: Callable[[], object]) -> None:
    """Run ``convert()``, which returns a report with ``summary()``, as a command-line converter."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        report = convert()
    except InputError as e:
        sys.exit(f"error: {e}")
    print(report.summary())
