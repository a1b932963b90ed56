"""Hand-computed cases for the official SQuAD v1.1/v2.0, ReCoRD and CMRC 2018 scores."""
import pytest

from fairseq_plugins.metrics import squad


def test_normalisation_drops_case_punctuation_articles():
    assert squad.normalize_answer("The  Eiffel-Tower, an icon!") == "eiffeltower icon"


def test_token_f1_hand_computed():
    # pred tokens {denver, broncos, team}, gold {broncos}: P=1/3, R=1 -> F1=0.5
    assert squad.token_f1("Denver Broncos team", "the Broncos") == pytest.approx(0.5)
    assert squad.token_f1("", "") == 0.0
    assert squad.token_f1("", "", empty_matches_empty=True) == 1.0
    assert squad.token_f1("x", "", empty_matches_empty=True) == 0.0


def test_v1_best_over_golds_and_missing():
    golds = {"q1": ["Denver Broncos", "Broncos"], "q2": ["1990"], "q3": ["Paris"]}
    preds = {"q1": "the broncos", "q2": "in 1990 or 1991"}
    scores = squad.squad_v1_scores(golds, preds)
    # q1 EM 1 F1 1; q2 EM 0, F1: P=1/4 R=1 -> 0.4; q3 missing -> 0
    assert scores["exact_match"] == pytest.approx(100 / 3)
    assert scores["f1"] == pytest.approx(100 * 1.4 / 3)
    assert scores["missing"] == 1


def test_v2_threshold_and_best_threshold():
    golds = {"a": ["Paris"], "b": [], "c": ["blue sky"], "d": ["  "]}
    preds = {"a": "Paris", "b": "London", "c": "sky", "d": ""}
    probs = {"a": 0.1, "b": 0.9, "c": 0.5, "d": 0.2}
    raw = squad.squad_v2_scores(golds, preds)
    # a=1, b=0 (answered an unanswerable), c: EM 0 F1 2/3, d: empty vs empty = 1
    assert raw["exact"] == pytest.approx(50.0)
    assert raw["f1"] == pytest.approx(100 * (1 + 0 + 2 / 3 + 1) / 4)
    assert raw["HasAns_total"] == 2 and raw["NoAns_total"] == 2
    at = squad.squad_v2_scores(golds, preds, probs, threshold=0.6)
    # b's p=0.9 > 0.6 -> predicted unanswerable -> correct
    assert at["exact"] == pytest.approx(75.0)
    # sweep (sorted a .1, d .2, c .5, b .9): start 2 (no-answer count); a +1 ->3 ; d (no pred) 0 ;
    # c +2/3 -> 3.667; b answered -> -1. Best F1 3.667/4 at threshold 0.5.
    assert at["best_f1"] == pytest.approx(100 * (3 + 2 / 3) / 4)
    assert at["best_f1_thresh"] == pytest.approx(0.5)
    assert at["best_exact"] == pytest.approx(75.0) and at["best_exact_thresh"] == pytest.approx(0.1)


def test_cmrc_character_f1_and_em():
    assert squad.cmrc_segments("北京 Olympic Games 2008年") == ["北", "京", "olympic", "games", "2008", "年"]
    # as in the official script, removed punctuation joins the words around it
    assert squad.cmrc_segments("Games，2008") == ["games2008"]
    # LCS of 北京大学 vs 京大学生 is 京大学 (3): P=3/4 R=3/4
    assert squad.cmrc_f1("京大学生", ["北京大学"]) == pytest.approx(0.75)
    assert squad.cmrc_f1("上海", ["北京大学", "京大"]) == 0.0
    assert squad.cmrc_em("《北京》", ["北京"]) == 1.0
    scores = squad.cmrc_scores({"1": ["北京大学"], "2": ["上海"]}, {"1": "京大学生", "2": "上海"})
    assert scores["exact_match"] == pytest.approx(50.0)
    assert scores["f1"] == pytest.approx(100 * 1.75 / 2)
    assert scores["average"] == pytest.approx((50.0 + 87.5) / 2)


def test_scoring_without_golds_is_an_error():
    with pytest.raises(ValueError):
        squad.best_over_golds("x", [])
