"""MediaWiki XML dumps: streaming page reader, wikitext -> plain text with link spans, text splits.

Wikipedia is the text of our masked-LM demo and, for LUKE, the source of the entity
vocabulary (link targets, redirects) and of the entity-annotated pre-training text. Dumps
run to tens of GB, so pages are streamed with ``iterparse`` and cleared once read.
Wikitext is cleaned by linear scanners rather than one large regular expression: nested
templates and image captions need a stack, and malformed markup must never make a
backtracking expression explode.
"""
from __future__ import annotations

import bz2
import hashlib
import html
import logging
import os
import re
import urllib.parse
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, Iterable, Iterator, List, Mapping, NamedTuple, Optional, Tuple

from ..errors import InputError

logger = logging.getLogger(__name__)

# English Wikipedia's namespace names (lower-cased spelling -> canonical) and aliases.
_NAMESPACE_NAMES = (
    "Media", "Special", "Talk", "User", "User talk", "Wikipedia", "Wikipedia talk", "File",
    "File talk", "MediaWiki", "MediaWiki talk", "Template", "Template talk", "Help", "Help talk",
    "Category", "Category talk", "Portal", "Portal talk", "Draft", "Draft talk", "TimedText",
    "TimedText talk", "Module", "Module talk", "Book", "Book talk", "Education Program",
    "Education Program talk", "Gadget", "Gadget talk", "Gadget definition", "Gadget definition talk",
)
NAMESPACES: Dict[str, str] = {name.lower(): name for name in _NAMESPACE_NAMES}
NAMESPACES.update({"image": "File", "image talk": "File talk", "wp": "Wikipedia", "wt": "Wikipedia talk",
                   "project": "Wikipedia", "project talk": "Wikipedia talk"})
# Links into these namespaces place an image or a category, not text.
_NON_TEXT_LINK_NAMESPACES = {"File", "Media", "Category"}
# Sister projects: the link text is shown but the target is on another wiki.
_INTERWIKI = {
    "w", "wikt", "wiktionary", "s", "wikisource", "q", "wikiquote", "b", "wikibooks",
    "n", "wikinews", "v", "wikiversity", "voy", "wikivoyage", "species", "wikispecies", "c", "commons",
    "m", "meta", "metawikimedia", "mw", "mediawikiwiki", "d", "wikidata", "f", "foundation", "wmf",
    "phab", "phabricator", "bugzilla", "outreach", "incubator",
}
# Language links (``[[de:Foo]]``) point at the same article in another language.
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:-[a-z]{2,8})*|simple")

_TITLE_SPACE = re.compile(r"[\s_]+")
_DIRECTION_MARKS = re.compile(r"[\u200e\u200f\u202a-\u202e]")


class Link(NamedTuple):
    """An internal link: ``plain_text[start:end]`` is its anchor, ``target`` its normalized title."""

    start: int
    end: int
    target: str


@dataclass
class Page:
    """One page of a dump; ``redirect`` is the normalized target title of a redirect page."""

    title: str
    namespace: int
    page_id: int
    redirect: Optional[str]
    wikitext: str

    @property
    def is_article(self) -> bool:
        return self.namespace == 0 and self.redirect is None


@dataclass
class DumpStats:
    """What :func:`iter_pages` read, so that callers can report what they filtered."""

    pages: int = 0
    articles: int = 0
    redirects: int = 0
    namespaces: Counter = field(default_factory=Counter)
    wikitext_chars: int = 0

    def add(self, page: Page) -> None:
        self.pages += 1
        self.articles += page.is_article
        self.redirects += page.redirect is not None
        self.namespaces[page.namespace] += 1
        self.wikitext_chars += len(page.wikitext)


def _ucfirst(text: str) -> str:
    # MediaWiki keeps characters whose upper case is longer (ß -> SS) as they are.
    if not text:
        return text
    upper = text[0].upper()
    return (upper if len(upper) == 1 else text[0]) + text[1:]


