"""A zero-shot entity-linking set from a Wikipedia dump, in BLINK's mention and KB jsonl.

Entities are the dump's articles, described by title + lead paragraph, plus every other
(redirect-resolved, article-namespace) link target as a title-only distractor, so retrieval
searches far more names than there are described entities. Mentions are

- ``anchor``: ``[[target|anchor]]`` links whose resolved target is an article of the dump;
- ``title``: later plain-text occurrences of an article's title or of a redirect to it
  (Wikipedia links an entity once, at its first occurrence): in the entity's own article
  after its lead (the lead is the description), and in another article after its first link
  to the entity. Matches are case-sensitive whole words, the longest alias wins, text inside
  a link is never matched, and at most ``max_title_mentions`` are kept per article and entity.

``mention_set="ambiguous"`` keeps only the hard mentions, and takes anchors to title-only
entities as mentions too (their name and context are all a linker has). A mention is hard
when its surface form differs from the entity's title (case-folded: the encoders are uncased),
labelled ``redirect`` (a redirect's name), ``partial`` (consecutive words of the title, or the
title without its disambiguating parenthetical) or ``alias`` (any other anchor text); or when
its surface form can name other KB entities too (``shared``: the same anchor text links
elsewhere, or it is another entity's title, redirect, title without parenthetical, or the
leading words of a longer title, as "Apollo" of "Apollo 11"). Mentions that name their entity
by its exact, unshared title are counted and left out.

Splits follow Zeshel's zero-shot protocol with articles in place of worlds: every article
goes to train/valid/test by a hash of its title (:func:`wikipedia.split_of`), and a mention
is kept only when its context article and its entity are in the same split, so evaluation
entities, their descriptions and their articles' text are never seen in training. Everything
left out is counted by reason.
"""
from __future__ import annotations

import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Set, Tuple

from ..errors import InputError
from . import wikipedia
from .blink_formats import write_jsonl

SPLITS = wikipedia.SPLITS
MENTION_SETS = ("standard", "ambiguous")
HARDNESS = ("redirect", "partial", "alias", "shared")


@dataclass
class WikiLinkingStats:
    articles: int = 0
    redirects: int = 0
    described: int = 0
    distractors: int = 0
    links: int = 0
    entities_by_split: Counter = field(default_factory=Counter)
    mentions: Dict[str, Counter] = field(default_factory=lambda: {s: Counter() for s in SPLITS})  # split -> source
    skipped: Counter = field(default_factory=Counter)
    mention_set: str = "standard"
    hardness: Dict[str, Counter] = field(default_factory=lambda: {s: Counter() for s in SPLITS})  # split -> reason
    gold_entities: Dict[str, Set[str]] = field(default_factory=lambda: {s: set() for s in SPLITS})

    def to_json(self) -> dict:
        return {"articles": self.articles, "redirects": self.redirects, "described": self.described,
                "distractors": self.distractors, "links": self.links, "mention_set": self.mention_set,
                "entities_by_split": dict(self.entities_by_split),
                "gold_entities_by_split": {s: len(e) for s, e in self.gold_entities.items()},
                "mentions": {s: dict(c) for s, c in self.mentions.items()},
                "hardness": {s: dict(c) for s, c in self.hardness.items()}, "skipped": dict(self.skipped)}

    def summary(self) -> str:
        reasons = HARDNESS + ("title-only gold",) if self.mention_set == "ambiguous" else ()
        header = (f"{'split':<6}{'described':>10}{'gold ents':>10}{'anchor':>9}{'title':>8}{'mentions':>10}"
                  + "".join(f"{r:>{max(9, len(r) + 2)}}" for r in reasons))
        rows = [f"{s:<6}{self.entities_by_split[s]:>10}{len(self.gold_entities[s]):>10}{c['anchor']:>9}"
                f"{c['title']:>8}{sum(c.values()):>10}"
                + "".join(f"{self.hardness[s][r]:>{max(9, len(r) + 2)}}" for r in reasons)
                for s, c in self.mentions.items()]
        skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items())) or "none"
        return "\n".join([
            f"{self.articles} articles ({self.described} described), {self.redirects} redirects, {self.links} links; "
            f"KB: {self.described + self.distractors} entities ({self.distractors} title-only distractors); "
            f"{self.mention_set} mentions" + (" (a mention may count under several reasons)" if reasons else ""),
            header, "-" * len(header), *rows, f"left out: {skipped}"])


@dataclass
class _Article:
    title: str
    text: str
    links: List[wikipedia.Link]
    lead_end: int  # end offset of the lead paragraph in ``text`` (0: none)
    description: str


