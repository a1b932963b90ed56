"""Wikipedia dump -> LUKE pre-training instances, binarized for fairseq.

As LUKE's builder (``build-wikipedia-pretraining-dataset``): each article's plain text and
hyperlinks (``data/wikipedia.py``), link targets resolved through the dump's redirects and
looked up in the entity vocabulary, sentences tokenized piece by piece at link boundaries (so
every mention covers whole tokens), sentences of ``min_sentence_length`` .. ``max_seq_length - 2``
tokens packed in order into instances of at most ``max_seq_length - 2`` tokens, instances
without an entity left out, at most ``max_entity_length`` entities each. Articles go to
train / valid / test by a hash of their title, so held-out articles are never trained on.

Per split the folder holds four mmap datasets: ``<split>.words`` (token ids, no ``<s>``/``</s>``),
``<split>.wordstarts`` (1 where a whole word starts, for whole-word masking), ``<split>.entities``
(entity ids) and ``<split>.spans`` (``start, end`` token offsets per entity, end exclusive);
beside them ``dict.txt``, the tokenizer files, ``entity_vocab.jsonl`` and ``luke_pretrain.json``
(options and counts). Everything left out is counted there and in :meth:`CorpusStats.table`.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass, field
from multiprocessing import Pool
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch

from . import wikipedia
from .luke_entity_vocab import EntityVocab
from .vocab_dictionary import VocabDictionary
from ..errors import InputError
from ..tokenization import VocabTokenizer

logger = logging.getLogger(__name__)

META_FILE = "luke_pretrain.json"
ENTITY_VOCAB_FILE = "entity_vocab.jsonl"
FIELDS = ("words", "wordstarts", "entities", "spans")
SPLITS = wikipedia.SPLITS


@dataclass
class PretrainOptions:
    max_seq_length: int = 512        # tokens of an instance with <s> and </s> (LUKE: 512)
    max_entity_length: int = 128     # entities per instance (LUKE: 128)
    max_mention_length: int = 30     # entity positions per mention; longer mentions are cut at training (LUKE: 30)
    min_sentence_length: int = 5     # shorter sentences are left out (LUKE: 5)
    include_unk_entities: bool = False   # links to titles outside the vocabulary as [UNK] (else not entities)
    include_sentences_without_entities: bool = False
    valid_ratio: float = 0.05
    test_ratio: float = 0.0


@dataclass
class CorpusStats:
    articles: int = 0
    empty_articles: int = 0
    links: int = 0
    entities: int = 0
    unknown_links: int = 0          # targets not in the vocabulary (dropped, or [UNK] with include_unk_entities)
    namespaced_links: int = 0       # Category:, File:, ... (not entities)
    crossing_links: int = 0         # anchors that cross a sentence boundary (left out)
    short_sentences: int = 0
    long_sentences: int = 0
    instances_without_entities: int = 0
    entities_beyond_max: int = 0
    long_mentions: int = 0          # mentions longer than max_mention_length (positions cut at training)
    instances: Dict[str, int] = field(default_factory=lambda: {s: 0 for s in SPLITS})
    tokens: Dict[str, int] = field(default_factory=lambda: {s: 0 for s in SPLITS})
    split_entities: Dict[str, int] = field(default_factory=lambda: {s: 0 for s in SPLITS})
    split_articles: Dict[str, int] = field(default_factory=lambda: {s: 0 for s in SPLITS})

    def add(self, other: "CorpusStats") -> None:
        for name, value in asdict(other).items():
            if isinstance(value, dict):
                mine = getattr(self, name)
                for key, count in value.items():
                    mine[key] += count
            else:
                setattr(self, name, getattr(self, name) + value)

    def table(self) -> str:
        head = f"{'split':<6}{'articles':>10}{'instances':>11}{'tokens':>12}{'entities':>10}"
        rows = [f"{s:<6}{self.split_articles[s]:>10,}{self.instances[s]:>11,}{self.tokens[s]:>12,}"
                f"{self.split_entities[s]:>10,}" for s in SPLITS]
        return "\n".join([head, "-" * len(head), *rows,
                          f"links {self.links:,}: {self.entities:,} entities kept; not kept: "
                          f"{self.unknown_links:,} to titles outside the vocabulary (kept as [UNK] with "
                          f"--include-unk-entities), {self.namespaced_links:,} into other namespaces, "
                          f"{self.crossing_links:,} crossing a sentence boundary, {self.entities_beyond_max:,} beyond "
                          f"--max-entity-length",
                          f"sentences left out: {self.short_sentences:,} shorter than --min-sentence-length, "
                          f"{self.long_sentences:,} longer than --max-seq-length; instances without entities left "
                          f"out: {self.instances_without_entities:,}; articles without text: "
                          f"{self.empty_articles:,}; mentions longer than --max-mention-length (cut at training): "
                          f"{self.long_mentions:,}"])


@dataclass
class Instance:
    words: np.ndarray
    word_starts: np.ndarray
    entities: np.ndarray
    spans: np.ndarray   # E x 2 token offsets into words, end exclusive


def _sentence_spans(paragraph: str) -> List[Tuple[int, int]]:
    """Character spans of ``wikipedia.split_sentences``'s sentences (they are stripped substrings, in order)."""
    spans, cursor = [], 0
    for sentence in wikipedia.split_sentences(paragraph):
        start = paragraph.find(sentence, cursor)
        spans.append((start, start + len(sentence)))
        cursor = start + len(sentence)
    return spans


