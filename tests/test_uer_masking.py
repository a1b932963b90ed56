"""UER masking statistics: rate, 80/10/10, spans, whole words, NSP/SOP balance."""
import numpy as np
import pytest

from fairseq_plugins.data.uer_instances import InstanceConfig, document_instances
from fairseq_plugins.data.uer_masking import MaskingConfig, mask_tokens, span_length

PAD, CLS, SEP, MASK, VOCAB = 0, 2, 3, 4, 1000


def config(**kw):
    return MaskingConfig(mask_idx=MASK, pad_idx=PAD, special_ids=(PAD, CLS, SEP, MASK), vocab_size=VOCAB, **kw)


def sequence(rng, n=126):
    return np.concatenate([[CLS], rng.randint(5, VOCAB, n), [SEP]])


def test_rate_and_80_10_10_and_specials_untouched():
    cfg, rng = config(), np.random.RandomState(0)
    predicted = masked = replaced = kept = 0
    for _ in range(400):
        tokens = sequence(rng)
        source, target = mask_tokens(tokens, cfg, rng)
        chosen = target != PAD
        assert chosen.sum() == round(0.15 * 126)          # UER's exact count
        assert not chosen[[0, -1]].any() and source[0] == CLS and source[-1] == SEP
        assert (target[chosen] == tokens[chosen]).all() and (source[~chosen] == tokens[~chosen]).all()
        predicted += chosen.sum()
        masked += (source[chosen] == MASK).sum()
        kept += (source[chosen] == tokens[chosen]).sum()
        replaced += ((source[chosen] != MASK) & (source[chosen] != tokens[chosen])).sum()
    assert abs(masked / predicted - 0.8) < 0.02
    assert abs(kept / predicted - 0.1) < 0.015
    assert abs(replaced / predicted - 0.1) < 0.015


def test_short_sequence_still_predicts_one_token():
    source, target = mask_tokens(np.array([CLS, 7, SEP]), config(), np.random.RandomState(0))
    assert (target != PAD).sum() == 1 and target[1] == 7


def test_span_lengths_follow_the_truncated_geometric():
    cfg, rng = config(span_masking=True, span_geo_prob=0.2, span_max_length=10), np.random.RandomState(1)
    lengths = np.array([span_length(cfg, rng) for _ in range(20000)])
    observed = np.bincount(lengths, minlength=11)[1:] / len(lengths)
    expected = 0.2 * 0.8 ** np.arange(10)
    assert np.abs(observed - expected / expected.sum()).max() < 0.01
    # In masked sequences: contiguous runs, none longer than the cap unless two spans touch.
    tokens = np.concatenate([[CLS], rng.randint(5, VOCAB, 2000), [SEP]])
    _, target = mask_tokens(tokens, config(span_masking=True, span_max_length=3, mask_prob=0.05), rng)
    chosen = np.flatnonzero(target != PAD)
    runs = np.split(chosen, np.flatnonzero(np.diff(chosen) != 1) + 1)
    assert len(chosen) == 100 and np.mean([len(r) for r in runs]) > 1.5


def test_span_decides_80_10_10_once_per_span():
    cfg, rng = config(span_masking=True, span_max_length=5, span_geo_prob=0.01, mask_prob=0.03), np.random.RandomState(2)
    runs_seen = mixed = 0
    for _ in range(100):
        tokens = sequence(rng, 1000)
        source, target = mask_tokens(tokens, cfg, rng)
        chosen = np.flatnonzero(target != PAD)
        for run in np.split(chosen, np.flatnonzero(np.diff(chosen) != 1) + 1):
            kinds = {("mask" if source[i] == MASK else "keep" if source[i] == tokens[i] else "random") for i in run}
            runs_seen += 1
            mixed += len(kinds) > 1
    assert mixed / runs_seen < 0.05  # only where two spans happen to touch


def test_whole_words_are_kept_whole():
    cfg, rng = config(), np.random.RandomState(3)
    for _ in range(300):
        tokens = sequence(rng, 60)
        starts = np.ones(len(tokens), dtype=np.uint8)
        starts[rng.rand(len(tokens)) < 0.6] = 0  # words of ~2.5 tokens
        starts[[0, 1, -1]] = 1
        _, target = mask_tokens(tokens, cfg, rng, word_starts=starts)
        word_id = np.cumsum(starts)
        chosen = target != PAD
        for w in np.unique(word_id[chosen]):
            assert chosen[word_id == w].all()


@pytest.mark.parametrize("target", ["bert", "albert"])
def test_sentence_pair_labels_are_balanced(target):
    rng = np.random.RandomState(4)
    docs = [[np.array([rng.randint(5, VOCAB, 8), np.ones(8, int)]) for _ in range(rng.randint(2, 6))]
            for _ in range(300)]
    cfg = InstanceConfig(target=target, seq_length=40, cls_idx=CLS, sep_idx=SEP, short_seq_prob=0.1)
    instances = document_instances(docs, cfg, rng)
    labels = np.array([i.label for i in instances])
    # SOP flips a fair coin; NSP too, but like BERT a one-sentence chunk always gets a random B.
    assert len(labels) > 300 and (0.45 < labels.mean() < 0.55 if target == "albert" else 0.5 < labels.mean() < 0.66)
    for instance in instances:
        tokens = instance.tokens
        assert tokens[0] == CLS and tokens[-1] == SEP and (tokens == SEP).sum() == 2 and len(tokens) <= 40
    if target == "albert":  # sentence order: a swapped pair holds the same document's text
        doc_tokens = {int(t) for d in docs for s in d for t in s[0]}
        assert all(set(i.tokens[1:-1].tolist()) - {SEP} <= doc_tokens for i in instances)