def normalize_title(title: str) -> str:
    """The title MediaWiki stores for ``title``, so link targets and page titles compare equal.

    Drops the ``#fragment`` and a leading ``:``, decodes character references, turns
    underscores and runs of spaces into one space, canonicalizes a namespace prefix and
    upper-cases the first letter of the name.
    """
    title = _DIRECTION_MARKS.sub("", html.unescape(title).split("#", 1)[0])
    title = _TITLE_SPACE.sub(" ", title).strip()
    if title.startswith(":"):
        title = title[1:].lstrip()
    prefix, colon, rest = title.partition(":")
    namespace = NAMESPACES.get(prefix.rstrip().lower()) if colon else None
    if namespace:
        return f"{namespace}:{_ucfirst(rest.lstrip())}"
    return _ucfirst(title)


def resolve_redirect(title: str, redirects: Mapping[str, str]) -> str:
    """Follow redirect chains (``redirects``: title -> target); a cycle stops where it closes."""
    seen = {title}
    while title in redirects:
        title = redirects[title]
        if title in seen:
            break
        seen.add(title)
    return title


# ---------------------------------------------------------------------------------------------
# Reading the dump

_BZ2_MAGIC = b"BZh"
_REDIRECT_TEXT = re.compile(r"\s*#REDIRECT\s*(?::\s*)?\[\[([^\]|\n]+)", re.I)


def _local(tag: str) -> str:
    """Tag name without the export namespace, whose URI changes with every schema version."""
    return tag.rpartition("}")[2]


def _open_dump(path):
    with open(path, "rb") as f:
        magic = f.read(3)
    return bz2.open(path, "rb") if magic == _BZ2_MAGIC else open(path, "rb")


def _page(element, path, namespace_ids: Mapping[str, int]) -> Page:
    fields = {}
    text = None
    for child in element:
        name = _local(child.tag)
        if name == "redirect":
            fields["redirect"] = child.get("title", "")
        elif name == "revision":  # history dumps hold several; the last is the current one
            for part in child:
                if _local(part.tag) == "text":
                    text = part.text or ""
        else:
            fields[name] = child.text
    title = (fields.get("title") or "").strip()
    if not title:
        raise InputError(path, f"a <page> (id {fields.get('id')}) has no title", field="title")
    try:
        page_id = int(fields.get("id") or "")
        namespace = int(fields["ns"]) if "ns" in fields else namespace_ids.get(title.partition(":")[0], 0)
    except ValueError as err:
        raise InputError(path, f"page {title!r}: {err}", field="id/ns") from None
    text = text or ""
    redirect = fields.get("redirect")
    if redirect is None:  # export schemas before 0.5 have no <redirect> element
        match = _REDIRECT_TEXT.match(text)
        redirect = match.group(1) if match else None
    return Page(title, namespace, page_id, normalize_title(redirect) if redirect is not None else None, text)


def iter_pages(path, stats: Optional[DumpStats] = None) -> Iterator[Page]:
    """Stream the pages of a MediaWiki XML export (plain or bz2), every namespace included.

    ``stats``, if given, is updated as pages are read. Raises :class:`InputError` naming
    the file (and line, when the XML parser knows it) for anything that is not a complete
    MediaWiki dump: other XML, non-XML, a truncated or corrupt bz2 stream.
    """
    stats = stats if stats is not None else DumpStats()
    namespace_ids: Dict[str, int] = {}
    try:
        with _open_dump(path) as f:
            context = ET.iterparse(f, events=("start", "end"))
            _, root = next(context)
            if _local(root.tag) != "mediawiki":
                raise InputError(path, f"root element is <{_local(root.tag)}>, not a MediaWiki "
                                       "export <mediawiki>")
            for event, element in context:
                if event != "end":
                    continue
                name = _local(element.tag)
                if name == "namespace" and element.get("key") is not None:
                    if not element.get("key").lstrip("-").isdigit():
                        raise InputError(path, f"namespace key {element.get('key')!r} is not a number",
                                         field="siteinfo/namespaces")
                    namespace_ids[element.text or ""] = int(element.get("key"))
                elif name == "page":
                    page = _page(element, path, namespace_ids)
                    root.clear()  # drops this page and everything read before it
                    stats.add(page)
                    yield page
    except ET.ParseError as err:
        raise InputError(path, f"not a well-formed MediaWiki XML dump ({err})", line=err.position[0]) from None
    except (EOFError, OSError) as err:
        raise InputError(path, f"cannot read the dump, truncated or corrupt? ({err})") from None
    logger.info("%s: %d pages, %d articles, %d redirects, namespaces %s", path, stats.pages,
                stats.articles, stats.redirects, dict(sorted(stats.namespaces.items())))


