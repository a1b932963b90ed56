"""Session-wide reporting: how many hostile-input cases each reader ran (tests/test_fuzz_readers.py)."""
import sys


def pytest_terminal_summary(terminalreporter):
    fuzz = sys.modules.get("test_fuzz_readers")
    if fuzz is None or not fuzz.FUZZ_CASES:
        return
    terminalreporter.section("hostile-input cases per reader")
    for name, count in sorted(fuzz.FUZZ_CASES.items()):
        terminalreporter.write_line(f"{name:32s} {count:6d}")
