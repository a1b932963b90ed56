#!/usr/bin/env python
"""Build a vocabulary from a corpus, as UER-py's ``scripts/build_vocab.py`` (several processes).

The vocabulary file lists UER's reserved tokens (``[PAD] [UNK] [CLS] [SEP] [MASK]``) and then the
corpus's tokens by falling count, one a line, ready for ``--vocab-path`` / ``--tokenizer char|space``
(``bert`` vocabularies from here hold whole words, since WordPiece pieces need a trained vocabulary)::

    python scripts/build_vocab.py --corpus-path corpora/book_review.txt --vocab-path vocab.txt \\
        --tokenizer char --workers-num 4 --min-count 2

``--tokenizer``: ``char`` (every non-space character), ``space`` (whitespace-separated words),
``bert`` (BERT's basic tokenization without WordPiece), ``word`` (jieba word segmentation).
"""
import argparse
import os
import sys

from tqdm import tqdm

from fairseq_plugins.data.vocab_builder import RESERVED, SPLITTERS, Splitter, build_vocab, count_tokens
from fairseq_plugins.errors import InputError
from fairseq_plugins.tool_model import run_cli


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus-path", "--corpus", dest="corpus_path", required=True, help="UTF-8 text")
    parser.add_argument("--vocab-path", "--output-path", dest="vocab_path", required=True, help="vocabulary to write")
    parser.add_argument("--tokenizer", choices=SPLITTERS, default="bert")
    parser.add_argument("--lowercase", action="store_true", help="lower-case first (bert: also strip accents)")
    parser.add_argument("--workers-num", type=int, default=1, help="processes counting in parallel")
    parser.add_argument("--min-count", type=int, default=1, help="drop tokens seen fewer times")
    parser.add_argument("--max-size", type=int, help="at most this many entries, reserved tokens included")
    parser.add_argument("--reserved", nargs="*", default=list(RESERVED), help="tokens listed first, in this order")
    parser.add_argument("--with-counts", action="store_true", help="write 'token count' lines (fairseq dict.txt)")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.corpus_path):
        raise InputError(args.corpus_path, "corpus not found")
    if args.workers_num < 1 or args.min_count < 1:
        parser.error("--workers-num and --min-count must be at least 1")

    with open(args.corpus_path, "rb") as source, tqdm(unit=" lines", unit_scale=True, file=sys.stderr,
                                                       disable=None) as bar:
        counts = count_tokens(source, args.corpus_path, Splitter(args.tokenizer, args.lowercase),
                              workers=args.workers_num, progress=bar.update)
    tokens = build_vocab(counts, args.min_count, args.max_size, args.reserved)
    with open(args.vocab_path, "w", encoding="utf-8") as f:
        for token in tokens:
            f.write(f"{token} {counts.get(token, 0)}\n" if args.with_counts else f"{token}\n")
    kept = len(tokens) - len(args.reserved)
    print(f"{sum(counts.values())} tokens, {len(counts)} distinct; wrote {len(tokens)} entries "
          f"({len(args.reserved)} reserved + {kept}; {len(counts) - kept} below --min-count or past --max-size) "
          f"to {args.vocab_path}", file=sys.stderr)
    return tokens


if __name__ == "__main__":
    run_cli(main)