# ---------------------------------------------------------------------------------------------
# Wikitext -> plain text

# Private-use characters mark link anchors until the final offsets are known.
_OPEN, _CLOSE = "\ue000", "\ue001"

# Extension tags whose content is not running text (dropped) or not wikitext (kept verbatim).
_DROPPED_TAGS = ("ref", "references", "math", "chem", "ce", "gallery", "timeline", "imagemap", "score",
                 "hiero", "graph", "mapframe", "maplink", "templatedata", "syntaxhighlight", "source",
                 "includeonly", "inputbox", "categorytree")
_VERBATIM_TAGS = ("nowiki", "pre")
_SPECIAL = re.compile(r"<!--|<(%s)(?![\w-])([^<>]*)>" % "|".join(_DROPPED_TAGS + _VERBATIM_TAGS), re.I)
_CLOSING = {name: re.compile(r"</%s\s*>" % name, re.I) for name in _DROPPED_TAGS + _VERBATIM_TAGS}
# Verbatim text is entity-escaped so no later pass reads it as markup; entities are decoded last.
_ESCAPE_MARKUP = {ord(c): f"&#{ord(c)};" for c in "[]{}|<>'=*#:;_-"}
_HTML_TAGS = ("b", "i", "u", "s", "del", "ins", "sub", "sup", "small", "big", "span", "div", "p", "br",
              "hr", "center", "font", "code", "tt", "kbd", "var", "samp", "blockquote", "cite", "q",
              "abbr", "dfn", "em", "strong", "strike", "ol", "ul", "li", "dl", "dt", "dd", "table", "tr",
              "td", "th", "caption", "h1", "h2", "h3", "h4", "h5", "h6", "ruby", "rb", "rt", "rp", "bdi",
              "bdo", "data", "time", "mark", "wbr", "noinclude", "onlyinclude", "poem", "section",
              "templatestyles")
# Also catches what the first pass left: stray closing tags and unclosed opening ones.
_HTML_TAG = re.compile(r"</?(%s)(?![\w-])[^<>]*>" % "|".join(_HTML_TAGS + _DROPPED_TAGS + _VERBATIM_TAGS),
                       re.I)

_BRACES = re.compile(r"\{\{+|\}\}+")
_TABLE_EDGE = re.compile(r"^[ \t:]*(\{\||\|\})", re.M)
_BRACKETS = re.compile(r"\[\[+|\]\]+")
_LINK_TRAIL = re.compile(r"[a-z]+")
_INVALID_TARGET = re.compile(r"[<>\[\]{}\n\ue000\ue001]")
_TRAILING_PARENTHESES = re.compile(r"\s*\([^()]*\)$")
_MAX_LINK_DEPTH = 32  # deeper [[ are literal: bounds the work on pathological input
_EXTERNAL_LINK = re.compile(
    r"\[(?:(?:https?|ftps?|irc|ircs|news|mailto|gopher|telnet|sftp|svn|git|nntp|mms|worldwind|xmpp|urn):"
    r"|//)[^\s\[\]<>\"\ue000\ue001]+(?:[ \t]+([^\]\n]*))?\]", re.I)
_QUOTES = re.compile(r"''+")
_MAGIC_WORD = re.compile(r"__[A-Z]+__")
_EMPTY_PARENS = re.compile(r"\([ \t]*(?:[,;:][ \t]*)?\)")
_PAREN_PUNCT = re.compile(r"\([ \t]*[,;:][ \t]*")
_SPACE_BEFORE_PUNCT = re.compile(r"(?<![ \t])[ \t]+(?=[,;.](?:\s|$))")
_HORIZONTAL_RULE = re.compile(r"-{4,}$")
_SPACES = re.compile(r"\s+")
_MARK = re.compile(f"([{_OPEN}{_CLOSE}])")


