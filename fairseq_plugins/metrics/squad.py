"""Official extractive-QA scores: SQuAD v1.1, SQuAD v2.0 (with the no-answer threshold), ReCoRD, CMRC 2018.

The published numbers of LUKE (SQuAD 1.1, ReCoRD), the NQ pipeline's SQuAD 2.0 stage and UER's CMRC
runs all come from the official evaluation scripts, so these follow those scripts' rules exactly:

* SQuAD/ReCoRD normalisation: lower-case, drop ASCII punctuation, drop the articles a/an/the,
  collapse whitespace; F1 over the bag of whitespace tokens; the best score over the gold answers.
* SQuAD v2.0: gold answers that normalise to "" are dropped and an unanswerable question has the
  single gold answer ""; F1 between two token lists where one is empty is 1 if both are empty else 0.
  A question is predicted unanswerable when its no-answer probability exceeds the threshold; the
  best threshold is searched as the official script does.
* CMRC 2018: Chinese characters are tokens of their own, runs of other characters are split into
  words (the official script uses nltk's word tokenizer there; here words and punctuation marks are
  split by a regular expression, which agrees on ordinary text), the script's punctuation list is
  removed, and F1 uses the longest common *substring* of the two token lists.
"""
import re
import string
from collections import Counter
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_ASCII_PUNCT = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation (shared by v1.1, v2.0 and ReCoRD)."""
    text = "".join(ch for ch in text.lower() if ch not in _ASCII_PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def token_f1(prediction: str, gold: str, empty_matches_empty: bool = False) -> float:
    """Bag-of-tokens F1 after normalisation.

    ``empty_matches_empty`` is SQuAD v2.0's rule (an empty prediction against an empty gold scores
    1, against a non-empty one 0); v1.1 and ReCoRD score any pair without common tokens 0.
    """
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if empty_matches_empty and (not pred_tokens or not gold_tokens):
        return float(pred_tokens == gold_tokens)
    common = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if common == 0:
        return 0.0
    precision = common / len(pred_tokens)
    recall = common / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def best_over_golds(prediction: str, golds: Sequence[str], empty_matches_empty: bool = False) -> Tuple[float, float]:
    """(EM, F1) of one prediction: the maximum over its gold answers."""
    if not golds:
        raise ValueError("a question without gold answers cannot be scored")
    em = max(exact_match(prediction, g) for g in golds)
    f1 = max(token_f1(prediction, g, empty_matches_empty) for g in golds)
    return em, f1


def _missing(golds: Mapping[str, Sequence[str]], predictions: Mapping[str, str]) -> List[str]:
    return [qid for qid in golds if qid not in predictions]


def squad_v1_scores(golds: Mapping[str, Sequence[str]], predictions: Mapping[str, str]) -> Dict[str, float]:
    """SQuAD v1.1 / ReCoRD: EM and F1 in percent over all gold questions.

    A question without a prediction scores 0, as in the official script; the count is reported in
    ``missing`` so that a partial prediction file is visible.
    """
    em = f1 = 0.0
    for qid, answers in golds.items():
        if qid in predictions:
            q_em, q_f1 = best_over_golds(predictions[qid], answers)
            em += q_em
            f1 += q_f1
    n = max(len(golds), 1)
    return {"exact_match": 100.0 * em / n, "f1": 100.0 * f1 / n, "total": len(golds),
            "missing": len(_missing(golds, predictions))}


def squad_v2_golds(answers: Iterable[str]) -> List[str]:
    """Official v2.0 gold list: answers normalising to "" are dropped; none left means unanswerable."""
    kept = [a for a in answers if normalize_answer(a)]
    return kept or [""]


def squad_v2_raw_scores(golds: Mapping[str, Sequence[str]], predictions: Mapping[str, str]
                        ) -> Tuple[Dict[str, float], Dict[str, float]]:
    """Per-question EM and F1 (0/1 and 0..1) before any no-answer threshold."""
    exact, f1 = {}, {}
    for qid, answers in golds.items():
        if qid not in predictions:
            continue
        exact[qid], f1[qid] = best_over_golds(predictions[qid], squad_v2_golds(answers), empty_matches_empty=True)
    return exact, f1


def apply_no_answer_threshold(scores: Mapping[str, float], no_answer_probs: Mapping[str, float],
                              has_answer: Mapping[str, bool], threshold: float) -> Dict[str, float]:
    """Questions whose no-answer probability exceeds ``threshold`` are answered with "" instead."""
    out = {}
    for qid, score in scores.items():
        out[qid] = float(not has_answer[qid]) if no_answer_probs[qid] > threshold else score
    return out


def best_no_answer_threshold(predictions: Mapping[str, str], scores: Mapping[str, float],
                             no_answer_probs: Mapping[str, float], has_answer: Mapping[str, bool]
                             ) -> Tuple[float, float]:
    """(best score in percent, threshold): the official sweep over the sorted no-answer probabilities."""
    current = best = sum(1 for qid in scores if not has_answer[qid])
    threshold = 0.0
    for qid in sorted(scores, key=lambda q: no_answer_probs[q]):
        if has_answer[qid]:
            current += scores[qid]
        elif predictions[qid]:
            current -= 1
        if current > best:
            best, threshold = current, no_answer_probs[qid]
    return 100.0 * best / max(len(scores), 1), threshold


def squad_v2_scores(golds: Mapping[str, Sequence[str]], predictions: Mapping[str, str],
                    no_answer_probs: Optional[Mapping[str, float]] = None, threshold: float = 1.0
                    ) -> Dict[str, float]:
    """SQuAD v2.0: overall, HasAns and NoAns EM/F1 in percent; with ``no_answer_probs`` also the
    scores at ``threshold`` and the best thresholds for EM and F1."""
    has_answer = {qid: squad_v2_golds(a) != [""] for qid, a in golds.items()}
    exact, f1 = squad_v2_raw_scores(golds, predictions)
    exact = {qid: exact.get(qid, 0.0) for qid in golds}
    f1 = {qid: f1.get(qid, 0.0) for qid in golds}
    probs = dict(no_answer_probs) if no_answer_probs is not None else {qid: 0.0 for qid in golds}
    probs.update({qid: 0.0 for qid in golds if qid not in probs})
    exact_t = apply_no_answer_threshold(exact, probs, has_answer, threshold)
    f1_t = apply_no_answer_threshold(f1, probs, has_answer, threshold)

    def mean(values, qids):
        qids = list(qids)
        return 100.0 * sum(values[q] for q in qids) / len(qids) if qids else 0.0

    has = [q for q in golds if has_answer[q]]
    no = [q for q in golds if not has_answer[q]]
    result = {"exact": mean(exact_t, golds), "f1": mean(f1_t, golds), "total": len(golds),
              "HasAns_exact": mean(exact_t, has), "HasAns_f1": mean(f1_t, has), "HasAns_total": len(has),
              "NoAns_exact": mean(exact_t, no), "NoAns_f1": mean(f1_t, no), "NoAns_total": len(no),
              "missing": len(_missing(golds, predictions))}
    if no_answer_probs is not None:
        preds = {qid: predictions.get(qid, "") for qid in golds}
        result["best_exact"], result["best_exact_thresh"] = best_no_answer_threshold(preds, exact, probs, has_answer)
        result["best_f1"], result["best_f1_thresh"] = best_no_answer_threshold(preds, f1, probs, has_answer)
    return result


# CMRC 2018 ---------------------------------------------------------------------------------------
_CMRC_PUNCT = {"-", ":", "_", "*", "^", "/", "\\", "~", "`", "+", "=", "，", "。", "：", "？", "！", "“", "”",
               "；", "’", "《", "》", "……", "·", "、", "「", "」", "（", "）", "－", "～", "『", "』"}
_CJK = re.compile(r"[\u4e00-\u9fa5]")
_WORDS = re.compile(r"\w+|[^\w\s]", re.UNICODE)


def cmrc_remove_punctuation(text: str) -> str:
    return "".join(ch for ch in str(text).lower().strip() if ch not in _CMRC_PUNCT)


def cmrc_segments(text: str) -> List[str]:
    """Chinese characters one by one, other runs split into words; CMRC punctuation removed."""
    segments: List[str] = []
    run = ""
    for ch in str(text).lower().strip():
        if ch in _CMRC_PUNCT:
            continue
        if _CJK.match(ch):
            segments.extend(_WORDS.findall(run))
            run = ""
            segments.append(ch)
        else:
            run += ch
    segments.extend(_WORDS.findall(run))
    return segments


def longest_common_substring(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest contiguous run shared by ``a`` and ``b`` (dynamic programming, one row)."""
    best = 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0] * (len(b) + 1)
        for j, y in enumerate(b):
            if x == y:
                current[j + 1] = previous[j] + 1
                best = max(best, current[j + 1])
        previous = current
    return best


def cmrc_em(prediction: str, golds: Sequence[str]) -> float:
    pred = cmrc_remove_punctuation(prediction)
    return float(any(cmrc_remove_punctuation(g) == pred for g in golds))


def cmrc_f1(prediction: str, golds: Sequence[str]) -> float:
    pred = cmrc_segments(prediction)
    best = 0.0
    for gold in golds:
        gold_segments = cmrc_segments(gold)
        common = longest_common_substring(gold_segments, pred)
        if common:
            precision, recall = common / len(pred), common / len(gold_segments)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def cmrc_scores(golds: Mapping[str, Sequence[str]], predictions: Mapping[str, str]) -> Dict[str, float]:
    """CMRC 2018 EM and F1 in percent over all gold questions (a missing prediction scores 0)."""
    em = f1 = 0.0
    for qid, answers in golds.items():
        if qid in predictions:
            em += cmrc_em(predictions[qid], answers)
            f1 += cmrc_f1(predictions[qid], answers)
    n = max(len(golds), 1)
    return {"exact_match": 100.0 * em / n, "f1": 100.0 * f1 / n, "average": 50.0 * (em + f1) / n,
            "total": len(golds), "missing": len(_missing(golds, predictions))}