def _is_word_start(symbol: str, bytebpe: bool) -> bool:
    return symbol.startswith("\u0120") if bytebpe else not symbol.startswith("##")


class ArticleBuilder:
    """Turns one article into instances; lives in each worker process."""

    def __init__(self, tokenizer: VocabTokenizer, bytebpe: bool, vocab: EntityVocab, redirects: Dict[str, str],
                 options: PretrainOptions):
        self.tokenizer, self.bytebpe, self.vocab, self.redirects, self.options = (
            tokenizer, bytebpe, vocab, redirects, options)
        self.namespaces = set(wikipedia.NAMESPACES.values())
        self.bos_eos = 2

    def entity_id(self, target: str, stats: CorpusStats) -> Optional[int]:
        if ":" in target and target.partition(":")[0] in self.namespaces:
            stats.namespaced_links += 1
            return None
        index = self.vocab.index(wikipedia.resolve_redirect(target, self.redirects))
        if index == self.vocab.unk:
            stats.unknown_links += 1
            if not self.options.include_unk_entities:
                return None
        return index

    def sentences(self, text: str, links: Sequence[wikipedia.Link], stats: CorpusStats):
        """(sentence text, [(char start, char end, entity id)]) in order, links relative to the sentence."""
        links = sorted(links)
        offset, k = 0, 0
        for paragraph in text.split("\n"):
            for start, end in _sentence_spans(paragraph):
                start, end = start + offset, end + offset
                inside, last = [], start
                while k < len(links) and links[k].start < end:
                    link = links[k]
                    k += 1
                    if link.start < last or link.end > end:
                        stats.crossing_links += 1
                        continue
                    entity = self.entity_id(link.target, stats)
                    if entity is not None:
                        inside.append((link.start - start, link.end - start, entity))
                        last = link.end
                yield text[start:end], inside
            offset += len(paragraph) + 1

    def segments(self, sentence: str, links) -> Tuple[List[str], List[Optional[int]], List[bool]]:
        """Texts to tokenize (cut at link boundaries), the link each belongs to, and whether it starts a word."""
        texts, owners, starts = [], [], []
        cursor = 0
        for index, (start, end, _) in enumerate(links + [(len(sentence), len(sentence), None)]):
            for a, b, owner in ((cursor, start, None), (start, end, index if end > start else None)):
                piece = sentence[a:b]
                if not piece.strip():
                    continue
                spaced = a == 0 or sentence[a - 1].isspace() or piece[0].isspace()
                joined = a > 0 and sentence[a - 1].isalnum() and piece[0].isalnum()
                texts.append((" " if self.bytebpe and spaced else "") + piece.strip())
                owners.append(owner)
                starts.append(not joined)
            cursor = end
        return texts, owners, starts

    def __call__(self, article: Tuple[str, str]) -> Tuple[str, List[Instance], CorpusStats]:
        title, wikitext = article
        stats = CorpusStats(articles=1)
        split = wikipedia.split_of(title, self.options.valid_ratio, self.options.test_ratio)
        text, links = wikipedia.parse_wikitext(wikitext)
        stats.links = len(links)
        if not text:
            stats.empty_articles = 1
            return split, [], stats
        sentences = list(self.sentences(text, links, stats))
        pieces = [self.segments(s, l) for s, l in sentences]
        flat = [t for texts, _, _ in pieces for t in texts]
        encoded = iter(self.tokenizer.encode_batch(flat) if flat else [])
        symbols = self.tokenizer.dictionary.symbols
        budget = self.options.max_seq_length - self.bos_eos
        instances, current = [], []
        for (sentence, sentence_links), (texts, owners, word_start) in zip(sentences, pieces):
            ids, starts, spans = [], [], {}
            for owner, first in zip(owners, word_start):
                piece_ids = next(encoded)
                if not piece_ids:
                    continue
                if owner is not None:
                    spans[owner] = (len(ids), len(ids) + len(piece_ids))
                starts.extend([first] + [_is_word_start(symbols[i], self.bytebpe) for i in piece_ids[1:]])
                ids.extend(piece_ids)
            if len(ids) < self.options.min_sentence_length:
                stats.short_sentences += 1
                continue
            if len(ids) > budget:
                stats.long_sentences += 1
                continue
            entities = [(sentence_links[o][2], s, e) for o, (s, e) in sorted(spans.items())]
            if current and sum(len(c[0]) for c in current) + len(ids) > budget:
                self.flush(current, instances, stats)
                current = []
            current.append((ids, starts, entities))
        if current:
            self.flush(current, instances, stats)
        stats.split_articles[split] += 1
        stats.instances[split] += len(instances)
        stats.tokens[split] += sum(len(i.words) for i in instances)
        stats.split_entities[split] += sum(len(i.entities) for i in instances)
        return split, instances, stats

    def flush(self, sentences, instances: List[Instance], stats: CorpusStats) -> None:
        words, starts, entities = [], [], []
        for ids, word_starts, sentence_entities in sentences:
            entities.extend((e, s + len(words), t + len(words)) for e, s, t in sentence_entities)
            words.extend(ids)
            starts.extend(word_starts)
        if not entities and not self.options.include_sentences_without_entities:
            stats.instances_without_entities += 1
            return
        stats.entities_beyond_max += max(0, len(entities) - self.options.max_entity_length)
        entities = entities[:self.options.max_entity_length]
        stats.entities += len(entities)
        stats.long_mentions += sum(t - s > self.options.max_mention_length for _, s, t in entities)
        instances.append(Instance(np.array(words, dtype=np.int64), np.array(starts, dtype=np.int64),
                                  np.array([e for e, _, _ in entities], dtype=np.int64),
                                  np.array([[s, t] for _, s, t in entities], dtype=np.int64).reshape(-1, 2)))