def _strip_comments_and_tags(text: str) -> str:
    """Remove comments and non-text extension tags, in document order as MediaWiki does."""
    out, pos, unclosed = [], 0, set()
    while True:
        match = _SPECIAL.search(text, pos)
        if match is None:
            break
        out.append(text[pos:match.start()])
        if match.group(1) is None:  # comment; an unterminated one runs to the end
            end = text.find("-->", match.end())
            pos = len(text) if end < 0 else end + 3
            continue
        name = match.group(1).lower()
        pos = match.end()
        if match.group(2).rstrip().endswith("/") or name in unclosed:
            continue
        close = _CLOSING[name].search(text, pos)
        if close is None:  # no closing tag anywhere after: drop just this opening tag
            unclosed.add(name)
            continue
        if name in _VERBATIM_TAGS:
            out.append(text[pos:close.start()].translate(_ESCAPE_MARKUP))
        pos = close.end()
    out.append(text[pos:])
    return "".join(out)


def _cut(text: str, spans: List[Tuple[int, int]]) -> str:
    """``text`` without the (possibly nested or overlapping) ``spans``."""
    out, pos = [], 0
    for start, end in sorted(spans):
        if end <= pos:
            continue
        if start > pos:
            out.append(text[pos:start])
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _remove_templates(text: str) -> str:
    """Remove ``{{templates}}`` and ``{{{parameters}}}`` with MediaWiki's brace matching.

    Runs of braces are matched like the preprocessor does (innermost first, at most three
    at a time), so ``{{a|{{b}}}}`` and ``{{{1}}}`` nest correctly; unmatched braces are
    dropped and the text around them kept.
    """
    spans: List[Tuple[int, int]] = []  # removed; kept sorted, nested ones popped by their parent
    stack: List[List[int]] = []  # [start of an opening run, braces of it still open]
    for match in _BRACES.finditer(text):
        pos, left = match.start(), len(match.group())
        if match.group()[0] == "{":
            stack.append([pos, left])
            continue
        while left >= 2 and stack:
            start, count = stack[-1]
            matched = min(count, left, 3)
            count -= matched
            span_start = start if count < 2 else start + count  # a lone leftover brace goes too
            while spans and spans[-1][0] >= span_start:
                spans.pop()
            spans.append((span_start, pos + matched))
            pos += matched
            left -= matched
            if count < 2:
                stack.pop()
            else:
                stack[-1][1] = count
        if left:
            spans.append((pos, pos + left))
    spans.extend((start, start + count) for start, count in stack)
    return _cut(text, spans)


def _remove_tables(text: str) -> str:
    """Remove ``{| ... |}`` tables (nested too); an unclosed table runs to the end, as rendered."""
    spans, depth, start = [], 0, 0
    for match in _TABLE_EDGE.finditer(text):
        if match.group(1) == "{|":
            if depth == 0:
                start = match.start(1)
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                spans.append((start, match.end()))
        else:
            spans.append((match.start(1), match.end()))
    if depth:
        spans.append((start, len(text)))
    return _cut(text, spans)


def _pipe_trick(target: str) -> str:
    """``[[Target|]]`` shows the title without namespace and trailing ``(...)`` or ``, ...``."""
    name = target.lstrip(":").partition("#")[0].strip()
    prefix, colon, rest = name.partition(":")
    if colon and (prefix.strip().lower() in NAMESPACES or prefix.strip().lower() in _INTERWIKI):
        name = rest.strip()
    name = _TRAILING_PARENTHESES.sub("", name)
    return name.split(",", 1)[0].strip()


