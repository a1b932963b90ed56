#!/usr/bin/env python
"""Build LUKE's entity vocabulary from a Wikipedia XML dump.

    python scripts/build_entity_vocab.py --dump enwiki-latest-pages-articles.xml.bz2 \
        --output entity_vocab.jsonl --max-size 500000 --min-count 1 --workers 8

Counts ``[[target|anchor]]`` links of articles, resolves targets through the dump's redirects,
leaves out other namespaces, and writes ``[PAD] [UNK] [MASK]`` (ids 0-2) then titles by count.
The form follows the extension: .jsonl (LUKE), .tsv (LUKE's first release) or .json (Hugging Face).
"""
import argparse
import logging
import sys

from fairseq_plugins.data.luke_entity_vocab import build_entity_vocab
from fairseq_plugins.errors import InputError


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dump", required=True, help="MediaWiki XML export, plain or .bz2")
    parser.add_argument("--output", required=True, help="entity_vocab.jsonl / .tsv / .json")
    parser.add_argument("--max-size", type=int, default=500_000, help="entities kept, special entities included")
    parser.add_argument("--min-count", type=int, default=1, help="fewest links a kept entity has")
    parser.add_argument("--workers", type=int, default=1, help="processes parsing wikitext")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        vocab, stats = build_entity_vocab(args.dump, args.max_size, args.min_count, args.workers)
    except InputError as e:
        sys.exit(f"error: {e}")
    vocab.save(args.output)
    print(f"wrote {args.output}: {len(vocab)} entities from {stats.articles} articles, {stats.links} links "
          f"({stats.redirects} redirects resolved); skipped: {stats.namespaced_links} links into other "
          f"namespaces, {stats.below_min_count} targets below --min-count, {stats.beyond_max_size} beyond --max-size")
    print("most linked: " + ", ".join(f"{title} ({count})" for title, count in stats.top))


if __name__ == "__main__":
    main()
