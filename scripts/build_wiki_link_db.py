#!/usr/bin/env python
"""Build the Wikipedia link database LUKE's SQuAD task detects entity mentions with.

    python scripts/build_wiki_link_db.py --dump enwiki-20160305-pages-articles.xml.bz2 \
        --output enwiki_links.db --redirects-out enwiki_redirects.tsv --workers 8

Reads every article's ``[[target|anchor]]`` links and the dump's redirects, then counts in how many
articles each anchor occurs, so that a link probability (how often the anchor text is a link) can
be computed (``fairseq_plugins/data/wiki_link_db.py`` describes the file). ``--redirects-out`` writes
the dump's redirects as ``source<TAB>target`` lines, the form ``--model-redirects-file`` and
``--link-redirects-file`` of ``luke_squad`` read. ``--show TITLE`` prints an article's links.
"""
import argparse
import logging
import sys

from fairseq_plugins.data.wiki_link_db import WikiLinkDB, build_wiki_link_db, write_redirects
from fairseq_plugins.errors import InputError


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dump", help="MediaWiki XML export, plain or .bz2")
    parser.add_argument("--output", required=True, help="the link database to write (or read, with --show)")
    parser.add_argument("--redirects-out", help="also write the dump's redirects as source<TAB>target lines")
    parser.add_argument("--workers", type=int, default=1, help="processes parsing wikitext")
    parser.add_argument("--max-name-tokens", type=int, default=20, help="longest anchor kept, in words")
    parser.add_argument("--show", metavar="TITLE", help="print the links of this article of --output and exit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.show:
            db = WikiLinkDB(args.output)
            title = db.resolve(args.show)
            links = sorted(db.links(title), key=lambda link: -link.link_prob)
            print(f"{title}: {len(links)} links")
            for link in links:
                print(f"  {link.anchor!r} -> {link.target}  (x{link.count}, link probability {link.link_prob:.3f})")
            return
        if not args.dump:
            parser.error("--dump is required to build")
        stats, redirects = build_wiki_link_db(args.dump, args.output, args.workers, args.max_name_tokens)
        if args.redirects_out:
            write_redirects(redirects, args.redirects_out)
    except InputError as e:
        sys.exit(f"error: {e}")
    print(f"wrote {args.output}: {stats.summary()}")
    if args.redirects_out:
        print(f"wrote {args.redirects_out}: {len(redirects)} redirects")


if __name__ == "__main__":
    main()
