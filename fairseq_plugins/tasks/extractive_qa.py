"""``extractive_qa``: SQuAD v1.1 / v2.0 and CMRC 2018 reading comprehension (UER-py's ``run_cmrc.py``).

``DATA`` holds SQuAD-format json files ``train.json`` and ``valid.json`` (or ``dev.json``), read
by :mod:`..data.squad_format` and windowed by :mod:`..data.squad_windows` (``--max-length``,
``--max-query-length``, ``--doc-stride``, ``--pair-layout``: RoBERTa-family vocabularies read
``<s> q </s></s> c </s>`` with one token type), tokenized on the fly with ``--vocab``. Models:
``extractive_qa`` (BERT family, ``--pretrained-encoder``), ``uer_mrc`` (UER encoders,
``--pretrained-model-path`` for a UER pre-training checkpoint) and ``nq_reader`` (with
``--criterion nq_reader``: the NQ pipeline's SQuAD 2.0 stage; its answer-type head gives the
no-answer probability).

Validation batches whole questions, decodes them (n-best over windows,
:mod:`..models.span_decoding`) and logs the official score of ``--metric``: ``squad_v1``
(``exact_match``, ``f1``), ``squad_v2`` (the same at ``--no-answer-threshold``, plus ``HasAns_f1``
and ``NoAns_f1``) or ``cmrc`` (``exact_match``, ``f1`` and UER's model-selection ``average``).
The threshold search of SQuAD 2.0 needs every question at once: ``scripts/qa_predict.py
--evaluate`` reports it.
"""
import logging
import os
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import torch
from fairseq import metrics
from fairseq.dataclass import ChoiceEnum, FairseqDataclass
from fairseq.tasks import register_task

from ..data.squad_dataset import QaQuestionDataset, QaWindowDataset
from ..data.squad_format import SquadExample, gold_answers, is_squad_v2, read_squad
from ..data.squad_windows import PAIR_LAYOUTS, build_qa_windows, roberta_pair_layout
from ..errors import InputError
from ..metrics.squad import cmrc_scores, squad_v1_scores, squad_v2_scores
from ..models.pretrained_encoder import build_with_pretrained_encoder
from ..models.span_decoding import QaPrediction, nbest_answers, no_answer_probability, null_score, predict_answer
from ..models.uer_pretrained import build_from_uer_pretrained
from ..tokenization import build_tokenizer
from ._single_dictionary import SingleDictionaryTask

logger = logging.getLogger(__name__)

METRICS = ("squad_v1", "squad_v2", "cmrc")


@dataclass
class ExtractiveQaConfig(FairseqDataclass):
    data: str = field(default="", metadata={"help": "folder of train.json and valid.json (or dev.json)"})
    vocab: str = field(default="", metadata={"help": "vocabulary of the encoder (vocab.txt; vocab.json for "
                                                     "bytebpe; the .model for sentencepiece)"})
    merges: Optional[str] = field(default=None, metadata={"help": "merges.txt, for --tokenizer-kind bytebpe"})
    tokenizer_kind: ChoiceEnum(["bert", "bytebpe", "sentencepiece", "char"]) = field(
        default="bert", metadata={"help": "tokenizer of the vocabulary (UER's --tokenizer)"})
    max_length: int = field(default=384, metadata={"help": "tokens per window incl. [CLS] and two [SEP] "
                                                           "(UER's --seq_length)"})
    max_query_length: int = field(default=64, metadata={"help": "question tokens kept"})
    doc_stride: int = field(default=128, metadata={"help": "tokens between the starts of a context's windows"})
    pair_layout: ChoiceEnum(PAIR_LAYOUTS) = field(
        default="auto", metadata={"help": "question/context input: bert ([CLS] q [SEP] c [SEP], token types 0/1), "
                                          "roberta (<s> q </s></s> c </s>, one token type); auto: roberta when the "
                                          "vocabulary's begin-of-sequence token is <s>"})
    max_answer_length: int = field(default=30, metadata={"help": "longest predicted answer, in tokens"})
    n_best: int = field(default=20, metadata={"help": "answers kept per question before choosing"})
    metric: ChoiceEnum(METRICS) = field(
        default="squad_v1", metadata={"help": "official score logged at validation: squad_v1, squad_v2 "
                                              "(unanswerable questions) or cmrc (CMRC 2018)"})
    no_answer_threshold: float = field(
        default=0.5, metadata={"help": "squad_v2: answer \"\" when the no-answer probability exceeds this "
                                       "(0.5 = BERT's null-score difference 0)"})
    pretrained_model_path: Optional[str] = field(
        default=None, metadata={"help": "uer_mrc: a UER pre-training checkpoint (uer_pretrain) whose embedding "
                                        "and encoder start the model"})