class _LinkRenderer:
    """Turns the content of one ``[[...]]`` into its shown text, recording link targets."""

    def __init__(self):
        self.targets: List[str] = []

    def render(self, content: str, trail: str) -> Tuple[str, bool]:
        """(text to show, whether the trailing letters ``trail`` joined it)."""
        target, pipe, anchor = content.partition("|")
        if _INVALID_TARGET.search(target):  # not a link: MediaWiki shows it as typed
            return content, False
        target = target.strip()
        forced = target.startswith(":")  # [[:Category:X]] links to the page instead of tagging
        name = target[1:].lstrip() if forced else target
        prefix, colon, _ = name.partition(":")
        prefix = prefix.strip()
        namespace = NAMESPACES.get(prefix.lower()) if colon else None
        if namespace in _NON_TEXT_LINK_NAMESPACES and not forced:
            return "", False
        other_wiki = bool(colon) and not namespace and (
            prefix.lower() in _INTERWIKI or _LANGUAGE_CODE.fullmatch(prefix) is not None)
        if other_wiki and not forced and prefix.lower() not in _INTERWIKI:
            return "", False  # interlanguage link, shown beside the article, not in it
        shown = (anchor if anchor.strip() else _pipe_trick(target)) if pipe else name
        shown = shown.replace("\n", " ")
        if _OPEN in shown:  # a link inside the anchor: keep the inner one, show the outer as text
            return shown + trail, True
        body = shown.strip()
        if not body:
            return "", False
        title = "" if other_wiki else normalize_title(urllib.parse.unquote(name) if "%" in name else name)
        if not title:  # another wiki, or a section of this page: text without a link
            return shown + trail, True
        self.targets.append(title)
        lead, tail = shown[:len(shown) - len(shown.lstrip())], shown[len(shown.rstrip()):]
        if tail:
            return f"{lead}{_OPEN}{body}{_CLOSE}{tail}{trail}", True
        return f"{lead}{_OPEN}{body}{trail}{_CLOSE}", True