def _lead(text: str, min_chars: int) -> Tuple[str, int]:
    """(first paragraph of at least ``min_chars``, its end offset), or ("", 0)."""
    offset = 0
    for paragraph in text.split("\n"):
        if len(paragraph) >= min_chars:
            return paragraph, offset + len(paragraph)
        offset += len(paragraph) + 1
    return "", 0


def _context(text: str, start: int, end: int, chars: int) -> Tuple[str, str]:
    """Left and right context of ``text[start:end]``, at most ``chars`` each, cut at whole words."""
    left = text[max(0, start - chars):start]
    if start - chars > 0 and " " in left:
        left = left[left.index(" ") + 1:]
    right = text[end:end + chars]
    if end + chars < len(text) and " " in right:
        right = right[:right.rindex(" ")]
    return left.replace("\n", " ").strip(), right.replace("\n", " ").strip()


def _alias_pattern(aliases: Iterable[str]) -> Optional[re.Pattern]:
    ordered = sorted(set(aliases), key=lambda a: (-len(a), a))  # longest first: "Apollo 11" before "Apollo"
    if not ordered:
        return None
    return re.compile(r"(?<!\w)(?:%s)(?!\w)" % "|".join(map(re.escape, ordered)))


def _surface_key(text: str) -> str:
    """What an uncased encoder sees of a name: case-folded, whitespace collapsed."""
    return " ".join(text.casefold().split())


_PARENTHETICAL = re.compile(r"\s*\([^()]*\)$")


class SurfaceForms:
    """The KB entities each surface form (:func:`_surface_key`) can name: link anchors' targets, and
    the entities whose title or redirect it is, whose title it is without a trailing disambiguating
    parenthetical ("Will" of "Will (law)"), or whose title starts with its words ("Apollo" of
    "Apollo 11", "France" of "France in the American Revolutionary War")."""

    def __init__(self):
        self.entities: Dict[str, Set[str]] = defaultdict(set)

    def add_name(self, name: str, entity: str):
        base = _surface_key(_PARENTHETICAL.sub("", name))
        self.entities[_surface_key(name)].add(entity)
        words = base.split()
        for n in range(1, len(words) + 1):
            self.entities[" ".join(words[:n])].add(entity)

    def add_anchor(self, text: str, entity: str):
        self.entities[_surface_key(text)].add(entity)

    def shared(self, surface: str, entity: str) -> bool:
        """Whether ``surface`` can name an entity other than ``entity``."""
        return bool(self.entities.get(_surface_key(surface), set()) - {entity})


def hardness(surface: str, entity: str, redirect_names: Iterable[str], forms: SurfaceForms) -> List[str]:
    """Why a mention of ``entity`` written ``surface`` is hard (empty: it is the exact, unshared title)."""
    key, title = _surface_key(surface), _surface_key(entity)
    reasons = []
    if key != title:
        base = _surface_key(_PARENTHETICAL.sub("", entity)).split()
        words = key.split()
        if key in {_surface_key(r) for r in redirect_names}:
            reasons.append("redirect")
        elif words and any(base[i:i + len(words)] == words for i in range(len(base) - len(words) + 1)):
            reasons.append("partial")
        else:
            reasons.append("alias")
    if forms.shared(surface, entity):
        reasons.append("shared")
    return reasons


def read_articles(dump, min_lead_chars: int = 40, stats: Optional[WikiLinkingStats] = None):
    """(articles by title, redirects title -> target) of a dump; link targets stay unresolved."""
    stats = stats if stats is not None else WikiLinkingStats()
    articles: Dict[str, _Article] = {}
    redirects: Dict[str, str] = {}
    for page in wikipedia.iter_pages(dump):
        if page.namespace != 0:
            continue
        if page.redirect is not None:
            redirects[page.title] = page.redirect
            continue
        text, links = wikipedia.parse_wikitext(page.wikitext)
        description, lead_end = _lead(text, min_lead_chars)
        articles[page.title] = _Article(page.title, text, links, lead_end, description)
    stats.articles, stats.redirects = len(articles), len(redirects)
    if not articles:
        raise InputError(dump, "no articles in the dump")
    return articles, redirects


