#!/usr/bin/env python
"""Write the `make demo-luke` data: a small generated MediaWiki dump and a WordPiece vocabulary for it.

Articles about places, linked as Wikipedia links them. Some anchors are ambiguous: ``paris`` is
Paris (France) in most sentences and Paris, Texas in others, ``georgia`` the country or the US
state; only the context (``seine``, ``cattle``, ``caucasus``...) tells them apart. A model that reads
context can beat the anchor prior (the anchor's most frequent target) there; elsewhere the prior
is exact. A redirect (``Nippon``) and category links are included, as in real dumps.
"""
import argparse
import os
import random
from xml.sax.saxutils import escape

# (title, anchor, context words, country title, country anchor, weight)
PLACES = [
    ("Paris", "paris", ["seine", "louvre", "wine"], "France", "france", 4),
    ("Paris, Texas", "paris", ["cattle", "county", "ranch"], "Texas", "texas", 2),
    ("Georgia (country)", "georgia", ["caucasus", "tbilisi", "mountains"], "Asia", "asia", 2),
    ("Georgia (U.S. state)", "georgia", ["atlanta", "peach", "county"], "United States", "america", 3),
    ("Tokyo", "tokyo", ["sushi", "subway", "tower"], "Nippon", "japan", 4),
    ("Rome", "rome", ["colosseum", "pope", "wine"], "Italy", "italy", 3),
    ("Berlin", "berlin", ["wall", "museum", "river"], "Germany", "germany", 3),
    ("Madrid", "madrid", ["palace", "football", "museum"], "Spain", "spain", 2),
    ("Cairo", "cairo", ["nile", "pyramids", "desert"], "Egypt", "egypt", 2),
    ("Lima", "lima", ["ocean", "ceviche", "desert"], "Peru", "peru", 2),
]
FILLER = ["the", "city", "is", "in", "a", "big", "old", "and", "has", "many", "people", "it", "was", "known",
          "for", "its", "near", "with"]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def sentence(rng, place):
    title, anchor, context, country, country_anchor, _ = place
    words = rng.sample(FILLER, 3) + [rng.choice(context), rng.choice(FILLER), rng.choice(context)]
    rng.shuffle(words)
    link = f"[[{title}]]" if title.lower() == anchor else f"[[{title}|{anchor}]]"
    return f"{link} {' '.join(words)} in [[{country}|{country_anchor}]] ."


def write_demo(out_dir, articles=160, seed=1):
    rng = random.Random(seed)
    weights = [p[5] for p in PLACES]
    pages = ['<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11">',
             '<page><title>Nippon</title><ns>0</ns><id>1</id><redirect title="Japan" />'
             '<revision><text xml:space="preserve">#REDIRECT [[Japan]]</text></revision></page>']
    for n in range(articles):
        text = " ".join(sentence(rng, rng.choices(PLACES, weights)[0]) for _ in range(rng.randint(4, 8)))
        text += " [[Category:Places]]"
        pages.append(f"<page><title>Place {n}</title><ns>0</ns><id>{n + 2}</id><revision>"
                     f'<text xml:space="preserve">{escape(text)}</text></revision></page>')
    pages.append("</mediawiki>")
    os.makedirs(os.path.join(out_dir, "model"), exist_ok=True)
    with open(os.path.join(out_dir, "dump.xml"), "w", encoding="utf-8") as f:
        f.write("\n".join(pages) + "\n")
    words = {w for p in PLACES for w in [p[1], p[4], *p[2]]} | set(FILLER) | {"."}
    for name in ("vocab.txt", "dict.txt"):
        with open(os.path.join(out_dir, "model", name), "w", encoding="utf-8") as f:
            f.write("".join(f"{t}\n" for t in SPECIALS + sorted(words)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--articles", type=int, default=160)
    args = parser.parse_args()
    write_demo(args.out_dir, args.articles)
