#!/usr/bin/env python
"""Compare two vocabularies, as UER-py's ``scripts/diff_vocab.py``: sizes, tokens only in each, tokens in both.

    python scripts/diff_vocab.py --vocab-1 models/google_zh_vocab.txt --vocab-2 task_vocab.txt [--show 20]

Reads vocab.txt, fairseq dict.txt, JSON vocabularies and sentencepiece ``.model`` files. ``--output-dir``
writes the tokens of each part (``only_1.txt``, ``only_2.txt``, ``both.txt``, in vocabulary order).
"""
import argparse
import os
import sys

from fairseq_plugins.data.vocab_dictionary import read_vocab
from fairseq_plugins.tool_model import run_cli


def diff(tokens_1, tokens_2):
    """(only in 1, only in 2, in both), each in the order of its first vocabulary."""
    set_1, set_2 = set(tokens_1), set(tokens_2)
    return ([t for t in tokens_1 if t not in set_2], [t for t in tokens_2 if t not in set_1],
            [t for t in tokens_1 if t in set_2])


def _distinct(tokens, path):
    distinct = list(dict.fromkeys(tokens))
    if len(distinct) < len(tokens):
        print(f"note: {path} lists {len(tokens) - len(distinct)} tokens more than once; counted once",
              file=sys.stderr)
    return distinct


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vocab-1", "--vocab-1-path", dest="vocab_1", required=True)
    parser.add_argument("--vocab-2", "--vocab-2-path", dest="vocab_2", required=True)
    parser.add_argument("--show", type=int, default=10, help="print this many tokens of each difference")
    parser.add_argument("--output-dir", help="write only_1.txt, only_2.txt and both.txt here")
    args = parser.parse_args(argv)

    tokens_1, tokens_2 = (_distinct(read_vocab(path)[0], path) for path in (args.vocab_1, args.vocab_2))
    only_1, only_2, both = diff(tokens_1, tokens_2)
    rows = [("vocab_1", args.vocab_1, len(tokens_1)), ("vocab_2", args.vocab_2, len(tokens_2)),
            ("vocab_1 - vocab_2", "", len(only_1)), ("vocab_2 - vocab_1", "", len(only_2)),
            ("vocab_1 & vocab_2", "", len(both))]
    print("| set | file | tokens |\n|---|---|---:|")
    for name, path, n in rows:
        print(f"| {name} | {path} | {n} |")
    for name, part in (("vocab_1 - vocab_2", only_1), ("vocab_2 - vocab_1", only_2)):
        if part and args.show > 0:
            more = f" ... (+{len(part) - args.show})" if len(part) > args.show else ""
            print(f"{name}: {' '.join(part[:args.show])}{more}")
    if args.output_dir:
        os.makedirs(args.output_dir, exist_ok=True)
        for name, part in (("only_1", only_1), ("only_2", only_2), ("both", both)):
            with open(os.path.join(args.output_dir, f"{name}.txt"), "w", encoding="utf-8") as f:
                f.writelines(t + "\n" for t in part)
    sys.stdout.flush()
    return {"size_1": len(tokens_1), "size_2": len(tokens_2), "only_1": len(only_1), "only_2": len(only_2),
            "both": len(both)}


if __name__ == "__main__":
    run_cli(main)
