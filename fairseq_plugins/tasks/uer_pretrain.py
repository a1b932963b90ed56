"""UER-py pre-training on data written by ``scripts/preprocess_corpus.py``.

The data folder holds ``dict.txt`` (the vocabulary, ids kept), ``uer_data.json`` (the target the
instances were built for and how) and per split the binarized ``<split>.src`` instances, plus
``.label`` (NSP/SOP/cls labels), ``.tgt`` (static masking) and ``.wordstart`` (whole-word masking)
when they apply. The target comes from the model (``--target``), so data built for another
target is refused here instead of training on the wrong inputs.
"""
import json
import logging
import os
from dataclasses import dataclass, field

from fairseq.data import data_utils
from fairseq.dataclass import FairseqDataclass
from fairseq.tasks import register_task
from omegaconf import II

from ..data import load_dictionary
from ..data.uer_masking import MaskingConfig
from ..data.uer_pretrain_dataset import MASKED_TARGETS, UerPretrainDataset
from ..errors import InputError
from ._single_dictionary import SingleDictionaryTask

logger = logging.getLogger(__name__)

META_FILE = "uer_data.json"
# lm and bilm read the same windows; every other target needs its own instances.
SAME_DATA = {"lm": ("lm", "bilm"), "bilm": ("lm", "bilm")}


@dataclass
class UerPretrainConfig(FairseqDataclass):
    data: str = field(default="", metadata={"help": "folder written by scripts/preprocess_corpus.py"})
    mask_prob: float = field(default=0.15, metadata={"help": "share of maskable tokens to predict"})
    random_token_prob: float = field(default=0.1, metadata={"help": "share of predicted tokens replaced at random"})
    leave_unmasked_prob: float = field(default=0.1, metadata={"help": "share of predicted tokens left unchanged"})
    span_masking: bool = field(default=False, metadata={"help": "SpanBERT span masking (dynamic masking)"})
    span_geo_prob: float = field(default=0.2, metadata={"help": "p of the geometric span-length distribution"})
    span_max_length: int = field(default=10, metadata={"help": "longest masked span"})
    whole_word_masking: bool = field(
        default=False, metadata={"help": "mask whole words (needs data preprocessed with --whole-word-masking)"})
    target: str = II("model.target")
    seed: int = II("common.seed")


@register_task("uer_pretrain", dataclass=UerPretrainConfig)
class UerPretrainTask(SingleDictionaryTask):
    def __init__(self, cfg: UerPretrainConfig, dictionary, meta: dict):
        super().__init__(cfg)
        self.dictionary = dictionary
        self.meta = meta
        self.labels_num = meta.get("labels_num", 0)

    @classmethod
    def setup_task(cls, cfg: UerPretrainConfig, **kwargs):
        meta_path = os.path.join(cfg.data, META_FILE)
        if not os.path.isfile(meta_path):
            raise InputError(meta_path, "not found: prepare the data with scripts/preprocess_corpus.py")
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        built_for = meta["target"]
        if built_for not in SAME_DATA.get(cfg.target, (cfg.target,)):
            raise InputError(meta_path, f"the data was built for target {built_for!r}, the model trains "
                                        f"{cfg.target!r}: rerun preprocess_corpus.py --target {cfg.target}",
                             field="target")
        if cfg.whole_word_masking and not meta.get("word_starts"):
            raise InputError(meta_path, "--whole-word-masking needs data preprocessed with --whole-word-masking")
        if meta.get("static_masking") and (cfg.span_masking or cfg.whole_word_masking):
            raise InputError(meta_path, "this data was masked at preprocessing; span or whole-word masking "
                                        "must then be chosen there, not at training")
        dictionary = load_dictionary(os.path.join(cfg.data, "dict.txt"))
        logger.info("dictionary: %d types; data built for %s", len(dictionary), built_for)
        return cls(cfg, dictionary, meta)

    def masking_config(self) -> MaskingConfig:
        d = self.dictionary
        return MaskingConfig(
            mask_idx=d.mask(), pad_idx=d.pad(), special_ids=(d.bos(), d.eos(), d.pad(), d.mask()),
            vocab_size=len(d), mask_prob=self.cfg.mask_prob, random_token_prob=self.cfg.random_token_prob,
            leave_unmasked_prob=self.cfg.leave_unmasked_prob, span_masking=self.cfg.span_masking,
            span_geo_prob=self.cfg.span_geo_prob, span_max_length=self.cfg.span_max_length)

    def _load(self, split, suffix, required=True):
        path = os.path.join(self.cfg.data, f"{split}.{suffix}")
        dataset = data_utils.load_indexed_dataset(path, None, "mmap")
        if dataset is None and required:
            raise FileNotFoundError(f"{path}.bin/.idx not found (split {split!r})")
        return dataset

    def load_dataset(self, split, epoch=1, combine=False, **kwargs):
        target, static = self.cfg.target, bool(self.meta.get("static_masking"))
        dynamic = target in MASKED_TARGETS and not static
        self.datasets[split] = UerPretrainDataset(
            self._load(split, "src"), target, self.dictionary.pad(), self.dictionary.eos(), seed=self.cfg.seed,
            masking=self.masking_config() if dynamic else None,
            static_targets=self._load(split, "tgt") if static and target in MASKED_TARGETS else None,
            labels=self._load(split, "label") if target in ("bert", "albert", "cls") else None,
            word_starts=self._load(split, "wordstart") if dynamic and self.cfg.whole_word_masking else None,
        )
        logger.info("%s: %d instances", split, len(self.datasets[split]))