_BUILDER: Optional[ArticleBuilder] = None


def _init_worker(builder: ArticleBuilder) -> None:
    global _BUILDER
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    _BUILDER = builder


def _build(article):
    return _BUILDER(article)


def read_redirects(dump_path) -> Dict[str, str]:
    """Every redirect of the dump (a first pass: a redirect page may come after the links to it)."""
    return {page.title: page.redirect for page in wikipedia.iter_pages(dump_path)
            if page.namespace == 0 and page.redirect is not None}


def _articles(dump_path, max_articles: Optional[int]) -> Iterator[Tuple[str, str]]:
    count = 0
    for page in wikipedia.iter_pages(dump_path):
        if not page.is_article:
            continue
        if max_articles is not None and count >= max_articles:
            return
        count += 1
        yield page.title, page.wikitext


class _Writer:
    def __init__(self, out_dir: str, vocab_size: int, entity_vocab_size: int, max_seq_length: int):
        from fairseq.data import indexed_dataset

        sizes = {"words": vocab_size, "wordstarts": 2, "entities": entity_vocab_size, "spans": max_seq_length + 1}
        self.prefixes = {split: os.path.join(out_dir, split) for split in SPLITS}
        self.builders = {(split, name): indexed_dataset.make_builder(f"{prefix}.{name}.bin", "mmap",
                                                                     vocab_size=sizes[name])
                         for split, prefix in self.prefixes.items() for name in FIELDS}

    def add(self, split: str, instance: Instance) -> None:
        values = {"words": instance.words, "wordstarts": instance.word_starts, "entities": instance.entities,
                  "spans": instance.spans.reshape(-1)}
        for name in FIELDS:
            self.builders[(split, name)].add_item(torch.from_numpy(values[name]))

    def finalize(self) -> None:
        for (split, name), builder in self.builders.items():
            builder.finalize(f"{self.prefixes[split]}.{name}.idx")


