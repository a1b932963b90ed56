"""``uer_classification``: UER-py's ``run_classifier.py`` data, read from ``DATA/{train,dev,test}.tsv``.

Texts are tokenized on the fly with ``--vocab`` and ``--tokenizer-kind`` (no binarization). The model
is ``uer`` with ``--target cls`` (pooling by ``--pooling``); the number of labels is ``--labels-num``
or, when 0, the largest label of ``train.tsv`` plus one (the inference script reads it from the
checkpoint's cls head).
fairseq's ``valid`` split is UER's ``dev.tsv``.
"""
import logging
import os
from dataclasses import dataclass, field

from fairseq.dataclass import ChoiceEnum, FairseqDataclass
from fairseq.tasks import register_task

from ..data.uer_classification import UerClassificationDataset, check_labels, encode_examples, read_classification_tsv
from ..errors import InputError
from ..tokenization import build_tokenizer
from ._single_dictionary import SingleDictionaryTask

logger = logging.getLogger(__name__)

# fairseq split name -> UER file name
SPLIT_FILES = {"valid": "dev"}


@dataclass
class UerClassificationConfig(FairseqDataclass):
    data: str = field(default="", metadata={"help": "folder of train.tsv, dev.tsv (the valid split), test.tsv"})
    vocab: str = field(default="", metadata={"help": "vocabulary (vocab.txt), or the .model for sentencepiece"})
    tokenizer_kind: ChoiceEnum(["bert", "char", "space", "sentencepiece"]) = field(
        default="bert", metadata={"help": "UER's --tokenizer: bert (WordPiece), char, space, sentencepiece"})
    seq_length: int = field(default=128, metadata={"help": "tokens per example incl. [CLS]/[SEP]; longer is cut"})
    labels_num: int = field(default=0, metadata={"help": "number of labels (0: largest label in train.tsv + 1)"})


@register_task("uer_classification", dataclass=UerClassificationConfig)
class UerClassificationTask(SingleDictionaryTask):
    def __init__(self, cfg: UerClassificationConfig, tokenizer):
        super().__init__(cfg)
        self.tokenizer = tokenizer
        self.dictionary = tokenizer.dictionary
        self.labels_num = cfg.labels_num

    @classmethod
    def setup_task(cls, cfg: UerClassificationConfig, **kwargs):
        if not cfg.vocab:
            raise InputError(None, "the vocabulary file is required", field="--vocab")
        tokenizer = build_tokenizer(cfg.tokenizer_kind, cfg.vocab)
        if cfg.labels_num == 0:
            path = os.path.join(cfg.data, "train.tsv")
            labels = [row.label for row in read_classification_tsv(path)]
            if not labels:
                raise InputError(path, "no examples to count the labels from; give --labels-num")
            cfg.labels_num = max(labels) + 1
        if cfg.labels_num < 2:
            raise InputError(None, f"a classifier needs at least 2 labels, got {cfg.labels_num}",
                             field="--labels-num")
        logger.info("%d labels", cfg.labels_num)
        return cls(cfg, tokenizer)

    def build_model(self, cfg, from_checkpoint=False):
        if getattr(cfg, "target", None) != "cls":
            raise InputError(None, f"uer_classification trains the uer model's cls target, got "
                                   f"{getattr(cfg, 'target', None)!r}: add --target cls (and --pooling to choose "
                                   "first/mean/max/last)", field="--target")
        return super().build_model(cfg, from_checkpoint)

    def split_path(self, split: str) -> str:
        return os.path.join(self.cfg.data, SPLIT_FILES.get(split, split) + ".tsv")

    def load_dataset(self, split, epoch=1, combine=False, **kwargs):
        path = self.split_path(split)
        if not os.path.isfile(path):
            raise InputError(path, f"not found (split {split!r})")
        return self.load_tsv(split, path, labels_required=True)

    def load_tsv(self, split, path, labels_required: bool):
        """Read, check and encode one tsv as ``split`` (the inference script passes its own file)."""
        rows = read_classification_tsv(path, labels_required)
        check_labels(rows, self.labels_num, path)
        examples = encode_examples(rows, self.tokenizer, self.cfg.seq_length, path)
        self.datasets[split] = UerClassificationDataset(examples, self.dictionary.pad())
        return self.datasets[split]

    def max_positions(self):
        return self.cfg.seq_length