def find_split(data: str, split: str) -> str:
    names = [split] + (["dev"] if split == "valid" else [])
    for name in names:
        path = os.path.join(data, name + ".json")
        if os.path.isfile(path):
            return path
    raise InputError(os.path.join(data, split), f"no {' or '.join(n + '.json' for n in names)} for split {split!r}")


def question_scores(out: Dict[str, torch.Tensor], row: int, length: int):
    """(start scores, end scores, this window's no-answer probability or None) of one batch row.

    ``extractive_qa``/``uer_mrc`` give logits (no-answer from [CLS], across windows); the
    ``nq_reader`` adds an answer type, so a span scores log p(start) + log p(end) + log p(answer in
    this window) and the window's no-answer probability is p(no answer)."""
    start, end = out["start"][row, :length].float(), out["end"][row, :length].float()
    if "answer_type" not in out:
        return start, end, None
    p_none = float(out["answer_type"][row].float().softmax(-1)[0])
    return start.log_softmax(-1) + torch.log(torch.tensor(max(1.0 - p_none, 1e-12))), end.log_softmax(-1), p_none


def decode_question(example: SquadExample, windows: Sequence, scores: Sequence, n_best: int,
                    max_answer_length: int, with_no_answer: bool, threshold: float) -> QaPrediction:
    """The prediction of one question from :func:`question_scores` of each of its windows."""
    starts, ends, p_none = zip(*scores)
    nbest = nbest_answers(example.context, windows, starts, ends, n_best, max_answer_length)
    probability = None
    if with_no_answer:
        if p_none[0] is not None:
            probability = min(p_none)  # the answer is in some window: the most confident window decides
        else:
            probability = no_answer_probability(null_score(starts, ends), nbest)
    return predict_answer(example.qid, nbest, probability, threshold)


def official_scores(metric: str, examples: Sequence[SquadExample], predictions: Dict[str, QaPrediction],
                    threshold: float = 0.5) -> Dict[str, float]:
    """The official score dict of ``metric`` (see :mod:`..metrics.squad`) for these questions."""
    golds = gold_answers(examples)
    texts = {qid: p.text for qid, p in predictions.items()}
    if metric == "cmrc":
        return cmrc_scores(golds, texts)
    if metric == "squad_v1":
        return squad_v1_scores(golds, texts)
    probs = {qid: p.no_answer_probability for qid, p in predictions.items() if p.no_answer_probability is not None}
    return squad_v2_scores(golds, texts, probs, threshold)


