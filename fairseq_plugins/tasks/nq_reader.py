"""``nq_reader``: Natural Questions candidate reading from simplified-NQ files, tokenized on the fly.

``DATA`` holds ``{split}.jsonl``, ``{split}.jsonl.gz`` or a folder ``{split}/`` of one-row
``.json`` files. Training pairs each row's gold candidate with one negative, drawn again every
epoch (the task reports sharded data so that fairseq reloads the split per epoch): uniformly in
stage 1, in proportion to ``--negative-distributions`` (written by ``scripts/nq_mine_negatives.py``)
in stage 2, which also mixes in hard negatives of rows without an answer
(``--negative-row-rate``). Other splits use the epoch-1 draw, so validation loss is comparable
across epochs; ``scripts/nq_predict.py`` reads every candidate instead.
"""
import glob
import json
import logging
import os
import random
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional

from fairseq.dataclass import FairseqDataclass
from fairseq.tasks import register_task
from omegaconf import II

from ..data.squad_dataset import QaWindowDataset
from ..data.nq_format import NqExample, ReadStats, read_nq
from ..data.nq_inputs import NqInstanceBuilder
from ..errors import InputError
from ..models.pretrained_encoder import build_with_pretrained_encoder
from ..tokenization import build_tokenizer
from ._single_dictionary import SingleDictionaryTask

logger = logging.getLogger(__name__)


@dataclass
class NqReaderTaskConfig(FairseqDataclass):
    data: str = field(default="", metadata={"help": "folder of {split}.jsonl / .jsonl.gz files or {split}/*.json"})
    vocab: str = field(default="", metadata={"help": "BERT vocab.txt of the encoder ([unusedN] rows hold HTML tags)"})
    max_length: int = field(default=384, metadata={"help": "tokens per sequence incl. [CLS] and two [SEP]"})
    max_query_length: int = field(default=64, metadata={"help": "question tokens kept"})
    doc_stride: int = field(default=128, metadata={"help": "tokens between windows of a long candidate"})
    negative_distributions: Optional[str] = field(
        default=None, metadata={"help": "stage 2: jsonl of mined p(answer) per non-gold candidate "
                                        "(scripts/nq_mine_negatives.py); default: uniform negatives (stage 1)"})
    negative_row_rate: float = field(
        default=0.0, metadata={"help": "stage 2: probability that a row without a long answer adds one hard "
                                       "negative (the solution: 2 such per 3 answered rows)"})
    seed: int = II("common.seed")


def split_files(data: str, split: str) -> List[str]:
    for name in (f"{split}.jsonl", f"{split}.jsonl.gz"):
        if os.path.isfile(os.path.join(data, name)):
            return [os.path.join(data, name)]
    files = sorted(glob.glob(os.path.join(data, split, "*.json")))
    if not files:
        raise InputError(os.path.join(data, split), "no .jsonl, .jsonl.gz or folder of .json rows for this split")
    return files


def read_files(paths: Iterable[str], stats: ReadStats) -> Iterable[NqExample]:
    for path in paths:
        yield from read_nq(path, stats)


def read_negative_distributions(path: str) -> Dict[int, Dict[int, float]]:
    """``{example_id: {candidate: p(answer)}}`` from the mining command's jsonl."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for line_number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                out[int(row["example_id"])] = dict(zip(map(int, row["candidates"]), map(float, row["p_answer"])))
            except (ValueError, KeyError, TypeError) as e:
                raise InputError(path, f"expected {{example_id, candidates, p_answer}} ({e})", line=line_number)
    return out


@register_task("nq_reader", dataclass=NqReaderTaskConfig)
class NqReaderTask(SingleDictionaryTask):
    def __init__(self, cfg: NqReaderTaskConfig, tokenizer):
        super().__init__(cfg)
        self.tokenizer = tokenizer
        self.dictionary = tokenizer.dictionary
        self.negatives = read_negative_distributions(cfg.negative_distributions) if cfg.negative_distributions \
            else None

    @classmethod
    def setup_task(cls, cfg: NqReaderTaskConfig, **kwargs):
        if not cfg.vocab:
            raise InputError(None, "the encoder's vocab.txt is required", field="--vocab")
        return cls(cfg, build_tokenizer("bert", cfg.vocab))

    def builder(self) -> NqInstanceBuilder:
        return NqInstanceBuilder(self.tokenizer, self.cfg.max_length, self.cfg.max_query_length, self.cfg.doc_stride)

    def has_sharded_data(self, split):
        return split == "train"  # fresh negatives each epoch

    def load_dataset(self, split, combine=False, epoch=1, **kwargs):
        epoch = epoch if split == "train" else 1
        builder, stats = self.builder(), ReadStats()
        instances = []
        for index, example in enumerate(read_files(split_files(self.cfg.data, split), stats)):
            rng = random.Random(f"{self.cfg.seed}-{epoch}-{example.example_id}")
            negatives = None if self.negatives is None else self.negatives.get(example.example_id, {})
            instances.extend(builder.instances(index, example, builder.sample(
                example, rng, negatives, self.cfg.negative_row_rate)))
        logger.info("%s; %s", stats.report(split), builder.stats.report(f"epoch {epoch}"))
        if not instances:
            raise InputError(os.path.join(self.cfg.data, split), "no training instance: no row has a long answer "
                                                                 "and a second candidate")
        self.datasets[split] = QaWindowDataset(instances, self.source_dictionary.pad())
        return self.datasets[split]

    def build_model(self, cfg, from_checkpoint=False):
        return build_with_pretrained_encoder(self, cfg, from_checkpoint)

    def max_positions(self):
        return self.cfg.max_length
