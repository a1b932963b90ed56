"""UER-py corpora -> binarized pre-training instances (the engine of ``scripts/preprocess_corpus.py``).

Corpus formats, as in UER: for ``bert``/``albert`` one sentence a line with a blank line between
documents; for ``mlm``/``lm``/``bilm`` one document a line; for ``cls`` ``label<TAB>text`` lines
(a ``label``-headed first line is skipped). The corpus is streamed: documents are read in chunks
and at most ``docs_buffer_size`` of them are in flight, so corpora larger than memory work. Each
chunk is tokenized and turned into instances by a worker process, seeded by (seed, chunk number,
duplicate), so the output does not depend on the number of processes. Instances are written with
fairseq's indexed-dataset builders (``mmap``), which ``fairseq-train`` reads lazily.
"""
import json
import logging
import multiprocessing
import os
from collections import deque
from dataclasses import asdict, dataclass
from typing import Iterator, List, Optional, Tuple

import numpy as np
import torch
from fairseq.data import indexed_dataset

from ..errors import InputError
from .text_files import text_lines
from ..tokenization import VocabTokenizer
from .uer_instances import Instance, InstanceConfig, document_instances
from .uer_masking import MaskingConfig

logger = logging.getLogger(__name__)

PAIR_TARGETS = ("bert", "albert")
MASKED_TARGETS = ("mlm", "bert", "albert")
CHUNK_DOCS = 1000  # documents per worker task (and the pool random NSP sentences come from)


@dataclass
class CorpusStats:
    documents: int = 0
    skipped: int = 0      # documents without a single known token
    instances: int = 0
    tokens: int = 0

    def add(self, other: "CorpusStats"):
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class PreprocessOptions:
    target: str
    seq_length: int = 128
    dup_factor: int = 5
    short_seq_prob: float = 0.1
    full_sentences: bool = False
    seed: int = 7
    whole_word_masking: bool = False
    segmenter: str = "jieba"        # whole words: jieba (Chinese) or the tokenizer's own word pieces
    masking: Optional[MaskingConfig] = None  # static masking; None = dynamic (at training)


def read_documents(path: str, target: str) -> Iterator[Tuple[int, List[str], int]]:
    """(first line number, sentences, label) per document; labels only for ``cls`` (else -1)."""
    sentences, start = [], None
    for number, line in text_lines(path, "corpus"):
        line = line.strip()
        if target in PAIR_TARGETS:
            if line:
                sentences.append(line)
                start = start or number
            elif sentences:
                yield start, sentences, -1
                sentences, start = [], None
        elif line:
            if target == "cls":
                label, sep, text = line.partition("\t")
                if number == 1 and label == "label":
                    continue
                if not sep or not label.isdigit():
                    raise InputError(path, f"expected 'label<TAB>text' with an integer label, got {line[:60]!r}",
                                     line=number, field="label")
                yield number, [text], int(label)
            else:
                yield number, [line], -1
    if sentences:
        yield start, sentences, -1


class _Worker:
    """Tokenizes a chunk of documents and builds its instances; lives in each worker process."""

    def __init__(self, tokenizer: VocabTokenizer, kind: str, options: PreprocessOptions, instance_cfg: InstanceConfig):
        self.tokenizer, self.kind, self.options, self.instance_cfg = tokenizer, kind, options, instance_cfg

    def word_starts(self, ids: List[int]) -> List[int]:
        symbols = self.tokenizer.dictionary.symbols
        if self.kind == "bert":
            return [0 if symbols[i].startswith("##") else 1 for i in ids]
        if self.kind == "sentencepiece":
            return [1 if symbols[i].startswith("\u2581") else 0 for i in ids]
        return [1] * len(ids)

    def sentence(self, text: str) -> np.ndarray:
        if self.options.whole_word_masking and self.options.segmenter == "jieba":
            import jieba

            words = [w for w in jieba.lcut(text) if w.strip()]
            ids, starts = [], []
            for word_ids in self.tokenizer.encode_batch(words) if words else []:
                ids.extend(word_ids)
                starts.extend([1] + [0] * (len(word_ids) - 1))
        else:
            ids = self.tokenizer.encode_batch([text])[0]
            starts = self.word_starts(ids)
        return np.array([ids, starts], dtype=np.int64).reshape(2, -1)

    def __call__(self, task) -> Tuple[List[Instance], CorpusStats]:
        chunk_index, docs = task
        tokenized, labels = [], []
        stats = CorpusStats(documents=len(docs))
        for _, sentences, label in docs:
            doc = [s for s in (self.sentence(t) for t in sentences) if s.shape[1]]
            if not doc:
                stats.skipped += 1
                continue
            tokenized.append(doc)
            labels.append(label)
        dups = self.options.dup_factor if self.options.target in MASKED_TARGETS else 1
        instances = []
        for dup in range(dups):
            rng = np.random.RandomState([self.options.seed, chunk_index, dup])
            instances.extend(document_instances(tokenized, self.instance_cfg, rng, labels))
        stats.instances = len(instances)
        stats.tokens = sum(len(i.tokens) for i in instances)
        return instances, stats