@register_task("extractive_qa", dataclass=ExtractiveQaConfig)
class ExtractiveQaTask(SingleDictionaryTask):
    def __init__(self, cfg: ExtractiveQaConfig, tokenizer):
        super().__init__(cfg)
        self.tokenizer = tokenizer
        self.dictionary = tokenizer.dictionary
        self.examples: Dict[str, List[SquadExample]] = {}
        self.roberta_layout = roberta_pair_layout(tokenizer.dictionary, str(cfg.pair_layout))

    @classmethod
    def setup_task(cls, cfg: ExtractiveQaConfig, **kwargs):
        if not cfg.vocab:
            raise InputError(None, "the encoder's vocabulary is required", field="--vocab")
        kind = str(cfg.tokenizer_kind)
        return cls(cfg, build_tokenizer(kind, cfg.vocab, merges_path=cfg.merges if kind == "bytebpe" else None))

    @property
    def with_no_answer(self) -> bool:
        return self.cfg.metric == "squad_v2"

    def load_dataset(self, split, epoch=1, combine=False, **kwargs):
        path = find_split(self.cfg.data, split)
        return self.load_examples(split, read_squad(path), path)

    def load_examples(self, split: str, examples: List[SquadExample], name: str):
        """Window ``examples`` as ``split``: windows for training, whole questions otherwise."""
        if is_squad_v2(examples) and not self.with_no_answer and split != "train":
            logger.warning("%s has unanswerable questions but --metric is %s; use squad_v2", name, self.cfg.metric)
        windows, stats = build_qa_windows(examples, self.tokenizer, self.cfg.max_length, self.cfg.max_query_length,
                                          self.cfg.doc_stride, "roberta" if self.roberta_layout else "bert")
        logger.info(stats.report(name))
        if not windows:
            raise InputError(name, "no questions")
        self.examples[split] = examples
        pad, types = self.dictionary.pad(), not self.roberta_layout
        self.datasets[split] = (QaWindowDataset(windows, pad, types) if split == "train"
                                else QaQuestionDataset(windows, examples, pad, types))
        return self.datasets[split]

    def build_model(self, cfg, from_checkpoint=False):
        if getattr(cfg, "pretrained_encoder", None):
            return build_with_pretrained_encoder(self, cfg, from_checkpoint)
        return build_from_uer_pretrained(lambda c: super(ExtractiveQaTask, self).build_model(c, from_checkpoint), cfg,
                                         self.cfg.pretrained_model_path, len(self.dictionary), from_checkpoint,
                                         "uer_mrc", "use --pretrained-encoder for extractive_qa and nq_reader")

    def decode_batch(self, sample, out) -> List[QaPrediction]:
        """Predictions for the questions of a :class:`QaQuestionDataset` batch, given the model output."""
        lengths = sample["net_input"]["src_tokens"].ne(self.dictionary.pad()).sum(-1).tolist()
        predictions, row = [], 0
        for example, windows in sample["qa"]:
            scores = [question_scores(out, row + k, lengths[row + k]) for k in range(len(windows))]
            row += len(windows)
            predictions.append(decode_question(example, windows, scores, self.cfg.n_best, self.cfg.max_answer_length,
                                               self.with_no_answer, self.cfg.no_answer_threshold))
        return predictions

    @torch.no_grad()
    def predict(self, models, weights: Sequence[float], examples: List[SquadExample], batch_size: int = 32,
                device="cpu", progress=None) -> List[QaPrediction]:
        """Predictions for ``examples`` from one model or a weighted average of several models' logits."""
        dataset = self.load_examples("predict", examples, "predict")
        total = float(sum(weights))
        predictions = []
        for lo in range(0, len(dataset), batch_size):
            sample = dataset.collater(list(range(lo, min(lo + batch_size, len(dataset)))))
            net_input = {k: v.to(device) for k, v in sample["net_input"].items()}
            out = {}
            for model, weight in zip(models, weights):
                for key, value in model(**net_input).items():
                    out[key] = out.get(key, 0) + weight / total * value.float().cpu()
            predictions.extend(self.decode_batch(sample, out))
            if progress is not None:
                progress(len(sample["qa"]))
        return predictions

    def valid_step(self, sample, model, criterion):
        if "qa" not in sample or not hasattr(criterion, "loss_from_output"):
            return super().valid_step(sample, model, criterion)
        model.eval()
        with torch.no_grad():
            out = model(**sample["net_input"])
            loss, sample_size, logging_output = criterion.loss_from_output(out, sample)
            predictions = {p.qid: p for p in self.decode_batch(sample, out)}
            logging_output.update(_score_sums(str(self.cfg.metric), [e for e, _ in sample["qa"]], predictions,
                                              self.cfg.no_answer_threshold))
        return loss, sample_size, logging_output

    def reduce_metrics(self, logging_outputs, criterion):
        super().reduce_metrics(logging_outputs, criterion)

        def total(key):
            return sum(log.get(key, 0) for log in logging_outputs)

        for key in ("qa_questions", "qa_em", "qa_f1", "qa_has", "qa_has_f1", "qa_no", "qa_no_f1"):
            if total(key):
                metrics.log_scalar_sum("_" + key, total(key))
        if total("qa_questions"):
            metrics.log_derived("exact_match", lambda m: _percent(m, "_qa_em", "_qa_questions"))
            metrics.log_derived("f1", lambda m: _percent(m, "_qa_f1", "_qa_questions"))
            if self.cfg.metric == "cmrc":
                metrics.log_derived("average", lambda m: round((_percent(m, "_qa_em", "_qa_questions")
                                                                + _percent(m, "_qa_f1", "_qa_questions")) / 2, 2))
        if self.cfg.metric == "squad_v2":
            if total("qa_has"):
                metrics.log_derived("HasAns_f1", lambda m: _percent(m, "_qa_has_f1", "_qa_has"))
            if total("qa_no"):
                metrics.log_derived("NoAns_f1", lambda m: _percent(m, "_qa_no_f1", "_qa_no"))

    def max_positions(self):
        return self.cfg.max_length


def _percent(meters, numerator: str, denominator: str) -> float:
    den = meters[denominator].sum if denominator in meters else 0
    num = meters[numerator].sum if numerator in meters else 0
    return round(100.0 * num / den, 2) if den else 0.0


def _score_sums(metric, examples, predictions, threshold) -> Dict[str, float]:
    """Summable per-batch counts behind the official percentages (so batches and workers add up)."""
    scores = official_scores(metric, examples, predictions, threshold)
    n = len(examples)
    sums = {"qa_questions": n}
    em = scores.get("exact_match", scores.get("exact"))
    sums["qa_em"], sums["qa_f1"] = em * n / 100.0, scores["f1"] * n / 100.0
    if metric == "squad_v2":
        sums["qa_has"], sums["qa_no"] = scores["HasAns_total"], scores["NoAns_total"]
        sums["qa_has_f1"] = scores["HasAns_f1"] * scores["HasAns_total"] / 100.0
        sums["qa_no_f1"] = scores["NoAns_f1"] * scores["NoAns_total"] / 100.0
    return sums
