#!/usr/bin/env python
"""Turn a MediaWiki XML dump (.xml or .xml.bz2) into train/valid/test text for fairseq.

    python scripts/wiki_to_text.py --dump enwiki-latest-pages-articles.xml.bz2 --output-dir wiki/
    fairseq-preprocess --only-source --trainpref wiki/train.txt --validpref wiki/valid.txt \\
        --testpref wiki/test.txt ...   # then train with --sample-break-mode complete_doc

One paragraph (or, with --sentences, one sentence) per line, a blank line between articles.
Each article goes to one split by a hash of its title, so reruns give the same split.
Redirects, non-article pages, empty articles and short paragraphs are skipped and counted.
"""
import argparse
import logging
import sys

from tqdm import tqdm

from fairseq_plugins.data.wikipedia import DumpStats, iter_pages, write_text_splits
from fairseq_plugins.errors import InputError


def _ratio(text):
    value = float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not in [0, 1)")
    return value


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dump", required=True, help="MediaWiki XML export, plain or bz2-compressed")
    parser.add_argument("--output-dir", required=True, help="where train.txt, valid.txt and test.txt are written")
    parser.add_argument("--valid-ratio", type=_ratio, default=0.05, help="share of articles in valid.txt")
    parser.add_argument("--test-ratio", type=_ratio, default=0.05, help="share of articles in test.txt")
    parser.add_argument("--min-chars", type=int, default=20,
                        help="drop (and count) paragraphs shorter than this, e.g. headings")
    parser.add_argument("--sentences", action="store_true", help="one sentence per line instead of a paragraph")
    parser.add_argument("--max-articles", type=int, default=None, help="stop after this many articles")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.valid_ratio + args.test_ratio >= 1:
        parser.error("--valid-ratio plus --test-ratio must be below 1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")

    dump_stats = DumpStats()
    pages = tqdm(iter_pages(args.dump, dump_stats), unit=" pages", disable=args.no_progress, file=sys.stderr)
    try:
        stats = write_text_splits(pages, args.output_dir, valid_ratio=args.valid_ratio,
                                  test_ratio=args.test_ratio, min_chars=args.min_chars,
                                  sentences=args.sentences, max_articles=args.max_articles)
    except InputError as e:
        sys.exit(f"error: {e}")
    finally:
        pages.close()
    print(f"read {dump_stats.pages:,} pages ({dump_stats.wikitext_chars:,} characters of wikitext) "
          f"from {args.dump}; wrote {args.output_dir}/{{train,valid,test}}.txt")
    print(stats.table())


if __name__ == "__main__":
    main()
