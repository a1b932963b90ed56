"""recall@k and crossencoder accuracy on cases worked out by hand."""
import pytest

from fairseq_plugins.metrics.blink_accuracy import linking_accuracy
from fairseq_plugins.metrics.recall import gold_rank, recall_at_k, recall_by_world


def test_gold_rank():
    assert gold_rank(["a", "b", "c"], "c") == 2 and gold_rank(["a"], "z") is None


def test_recall_at_k_hand_computed():
    # gold at ranks 0, 3, 10, missing: @1 1/4, @4 2/4, @8 2/4, @16 3/4
    assert recall_at_k([0, 3, 10, None], ks=(1, 4, 8, 16)) == {1: 0.25, 4: 0.5, 8: 0.5, 16: 0.75}
    with pytest.raises(ValueError):
        recall_at_k([])


def test_recall_by_world_overall_is_micro():
    table = recall_by_world([0, None, 1, 2], ["x", "x", "y", "y"], ks=(1, 2))
    assert table["x"] == {"n": 2, "recall": {1: 0.5, 2: 0.5}}
    assert table["y"] == {"n": 2, "recall": {1: 0.0, 2: 0.5}}
    assert table["overall"] == {"n": 4, "recall": {1: 0.25, 2: 0.5}}


def test_accuracy_macro_counts_worlds_at_zero_and_micro_over_mentions():
    # world a: 4 mentions, 2 retrieved, 1 right -> normalized 1/2, unnormalized 1/4
    # world b: 2 mentions, 1 retrieved, 0 right -> 0, 0 (BLINK's macro would leave b out)
    # world c: 2 mentions, none retrieved -> normalized 0 (not undefined), unnormalized 0
    predictions = ["g1", "x", "g3", "g4", "x", "g6", "g7", "g8"]
    golds = ["g1", "g2", "g3", "g4", "g5", "g6", "g7", "g8"]
    retrieved = [True, True, False, False, True, False, False, False]
    worlds = ["a", "a", "a", "a", "b", "b", "c", "c"]
    result = linking_accuracy(predictions, golds, retrieved, worlds)
    assert result["a"] == {"n": 4, "retrieved": 2, "correct": 1, "normalized": 0.5, "unnormalized": 0.25}
    assert result["b"]["normalized"] == 0.0 and result["c"]["normalized"] == 0.0
    assert result["macro"] == {"normalized": pytest.approx(0.5 / 3), "unnormalized": pytest.approx(0.25 / 3)}
    assert result["micro"] == {"n": 8, "retrieved": 3, "correct": 1, "normalized": pytest.approx(1 / 3),
                               "unnormalized": 0.125}
    # unnormalized = normalized x recall (BLINK's identity), in the micro figures
    assert result["micro"]["unnormalized"] == pytest.approx(result["micro"]["normalized"] * 3 / 8)