_WORKER: Optional[_Worker] = None


def _init_worker(worker: _Worker):
    global _WORKER
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    _WORKER = worker


def _run_worker(task):
    return _WORKER(task)


def _chunks(documents, size):
    chunk = []
    for doc in documents:
        chunk.append(doc)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Writer:
    """One mmap indexed dataset per field; the label/target/word-start files only when used."""

    def __init__(self, prefix: str, vocab_size: int, options: PreprocessOptions):
        self.prefix = prefix
        fields = {"src": vocab_size}
        if options.target in PAIR_TARGETS + ("cls",):
            fields["label"] = 2 ** 15
        if options.masking is not None and options.target in MASKED_TARGETS:
            fields["tgt"] = vocab_size
        if options.whole_word_masking:
            fields["wordstart"] = 2
        self.builders = {name: indexed_dataset.make_builder(f"{prefix}.{name}.bin", "mmap", vocab_size=size)
                         for name, size in fields.items()}

    def add(self, instance: Instance):
        values = {"src": instance.tokens, "label": [instance.label], "tgt": instance.target,
                  "wordstart": instance.word_starts}
        for name, builder in self.builders.items():
            builder.add_item(torch.as_tensor(np.asarray(values[name], dtype=np.int64)))

    def finalize(self):
        for name, builder in self.builders.items():
            builder.finalize(f"{self.prefix}.{name}.idx")


def binarize_corpus(corpus_path: str, prefix: str, tokenizer: VocabTokenizer, kind: str,
                    options: PreprocessOptions, instance_cfg: InstanceConfig, processes: int = 1,
                    docs_buffer_size: int = 100000) -> Tuple[CorpusStats, int]:
    """Write ``prefix.{src,label,tgt,wordstart}.{bin,idx}``; returns the stats and the largest label."""
    worker = _Worker(tokenizer, kind, options, instance_cfg)
    writer = _Writer(prefix, len(tokenizer.dictionary), options)
    stats, max_label = CorpusStats(), -1
    chunk_size = max(1, min(CHUNK_DOCS, docs_buffer_size))
    tasks = enumerate(_chunks(read_documents(corpus_path, options.target), chunk_size))
    for instances, chunk_stats in _map(worker, tasks, processes, max(1, docs_buffer_size // chunk_size)):
        for instance in instances:
            writer.add(instance)
            max_label = max(max_label, instance.label)
        stats.add(chunk_stats)
    writer.finalize()
    if stats.documents == 0:
        raise InputError(corpus_path, "the corpus holds no documents" + (
            " (bert/albert corpora: one sentence a line, a blank line between documents)"
            if options.target in PAIR_TARGETS else " (one document a line)"))
    if stats.instances == 0:
        raise InputError(corpus_path, f"no {options.target} instance could be built from {stats.documents} "
                                      f"documents ({stats.skipped} too short or without known tokens)")
    return stats, max_label


def _map(worker, tasks, processes, max_pending_chunks):
    """Chunks in order; at most ``max_pending_chunks`` (the docs buffer) in flight."""
    if processes <= 1:
        for task in tasks:
            yield worker(task)
        return
    with multiprocessing.Pool(processes, initializer=_init_worker, initargs=(worker,)) as pool:
        pending = deque()
        for task in tasks:
            pending.append(pool.apply_async(_run_worker, (task,)))
            if len(pending) >= max(max_pending_chunks, processes):
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


def write_meta(dest_dir: str, options: PreprocessOptions, splits: dict, labels_num: int):
    meta = {"target": options.target, "seq_length": options.seq_length,
            "static_masking": options.masking is not None and options.target in MASKED_TARGETS,
            "word_starts": options.whole_word_masking, "labels_num": labels_num,
            "options": {k: v for k, v in asdict(options).items() if k != "masking"},
            "splits": {name: asdict(s) for name, s in splits.items()}}
    with open(os.path.join(dest_dir, "uer_data.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    return meta
