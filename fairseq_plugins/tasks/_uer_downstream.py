"""A base for UER-py's fine-tuning tasks: raw text files read with ``--vocab``/``--tokenizer-kind``, the ``uer``
model with its ``cls`` target, and ``--pretrained-model-path`` (UER's option) to start from pre-training.

Underscored: a shared base the task modules import, registering nothing itself. A data folder holds
``train``, ``dev`` (fairseq's ``valid`` split) and ``test`` files with the subclass's extension.
Facts a fine-tuned checkpoint must carry (label counts, the training files' columns) live in the
task's ``state``, which fairseq saves with the checkpoint, so that inference needs no training data.
"""
import logging
import os
from dataclasses import dataclass, field
from typing import Optional

from fairseq.dataclass import ChoiceEnum, FairseqDataclass

from ..errors import InputError
from ..models.uer_pretrained import build_from_uer_pretrained
from ..tokenization import build_tokenizer
from ._single_dictionary import SingleDictionaryTask

logger = logging.getLogger(__name__)

# fairseq split name -> UER file name
SPLIT_FILES = {"valid": "dev"}


@dataclass
class UerDownstreamConfig(FairseqDataclass):
    data: str = field(default="", metadata={"help": "folder of the train, dev (the valid split) and test files"})
    vocab: str = field(default="", metadata={"help": "vocabulary (vocab.txt), or the .model for sentencepiece"})
    tokenizer_kind: ChoiceEnum(["bert", "char", "space", "sentencepiece"]) = field(
        default="bert", metadata={"help": "UER's --tokenizer: bert (WordPiece), char, space, sentencepiece"})
    seq_length: int = field(default=128, metadata={"help": "tokens per sequence incl. [CLS]/[SEP]; longer is cut"})
    pretrained_model_path: Optional[str] = field(
        default=None, metadata={"help": "checkpoint of UER pre-training (uer_pretrain) whose embedding and "
                                        "encoder start the model; its architecture replaces the size flags"})


class UerDownstreamTask(SingleDictionaryTask):
    extension = ".tsv"

    def __init__(self, cfg: UerDownstreamConfig, tokenizer):
        super().__init__(cfg)
        self.tokenizer = tokenizer
        self.dictionary = tokenizer.dictionary

    @classmethod
    def setup_task(cls, cfg: UerDownstreamConfig, **kwargs):
        if not cfg.vocab:
            raise InputError(None, "the vocabulary file is required", field="--vocab")
        return cls(cfg, build_tokenizer(cfg.tokenizer_kind, cfg.vocab))

    def split_path(self, split: str, folder: Optional[str] = None) -> str:
        return os.path.join(folder or self.cfg.data, SPLIT_FILES.get(split, split) + self.extension)

    def existing_split_path(self, split: str, folder: Optional[str] = None) -> str:
        path = self.split_path(split, folder)
        if not os.path.isfile(path):
            raise InputError(path, f"not found (split {split!r})")
        return path

    def build_model(self, cfg, from_checkpoint=False):
        if getattr(cfg, "target", None) != "cls":
            raise InputError(None, f"{self.cfg._name} trains the uer model's cls target, got "
                                   f"{getattr(cfg, 'target', None)!r}: add --target cls (and --pooling to choose "
                                   "first/mean/max/last)", field="--target")
        return build_from_uer_pretrained(lambda c: super(UerDownstreamTask, self).build_model(c, from_checkpoint), cfg,
                                         self.cfg.pretrained_model_path, len(self.dictionary), from_checkpoint)

    def max_positions(self):
        return self.cfg.seq_length
