"""``uer_dbqa``: UER-py's ``run_dbqa.py`` (NLPCC-DBQA answer-sentence selection) on ``DATA/{train,dev,test}.tsv``.

Rows are ``label\\tqid\\ttext_a\\ttext_b`` (question, candidate sentence, 1 = answers it), classified as pairs
by the ``uer`` model's cls target with 2 labels. A candidate's score is its class-1 logit, as in UER;
validation logs accuracy and per-class P/R/F1 as classification does, plus MRR and MAP over questions
(batches hold whole questions, so both are exact; questions without a correct candidate are counted as
``questions_no_answer`` and left out of both).
"""
import logging

from fairseq.tasks import register_task

from ..data.uer_dbqa import DbqaDataset, encode_dbqa, read_dbqa_tsv
from ._uer_downstream import UerDownstreamConfig, UerDownstreamTask

logger = logging.getLogger(__name__)


@register_task("uer_dbqa", dataclass=UerDownstreamConfig)
class UerDbqaTask(UerDownstreamTask):
    labels_num = 2
    labels_nums = [2]

    def load_dataset(self, split, epoch=1, combine=False, **kwargs):
        return self.load_tsv(split, self.existing_split_path(split), labels_required=True)

    def load_tsv(self, split, path, labels_required: bool):
        """Read and encode one file as ``split``; the inference script passes its own."""
        rows = read_dbqa_tsv(path, labels_required)
        examples, qids = encode_dbqa(rows, self.tokenizer, self.cfg.seq_length, path)
        dataset = DbqaDataset(examples, self.dictionary.pad())
        dataset.qids = qids
        self.datasets[split] = dataset
        return dataset
