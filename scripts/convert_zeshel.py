#!/usr/bin/env python
"""Convert raw Zeshel into BLINK's mention and KB jsonl.

    python scripts/convert_zeshel.py --zeshel-dir data/zeshel --out-dir data/zeshel/blink_format

Reads ``documents/<world>.json`` and ``mentions/{train,val,test}.json``; writes ``kb.jsonl`` (every
world; ids are Zeshel document ids) and ``{train,valid,test}.jsonl``. Skipped mentions and
mentions outside their split's worlds (Zeshel's 8/4/4 split) are counted and printed.
"""
import argparse
import sys

from fairseq_plugins.data.blink_zeshel import CONTEXT_WORDS, convert_zeshel
from fairseq_plugins.errors import InputError


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zeshel-dir", required=True, help="folder with documents/ and mentions/")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--context-words", type=int, default=CONTEXT_WORDS, help="words kept each side of a mention")
    args = parser.parse_args(argv)
    try:
        report = convert_zeshel(args.zeshel_dir, args.out_dir, args.context_words)
    except InputError as e:
        sys.exit(f"error: {e}")
    print(report.summary())


if __name__ == "__main__":
    main()