def _replace_links(text: str, renderer: _LinkRenderer) -> str:
    """Replace ``[[...]]`` innermost first, so captions may hold links of their own."""
    frames: List[Tuple[List[str], int]] = [([], 0)]  # (pieces, targets recorded before it opened)
    pos = 0
    for match in _BRACKETS.finditer(text):
        run = match.group()
        frames[-1][0].append(text[pos:match.start()])
        pos = match.end()
        if run[0] == "[":
            frames[-1][0].append("[" * (len(run) % 2))  # [[[x]]] is a literal bracket around a link
            for _ in range(min(len(run) // 2, _MAX_LINK_DEPTH + 1 - len(frames))):
                frames.append(([], len(renderer.targets)))
            continue
        used = 0
        while len(run) - used >= 2 and len(frames) > 1:
            used += 2
            pieces, recorded = frames.pop()
            trail = _LINK_TRAIL.match(text, pos) if used == len(run) else None
            trail = trail.group() if trail else ""
            shown, used_trail = renderer.render("".join(pieces), trail)
            if not shown:
                del renderer.targets[recorded:]  # links inside a dropped image caption
            if used_trail:
                pos += len(trail)
            frames[-1][0].append(shown)
        if (len(run) - used) % 2:  # ]] without an opening go; a lone ] is text
            frames[-1][0].append("]")
    # unclosed [[: their brackets go, their text stays (frames nest in document order)
    out = [piece for pieces, _ in frames for piece in pieces]
    out.append(text[pos:])
    return "".join(out)


def _without_marks(text: str) -> str:
    return text.replace(_OPEN, "").replace(_CLOSE, "")


def _quotes(match: re.Match) -> str:
    n = len(match.group())
    return "'" if n == 4 else "'" * (n - 5) if n > 5 else ""


def _external_link(match: re.Match) -> str:
    return match.group(1) or ""


def _markup_to_marked_text(text: str) -> Tuple[str, List[str]]:
    """Plain text in which link anchors are wrapped in private-use marks, and their targets."""
    text = _without_marks(text)
    text = _strip_comments_and_tags(text)
    text = _remove_templates(text)
    text = _remove_tables(text)
    text = _HTML_TAG.sub(lambda m: " " if m.group(1).lower() == "br" else "", text)
    renderer = _LinkRenderer()
    text = _replace_links(text, renderer)
    text = _EXTERNAL_LINK.sub(_external_link, text)
    text = _QUOTES.sub(_quotes, text)
    text = _MAGIC_WORD.sub("", text)
    text = _EMPTY_PARENS.sub("", text)
    text = _PAREN_PUNCT.sub("(", text)
    text = _SPACE_BEFORE_PUNCT.sub("", text)
    return text, renderer.targets


def _finish_line(content: str, targets: Iterator[str]) -> Tuple[str, List[Link]]:
    """Decode entities, collapse spaces and turn marks into link offsets for one line."""
    out: List[str] = []
    length, last_space = 0, True
    links, pending = [], None
    for piece in _MARK.split(content):
        if piece == _OPEN:
            pending = (length, next(targets))
            continue
        if piece == _CLOSE:
            if pending is not None:
                links.append(Link(pending[0], length, pending[1]))
                pending = None
            continue
        if "&" in piece:  # an entity may decode to a mark character
            piece = _without_marks(html.unescape(piece))
        piece = _SPACES.sub(" ", piece)
        if piece.startswith(" ") and last_space:
            piece = piece[1:]
        if piece:
            out.append(piece)
            length += len(piece)
            last_space = piece.endswith(" ")
    text = "".join(out)
    if text.endswith(" "):
        text = text[:-1]
    kept = []
    for start, end, target in links:
        end = min(end, len(text))
        while start < end and text[start] == " ":
            start += 1
        while end > start and text[end - 1] == " ":
            end -= 1
        if start < end:
            kept.append(Link(start, end, target))
    return text, kept


def parse_wikitext(text: str) -> Tuple[str, List[Link]]:
    """Readable plain text of an article and its internal links as character spans.

    One paragraph, heading or list item per line. Templates, tables, references, comments,
    images, categories and interlanguage links are removed; links show their anchor (with
    MediaWiki's trailing letters: ``[[bank]]s``) and are returned as :class:`Link` spans into
    the returned text with the normalized target title (namespaced targets keep their
    prefix, e.g. ``Category:X`` from ``[[:Category:X]]``).
    """
    marked, targets = _markup_to_marked_text(text)
    target_iter = iter(targets)
    paragraphs: List[Tuple[List[str], List[Link], int]] = []  # (pieces, links, length)
    continues = False  # consecutive plain lines form one paragraph, as MediaWiki renders them
    for line in marked.split("\n"):
        stripped = line.strip()
        plain = False
        if stripped.startswith("=") and stripped.endswith("=") and len(stripped) > 1:
            content = stripped.strip("=")
        elif stripped[:1] in ("*", "#", ":", ";"):
            content = stripped.lstrip("*#:;")
        elif _HORIZONTAL_RULE.match(stripped):
            content = ""
        else:
            content, plain = stripped, True
        line_text, line_links = _finish_line(content, target_iter)
        if not line_text:
            continues = False
            continue
        if plain and continues:
            pieces, links, length = paragraphs[-1]
            pieces.append(" " + line_text)
            links.extend(Link(s + length + 1, e + length + 1, t) for s, e, t in line_links)
            paragraphs[-1] = (pieces, links, length + 1 + len(line_text))
        else:
            paragraphs.append(([line_text], line_links, len(line_text)))
        continues = plain
    texts, links, offset = [], [], 0
    for pieces, paragraph_links, length in paragraphs:
        texts.append("".join(pieces))
        links.extend(Link(s + offset, e + offset, t) for s, e, t in paragraph_links)
        offset += length + 1
    return "\n".join(texts), links


# ---------------------------------------------------------------------------------------------
# Plain-text splits for fairseq

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "ft", "vs", "etc", "e.g", "i.e", "cf", "al",
    "no", "nos", "vol", "vols", "pp", "ed", "eds", "fig", "figs", "inc", "ltd", "co", "corp",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "gen", "col",
    "lt", "sgt", "capt", "gov", "rev", "hon", "approx", "ca", "u.s", "u.k", "a.d", "b.c", "ph.d",
}
_SENTENCE_END = re.compile(r"(?<![.!?])[.!?]+[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


def split_sentences(paragraph: str) -> List[str]:
    """Rule-based split after ``.!?`` before a capital or digit, not after abbreviations or initials."""
    sentences, start = [], 0
    for match in _SENTENCE_END.finditer(paragraph):
        if paragraph[match.start()] == ".":
            word_start = max(paragraph.rfind(" ", start, match.start()) + 1, start)
            word = paragraph[word_start:match.start()].lstrip("\"'([").lower()
            if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
                continue
        sentences.append(paragraph[start:match.end()].strip())
        start = match.end()
    rest = paragraph[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


SPLITS = ("train", "valid", "test")


def split_of(title: str, valid_ratio: float, test_ratio: float) -> str:
    """Deterministic split by a hash of the title: the same article lands in the same file on every run."""
    fraction = int.from_bytes(hashlib.md5(title.encode("utf-8")).digest()[:8], "big") / 2 ** 64
    if fraction < test_ratio:
        return "test"
    return "valid" if fraction < test_ratio + valid_ratio else "train"


@dataclass
class SplitStats:
    articles: int = 0
    paragraphs: int = 0
    lines: int = 0
    characters: int = 0


@dataclass
class ConversionStats:
    """Counts of what was written and of everything skipped, for the summary table."""

    splits: Dict[str, SplitStats] = field(default_factory=lambda: {name: SplitStats() for name in SPLITS})
    redirects: int = 0
    other_namespaces: int = 0
    empty_articles: int = 0
    short_paragraphs: int = 0

    def table(self) -> str:
        rows = [(name, s.articles, s.paragraphs, s.lines, s.characters) for name, s in self.splits.items()]
        rows.append(("total", *(sum(column) for column in zip(*(row[1:] for row in rows)))))
        header = f"{'split':<6}{'articles':>12}{'paragraphs':>13}{'lines':>13}{'characters':>16}"
        rule = "-" * len(header)
        body = [f"{r[0]:<6}{r[1]:>12,}{r[2]:>13,}{r[3]:>13,}{r[4]:>16,}" for r in rows]
        return "\n".join([header, rule, *body[:-1], rule, body[-1],
                          f"skipped: {self.redirects:,} redirects, {self.other_namespaces:,} non-article pages, "
                          f"{self.empty_articles:,} articles without text, "
                          f"{self.short_paragraphs:,} paragraphs shorter than the minimum"])


def write_text_splits(pages: Iterable[Page], output_dir, *, valid_ratio: float = 0.05,
                      test_ratio: float = 0.05, min_chars: int = 20, sentences: bool = False,
                      max_articles: Optional[int] = None) -> ConversionStats:
    """Write ``train.txt valid.txt test.txt`` for ``fairseq-preprocess``.

    One paragraph (or, with ``sentences``, one sentence) per line and a blank line between
    articles, the document boundary of fairseq's ``--sample-break-mode complete_doc``.
    Articles go to a split by a hash of their title. ``max_articles`` counts articles read.
    """
    if not (0 <= valid_ratio and 0 <= test_ratio and valid_ratio + test_ratio < 1):
        raise ValueError(f"valid ratio {valid_ratio} and test ratio {test_ratio} must be >= 0 "
                         "and sum to less than 1")
    os.makedirs(output_dir, exist_ok=True)
    stats = ConversionStats()
    files = {name: open(os.path.join(output_dir, f"{name}.txt"), "w", encoding="utf-8") for name in SPLITS}
    try:
        articles = 0
        for page in pages:
            if max_articles is not None and articles >= max_articles:
                break
            if page.redirect is not None:
                stats.redirects += 1
                continue
            if page.namespace != 0:
                stats.other_namespaces += 1
                continue
            articles += 1
            paragraphs = []
            plain = parse_wikitext(page.wikitext)[0]
            for paragraph in plain.split("\n") if plain else ():
                if len(paragraph) < min_chars:
                    stats.short_paragraphs += 1
                else:
                    paragraphs.append(paragraph)
            if not paragraphs:
                stats.empty_articles += 1
                continue
            split = split_of(page.title, valid_ratio, test_ratio)
            split_stats = stats.splits[split]
            lines = [s for p in paragraphs for s in split_sentences(p)] if sentences else paragraphs
            f = files[split]
            if split_stats.articles:
                f.write("\n")
            f.write("".join(line + "\n" for line in lines))
            split_stats.articles += 1
            split_stats.paragraphs += len(paragraphs)
            split_stats.lines += len(lines)
            split_stats.characters += sum(map(len, lines))
    finally:
        for f in files.values():
            f.close()
    return stats
