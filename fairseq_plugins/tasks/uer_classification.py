"""``uer_classification``: UER-py's ``run_classifier.py`` and ``run_mt_classifier.py``, on ``DATA/{train,dev,test}.tsv``.

Texts are tokenized on the fly with ``--vocab`` and ``--tokenizer-kind`` (no binarization). The model is
``uer`` with ``--target cls`` (pooling by ``--pooling``), optionally started from UER pre-training with
``--pretrained-model-path``. The number of labels is ``--labels-num`` or, when 0, the largest label of
``train.tsv`` plus one.

- Distillation (UER's ``--soft_targets``): with ``--soft-targets`` the training file's ``logits`` column
  (a teacher's logits) is learned too; the criterion mixes ``--soft-alpha`` x MSE on the logits with
  ``1 - alpha`` x cross-entropy on the labels.
- Multi-task: ``DATA`` may name several folders separated by ``:`` (fairseq's separator of data paths); the encoder is shared and each
  folder gets its own head; batches hold one folder's examples; validation logs each folder's metrics
  under its name (``<folder>_accuracy``) besides the overall ``accuracy``.
"""
import logging
import os
from dataclasses import dataclass, field
from typing import List

from fairseq import utils
from fairseq.tasks import register_task

from ..data.uer_classification import UerClassificationDataset, check_labels, encode_examples, \
    read_classification_tsv, text_columns
from ..errors import InputError
from ..models.uer_multitask import UerMultiTaskClassifier
from ._uer_downstream import UerDownstreamConfig, UerDownstreamTask

logger = logging.getLogger(__name__)


@dataclass
class UerClassificationConfig(UerDownstreamConfig):
    labels_num: int = field(default=0, metadata={"help": "number of labels (0: largest label in train.tsv + 1)"})
    soft_targets: bool = field(
        default=False, metadata={"help": "distillation: also learn the teacher logits of train.tsv's logits column"})
    soft_alpha: float = field(default=0.5, metadata={"help": "weight of the MSE on logits (1 - it: cross-entropy)"})


@register_task("uer_classification", dataclass=UerClassificationConfig)
class UerClassificationTask(UerDownstreamTask):
    def __init__(self, cfg: UerClassificationConfig, tokenizer):
        super().__init__(cfg, tokenizer)
        self.folders = utils.split_paths(cfg.data)  # fairseq's separator, os.pathsep (':')
        self.names = [os.path.basename(os.path.normpath(f)) for f in self.folders]
        if len(set(self.names)) != len(self.names):
            raise InputError(cfg.data, "multi-task data folders need distinct names (they name the metrics)")
        if not 0 <= cfg.soft_alpha <= 1:
            raise InputError(None, f"must be in [0, 1], got {cfg.soft_alpha}", field="--soft-alpha")
        # Saved with checkpoints (see _uer_downstream): counted from train.tsv only when not restored.
        self.state.add_factory("labels_nums", self._count_labels)
        self.state.add_factory("columns", self._train_columns)

    @property
    def labels_nums(self) -> List[int]:
        return self.state.labels_nums

    @property
    def labels_num(self) -> int:
        """The first (single-task: only) data set's label count; the ``uer`` model's cls width."""
        return self.labels_nums[0]

    @property
    def multi_task(self) -> bool:
        return len(self.folders) > 1

    def _count_labels(self) -> List[int]:
        counts = []
        for folder in self.folders:
            n = self.cfg.labels_num
            if n == 0:
                path = self.existing_split_path("train", folder)
                rows = read_classification_tsv(path)
                if not rows:
                    raise InputError(path, "no examples to count the labels from; give --labels-num")
                # A distillation transfer set may hold only the labels the teacher predicted: its logits
                # column says how many there are.
                n = max(max(row.label for row in rows) + 1, *(len(row.logits or ()) for row in rows))
            if n < 2:
                raise InputError(None, f"a classifier needs at least 2 labels, got {n}", field="--labels-num")
            counts.append(n)
        logger.info("labels: %s", ", ".join(f"{name or 'data'} {n}" for name, n in zip(self.names, counts)))
        return counts

    def _train_columns(self) -> List[List[str]]:
        return [text_columns(read_classification_tsv(self.existing_split_path("train", f))) for f in self.folders]

    def build_model(self, cfg, from_checkpoint=False):
        model = super().build_model(cfg, from_checkpoint)
        return UerMultiTaskClassifier(model, self.labels_nums) if self.multi_task else model

    def load_dataset(self, split, epoch=1, combine=False, **kwargs):
        soft_required = self.cfg.soft_targets and split == "train"
        examples, columns = [], []
        for group, folder in enumerate(self.folders):
            path = self.existing_split_path(split, folder)
            rows = read_classification_tsv(path)
            if soft_required and (not rows or rows[0].logits is None):
                raise InputError(path, "--soft-targets needs a logits column (the teacher's logits, space-separated)",
                                 line=1, field="logits")
            examples += self.encode(rows, path, group, keep_logits=self.cfg.soft_targets)
            columns.append(text_columns(rows))
        if split == "train":
            self.state.merge_state_dict({"columns": columns})
        self.datasets[split] = UerClassificationDataset(examples, self.dictionary.pad(), self.names)
        return self.datasets[split]

    def load_tsv(self, split, path, labels_required: bool, dataset_id: int = 0):
        """Read, check and encode one tsv as ``split`` (the inference script passes its own file); its text
        columns must be those the model was trained on."""
        rows = read_classification_tsv(path, labels_required)
        trained = self.state.columns[dataset_id]
        if rows and text_columns(rows) != trained:
            raise InputError(path, f"the model was trained on columns {', '.join(trained)}, this file has "
                                   f"{', '.join(text_columns(rows))}", line=1, field="text_b")
        self.datasets[split] = UerClassificationDataset(self.encode(rows, path, dataset_id), self.dictionary.pad())
        return self.datasets[split]

    def encode(self, rows, path, group: int, keep_logits: bool = False):
        check_labels(rows, self.labels_nums[group], path)
        if not keep_logits:
            for row in rows:
                row.logits = None
        return encode_examples(rows, self.tokenizer, self.cfg.seq_length, path, group)