def build_wikipedia_linking(dump, out_dir, valid_ratio: float = 0.15, test_ratio: float = 0.2,
                            context_chars: int = 600, max_title_mentions: int = 10, min_alias_chars: int = 4,
                            min_lead_chars: int = 40, mention_set: str = "standard") -> WikiLinkingStats:
    """Write ``kb.jsonl`` and ``{train,valid,test}.jsonl`` to ``out_dir``; return what was counted."""
    if mention_set not in MENTION_SETS:
        raise ValueError(f"mention_set must be one of {MENTION_SETS}, not {mention_set!r}")
    ambiguous = mention_set == "ambiguous"
    stats = WikiLinkingStats(mention_set=mention_set)
    articles, redirects = read_articles(dump, min_lead_chars, stats)
    namespaces = set(wikipedia.NAMESPACES.values())
    split = {title: wikipedia.split_of(title, valid_ratio, test_ratio) for title in articles}

    def resolve(target: str) -> Optional[str]:
        if ":" in target and target.partition(":")[0] in namespaces:
            return None
        return wikipedia.resolve_redirect(target, redirects)

    # Aliases: an article's title and the redirects that lead to it (parenthesised titles such as
    # "Android (robot)" and short ones such as "A" or "Art" are too ambiguous to match in text).
    alias_of: Dict[str, str] = {}
    for name in list(articles) + list(redirects):
        entity = resolve(name)
        if entity in articles and len(name) >= min_alias_chars and "(" not in name:
            alias_of.setdefault(name, entity)
    pattern = _alias_pattern(alias_of)

    redirect_names: Dict[str, List[str]] = defaultdict(list)
    for name in redirects:
        entity = resolve(name)
        if entity is not None:
            redirect_names[entity].append(name)
    forms = SurfaceForms()
    if ambiguous:  # every name and anchor of the dump, so that "shared" sees all their entities
        for entity, names in redirect_names.items():
            for name in [entity, *names]:
                forms.add_name(name, entity)
        for article in articles.values():
            forms.add_name(article.title, article.title)
            for link in article.links:
                target = resolve(link.target)
                if target is not None:
                    forms.add_name(target, target)
                    forms.add_anchor(article.text[link.start:link.end], target)

    distractors = set()
    records: Dict[str, List[dict]] = {s: [] for s in SPLITS}

    def add(article: _Article, start: int, end: int, entity: str, source: str):
        surface = article.text[start:end]
        if not surface.strip():
            stats.skipped["empty anchor text"] += 1
            return
        reasons = hardness(surface, entity, redirect_names[entity], forms) if ambiguous else []
        if ambiguous and not reasons:
            stats.skipped["surface is the exact title and names no other entity"] += 1
            return
        entity_split = split.get(entity) or wikipedia.split_of(entity, valid_ratio, test_ratio)
        if split[article.title] != entity_split:
            stats.skipped["context article and entity in different splits"] += 1
            return
        description = articles[entity].description if entity in articles else ""
        if not description and not ambiguous:
            stats.skipped["entity without a lead paragraph"] += 1
            return
        left, right = _context(article.text, start, end, context_chars)
        record = {"context_left": left, "mention": surface, "context_right": right,
                  "label_id": entity, "label_title": entity, "label": description,
                  "source": source, "article": article.title}
        if ambiguous:
            record["hardness"] = reasons
            stats.hardness[entity_split].update(reasons + ([] if description else ["title-only gold"]))
        records[entity_split].append(record)
        stats.mentions[entity_split][source] += 1
        stats.gold_entities[entity_split].add(entity)

    for article in articles.values():
        first_link: Dict[str, int] = {}  # entity -> start of the article's first link to it
        for link in article.links:
            stats.links += 1
            target = resolve(link.target)
            if target is None:
                stats.skipped["links into other namespaces"] += 1
            elif target in articles:
                first_link.setdefault(target, link.start)
                add(article, link.start, link.end, target, "anchor")
            else:
                distractors.add(target)
                if ambiguous:  # title-only entities are gold too: names and context are all there is
                    add(article, link.start, link.end, target, "anchor")
        if pattern is None:
            continue
        linked = [False] * (len(article.text) + 1)
        for link in article.links:
            linked[link.start:link.end] = [True] * (link.end - link.start)
        kept = Counter()
        for match in pattern.finditer(article.text):
            entity, start, end = alias_of[match.group()], match.start(), match.end()
            if any(linked[start:end]):
                continue
            own = entity == article.title
            if own and start < article.lead_end:
                continue  # inside the description itself
            if not own and (entity not in first_link or start < first_link[entity]):
                continue  # not yet linked in this article: not a "later occurrence"
            if kept[entity] >= max_title_mentions:
                stats.skipped["title occurrences beyond the per-article cap"] += 1
                continue
            kept[entity] += 1
            add(article, start, end, entity, "title")

    kb = []
    for title, article in sorted(articles.items()):
        if article.description:
            stats.described += 1
            stats.entities_by_split[split[title]] += 1
            kb.append({"id": title, "title": title, "text": article.description})
        else:
            distractors.add(title)  # no lead paragraph: still a name to retrieve among
    distractors -= {record["id"] for record in kb}
    stats.distractors = len(distractors)
    kb.extend({"id": title, "title": title, "text": ""} for title in sorted(distractors))
    os.makedirs(out_dir, exist_ok=True)
    write_jsonl(os.path.join(out_dir, "kb.jsonl"), kb)
    for name, rows in records.items():
        write_jsonl(os.path.join(out_dir, f"{name}.jsonl"), rows)
    return stats
