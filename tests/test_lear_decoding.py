"""LEAR decodes on hand-built scores, the span metric on hand-computed cases, the nested span targets."""
import torch

from fairseq_plugins.criterions.lear_span import candidate_mask, span_targets
from fairseq_plugins.metrics.span_f1 import SpanCounts
from fairseq_plugins.models.lear_decoding import decode_flat, decode_nested


def flat(starts, ends, threshold=0.5, mask=None):
    """One row, one label: probabilities per position (position 0 plays [CLS] and is masked out)."""
    s = torch.tensor(starts)[None, :, None]
    e = torch.tensor(ends)[None, :, None]
    m = torch.ones(1, len(starts), dtype=torch.bool) if mask is None else torch.tensor([mask])
    m[0, 0] = False
    return [(i, j, c) for i, j, c, _ in decode_flat(s, e, m, threshold)[0]]


def test_v5_pairs_the_best_start_of_a_block_with_the_best_end_after_it():
    #            CLS  1    2    3    4    5    6    7
    starts = [0.9, 0.6, 0.8, 0.1, 0.1, 0.7, 0.1, 0.1]
    ends = [0.9, 0.1, 0.1, 0.7, 0.9, 0.1, 0.2, 0.6]
    # Block 1: starts 1 and 2 (2 is better), ends 3 and 4 (4 is better); start 5 closes it.
    # Block 2: start 5, end 7. [CLS] never counts.
    assert flat(starts, ends) == [(2, 4, 0), (5, 7, 0)]


def test_v5_edge_cases():
    assert flat([0, 0.9, 0.1], [0, 0.1, 0.1]) == []                 # a start with no end
    assert flat([0, 0.1, 0.9], [0, 0.9, 0.1]) == []                 # an end before any start
    assert flat([0, 0.9, 0.1], [0, 0.9, 0.1]) == [(1, 1, 0)]        # one-token entity
    assert flat([0, 0.5, 0.1], [0, 0.1, 0.5]) == []                 # end needs > threshold, start >= it
    assert flat([0, 0.5, 0.1], [0, 0.1, 0.51]) == [(1, 2, 0)]
    assert flat([0, 0.4, 0.1], [0, 0.1, 0.45], threshold=0.3) == [(1, 2, 0)]
    assert flat([0, 0.9, 0.1, 0.1], [0, 0.1, 0.1, 0.9], mask=[1, 1, 1, 0]) == []  # padding never ends a span


def test_v5_labels_and_rows_are_independent():
    starts = torch.zeros(2, 4, 2)
    ends = torch.zeros(2, 4, 2)
    starts[0, 1, 0] = ends[0, 2, 0] = 0.9
    starts[0, 2, 1] = ends[0, 3, 1] = 0.8
    starts[1, 3, 1] = ends[1, 3, 1] = 0.6
    out = decode_flat(starts, ends, torch.ones(2, 4, dtype=torch.bool))
    assert [[p[:3] for p in row] for row in out] == [[(1, 2, 0), (2, 3, 1)], [(3, 3, 1)]]
    assert abs(out[0][0][3] - 0.81) < 1e-6  # score = p_start * p_end


def test_nested_needs_span_start_and_end_all_positive():
    start = torch.full((1, 5, 2), -1.0)
    end = torch.full((1, 5, 2), -1.0)
    span = torch.full((1, 3, 5, 2), -1.0)  # widths 0..2
    start[0, 1, 0] = start[0, 2, 0] = end[0, 3, 0] = end[0, 2, 0] = 2.0
    span[0, 2, 1, 0] = 3.0   # (1, 3): nested outer span
    span[0, 0, 2, 0] = 3.0   # (2, 2): inner
    span[0, 1, 1, 0] = 3.0   # (1, 2): end 2 positive too -> kept
    span[0, 1, 2, 0] = 3.0   # (2, 3)
    span[0, 0, 1, 0] = 3.0   # (1, 1): end 1 negative -> dropped
    span[0, 2, 2, 1] = 3.0   # label 1 has no positive start -> dropped
    mask = torch.tensor([[False, True, True, True, False]])
    got = sorted(p[:3] for p in decode_nested(start, end, span, mask)[0])
    assert got == [(1, 2, 0), (1, 3, 0), (2, 2, 0), (2, 3, 0)]
    end[0, 4, 0] = 2.0
    span[0, 2, 2, 0] = 3.0  # (2, 4) ends on a masked position
    assert (2, 4, 0) not in [p[:3] for p in decode_nested(start, end, span, mask)[0]]


def test_span_metric_hand_computed():
    counts = SpanCounts()
    counts.add({(1, 2, "PER"), (4, 4, "LOC"), (6, 7, "ORG")}, {(1, 2, "PER"), (4, 5, "LOC")})
    counts.add({(0, 1, "ORG")}, {(0, 1, "LOC")})       # right boundaries, wrong label
    counts.add(set(), {(3, 3, "PER")}, missed=2)        # two more gold spans lost to truncation
    assert (counts.true_positives, counts.predicted, counts.gold) == (1, 4, 6)
    assert abs(counts.precision - 1 / 4) < 1e-12 and abs(counts.recall - 1 / 6) < 1e-12
    assert abs(counts.f1 - 2 * 1 / (4 + 6)) < 1e-12
    assert SpanCounts().f1 == 0.0


def test_span_targets_and_candidates():
    spans = torch.tensor([[0, 1, 2, 1], [0, 2, 2, 0], [0, 1, 4, 0]])  # the last is wider than W = 3
    target = span_targets(spans, (1, 3, 5, 2))
    assert target.sum() == 2 and target[0, 1, 1, 1] == 1 and target[0, 0, 2, 0] == 1
    starts = torch.zeros(1, 5, 2)
    ends = torch.zeros(1, 5, 2)
    starts[0, 1, 1] = ends[0, 2, 1] = 1
    logits = torch.full((1, 5, 2), -1.0)
    logits[0, 3, 0] = 1.0  # predicted start and end at 3 for label 0
    mask = torch.tensor([[False, True, True, True, False]])
    candidates = candidate_mask(logits, logits, starts, ends, mask, 3)
    assert sorted(map(tuple, candidates.nonzero().tolist())) == [(0, 0, 3, 0), (0, 1, 1, 1)]
