"""``uer_c3``: UER-py's ``run_c3.py`` (C3 multiple-choice reading comprehension) on ``DATA/{train,dev,test}.json``.

Each question's choices are read as ``[CLS] choice [SEP] question [SEP] passage [SEP]`` (see
``data/uer_c3.py``) and scored by the ``uer`` model's cls target with one output; the criterion takes a
softmax over a question's choices. Validation logs accuracy (and per-choice P/R/F1).
"""
import logging
from dataclasses import dataclass, field

from fairseq.tasks import register_task

from ..data.uer_c3 import C3Dataset, encode_c3, read_c3_json
from ._uer_downstream import UerDownstreamConfig, UerDownstreamTask

logger = logging.getLogger(__name__)


@dataclass
class UerC3Config(UerDownstreamConfig):
    max_choices_num: int = field(default=4, metadata={"help": "choices per question; fewer are padded with "
                                                              "'No Answer'"})


@register_task("uer_c3", dataclass=UerC3Config)
class UerC3Task(UerDownstreamTask):
    extension = ".json"
    labels_num = 1  # the cls head scores one (choice, question, passage) sequence

    @property
    def labels_nums(self):  # metrics are per choice index
        return [self.cfg.max_choices_num]

    def load_dataset(self, split, epoch=1, combine=False, **kwargs):
        return self.load_json(split, self.existing_split_path(split), labels_required=True)

    def load_json(self, split, path, labels_required: bool):
        """Read and encode one C3 json as ``split``; the inference script passes its own."""
        questions = read_c3_json(path, self.cfg.max_choices_num, labels_required)
        dataset = C3Dataset(encode_c3(questions, self.tokenizer, self.cfg.seq_length, path), self.dictionary.pad())
        dataset.question_ids = [q.id for q in questions]
        self.datasets[split] = dataset
        return dataset