def build_pretraining_data(dump_path, model_dir: str, entity_vocab: EntityVocab, out_dir: str,
                           options: PretrainOptions, workers: int = 1, max_articles: Optional[int] = None,
                           progress: bool = True) -> CorpusStats:
    """Write the binarized splits, vocabularies and ``luke_pretrain.json`` into ``out_dir``."""
    from ..tasks._luke_vocab import folder_tokenizer
    from .vocab_dictionary import load_dictionary

    if options.max_seq_length < options.min_sentence_length + 2:
        raise InputError(None, f"--max-seq-length {options.max_seq_length} leaves no room for a sentence of "
                               f"--min-sentence-length {options.min_sentence_length}", field="max_seq_length")
    tokenizer, prefix = folder_tokenizer(model_dir)
    dictionary: VocabDictionary = load_dictionary(os.path.join(model_dir, "dict.txt"))
    if len(dictionary) < len(tokenizer.dictionary):
        raise InputError(os.path.join(model_dir, "dict.txt"), f"{len(dictionary)} tokens, fewer than the "
                                                              f"tokenizer's {len(tokenizer.dictionary)}")
    os.makedirs(out_dir, exist_ok=True)
    redirects = read_redirects(dump_path)
    builder = ArticleBuilder(tokenizer, bool(prefix), entity_vocab, redirects, options)
    writer = _Writer(out_dir, len(dictionary), len(entity_vocab), options.max_seq_length)
    stats = CorpusStats()
    articles = _articles(dump_path, max_articles)
    if progress:
        from tqdm import tqdm

        articles = tqdm(articles, desc="articles", unit=" articles", total=max_articles)
    if workers > 1:
        pool = Pool(workers, initializer=_init_worker, initargs=(builder,))
        results = pool.imap(_build, articles, chunksize=4)
    else:
        pool, results = None, map(builder, articles)
    try:
        for split, instances, article_stats in results:
            for instance in instances:
                writer.add(split, instance)
            stats.add(article_stats)
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    writer.finalize()
    if stats.instances["train"] == 0:
        raise InputError(dump_path, f"no training instance from {stats.articles} articles ({stats.links} links, "
                                    f"{stats.entities} in the entity vocabulary)")
    dictionary.save(os.path.join(out_dir, "dict.txt"))
    for name in ("vocab.txt", "vocab.json", "merges.txt", "tokenizer_config.json"):
        if os.path.isfile(os.path.join(model_dir, name)):
            shutil.copyfile(os.path.join(model_dir, name), os.path.join(out_dir, name))
    entity_vocab.save(os.path.join(out_dir, ENTITY_VOCAB_FILE))
    meta = {"dump": os.path.abspath(os.fspath(dump_path)), "model_dir": os.path.abspath(model_dir),
            "redirects": len(redirects), "options": asdict(options), "stats": asdict(stats)}
    with open(os.path.join(out_dir, META_FILE), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    return stats


def read_meta(data_dir: str) -> dict:
    path = os.path.join(data_dir, META_FILE)
    if not os.path.isfile(path):
        raise InputError(path, "not found: prepare the data with scripts/preprocess_luke_pretrain.py")
    with open(path, encoding="utf-8") as f:
        return json.load(f)
