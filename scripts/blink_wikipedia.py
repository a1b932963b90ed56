#!/usr/bin/env python
"""Build a zero-shot entity-linking set (BLINK jsonl) from a Wikipedia dump.

    python scripts/blink_wikipedia.py --dump enwiki-sample.xml.bz2 --out-dir wiki_linking/

Writes ``kb.jsonl`` (articles as title + lead paragraph, other link targets as title-only
distractors) and ``{train,valid,test}.jsonl`` mentions (link anchors and later occurrences of
titles and redirects), with articles split by a hash of their title so that the valid and
test entities never occur in training. Prints the counts, including everything left out.

``--mention-set ambiguous`` writes the hard mentions only (the same KB and splits): surface
forms that differ from the entity's title (redirects, partial titles, other anchor texts) or
that can name several KB entities, with gold title-only entities allowed; each mention lists
its ``hardness`` reasons. See :mod:`fairseq_plugins.data.blink_wikipedia`.
"""
import argparse
import json
import logging
import os
import sys

from fairseq_plugins.data.blink_wikipedia import MENTION_SETS, build_wikipedia_linking
from fairseq_plugins.errors import InputError


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dump", required=True, help="MediaWiki XML export, plain or .bz2")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--valid-ratio", type=float, default=0.15, help="share of articles held out for valid")
    parser.add_argument("--test-ratio", type=float, default=0.2, help="share of articles held out for test")
    parser.add_argument("--context-chars", type=int, default=600, help="characters of context each side")
    parser.add_argument("--max-title-mentions", type=int, default=10,
                        help="title occurrences kept per article and entity")
    parser.add_argument("--min-alias-chars", type=int, default=4, help="shorter titles/redirects are not matched")
    parser.add_argument("--min-lead-chars", type=int, default=40, help="shortest paragraph taken as description")
    parser.add_argument("--mention-set", choices=MENTION_SETS, default="standard",
                        help="standard: every anchor into a described article and later title occurrence; "
                             "ambiguous: only mentions whose text differs from the title or names several entities")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        stats = build_wikipedia_linking(args.dump, args.out_dir, args.valid_ratio, args.test_ratio,
                                        args.context_chars, args.max_title_mentions, args.min_alias_chars,
                                        args.min_lead_chars, args.mention_set)
    except InputError as e:
        sys.exit(f"error: {e}")
    with open(os.path.join(args.out_dir, "stats.json"), "w") as f:
        json.dump(stats.to_json(), f, indent=1)
    print(stats.summary())


if __name__ == "__main__":
    main()
