"""Dense retrieval: faiss and torch agree, HNSW's inner-product transform keeps recall, worlds
restrict search, and KB encoding resumes where it stopped, follows the KB's content and admits one
writer at a time."""
import json
import os
import shutil

import numpy as np
import pytest
import torch

import blink_fixtures
from fairseq_plugins.data.blink_inputs import BlinkInputBuilder
from fairseq_plugins.retrieval import DenseIndex, EncodedKB, WorldRestrictedIndex, encode_kb
from fairseq_plugins.tokenization import build_tokenizer


def synthetic(n=4000, dim=32, queries=100, norm_spread=0.3, seed=0):
    """Unit vectors scaled by 1..1+spread (trained entity encoders give norms of that order)."""
    rng = np.random.RandomState(seed)
    x = rng.randn(n, dim).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    x *= (1 + norm_spread * rng.rand(n, 1)).astype(np.float32)
    return x, rng.randn(queries, dim).astype(np.float32)


def overlap(a, b):
    return np.mean([len(set(x) & set(y)) / len(y) for x, y in zip(a, b)])


def test_faiss_flat_and_torch_exact_give_identical_top_k():
    vectors, queries = synthetic()
    exact_scores, exact_rows = DenseIndex(vectors, "exact").search(queries, 64)
    flat_scores, flat_rows = DenseIndex(vectors, "flat").search(queries, 64)
    np.testing.assert_allclose(flat_scores, exact_scores, atol=1e-5)
    # Same entities in the same order, except neighbours whose scores tie within float32
    # rounding (faiss and torch sum in different orders): measured 2 swapped pairs in 6,400.
    differ = flat_rows != exact_rows
    assert differ.mean() < 0.001
    brute = queries.astype(np.float64) @ vectors.T.astype(np.float64)
    for q, position in zip(*np.nonzero(differ)):
        assert abs(brute[q, flat_rows[q, position]] - brute[q, exact_rows[q, position]]) < 1e-5
    assert all(set(a) == set(b) for a, b in zip(flat_rows, exact_rows))


def test_exact_search_over_chunks_matches_one_product(monkeypatch):
    from fairseq_plugins.retrieval import dense_index

    vectors, queries = synthetic(n=1000)
    whole = DenseIndex(vectors, "exact").search(queries, 50)
    monkeypatch.setattr(dense_index, "CHUNK", 37)
    chunked = DenseIndex(vectors, "exact").search(queries, 50)
    np.testing.assert_array_equal(whole[1], chunked[1])


def test_hnsw_with_inner_product_transform_recalls_exact_top_64():
    vectors, queries = synthetic()
    exact = DenseIndex(vectors, "exact").search(queries, 64)
    scores, rows = DenseIndex(vectors, "hnsw").search(queries, 64)
    assert overlap(rows, exact[1]) >= 0.99
    # Scores are inner products again, not L2 distances.
    found = rows[:, 0] == exact[1][:, 0]
    np.testing.assert_allclose(scores[found, 0], exact[0][found, 0], rtol=1e-4, atol=1e-4)


def test_ivf_searching_every_cell_is_exact_and_fewer_cells_approximate():
    vectors, queries = synthetic()
    exact = DenseIndex(vectors, "exact").search(queries, 16)[1]
    assert overlap(DenseIndex(vectors, "ivf", ivf_lists=20, nprobe=20).search(queries, 16)[1], exact) == 1.0
    assert overlap(DenseIndex(vectors, "ivf", ivf_lists=20, nprobe=5).search(queries, 16)[1], exact) > 0.6


def separated(n=8000, dim=64, queries=40, seed=0):
    """Each query's 64 best entities are far above the rest: q.x = 4 + j/16 for its 64 planted rows
    (1/16 apart), under 1.5 for every other row, so any float32-exact search agrees on the order."""
    rng = np.random.RandomState(seed)
    q = np.linalg.qr(rng.randn(dim, queries))[0].T.astype(np.float32)  # orthonormal queries
    x = rng.randn(n, dim).astype(np.float32) * 0.2
    planted = rng.permutation(n)[:queries * 64].reshape(queries, 64)
    for i, rows in enumerate(planted):
        base = rng.randn(64, dim).astype(np.float32) * 0.05
        base -= (base @ q[i])[:, None] * q[i]  # orthogonal to the query: the score is set exactly below
        x[rows] = base + (4 + np.arange(64, dtype=np.float32)[:, None] / 16) * q[i]
    return x, q


def test_bf16_search_returns_the_exact_top_64_when_scores_are_separated(monkeypatch):
    from fairseq_plugins.retrieval import dense_index

    vectors, queries = separated()
    exact_scores, exact_rows = DenseIndex(vectors, "exact").search(queries, 64)
    assert (exact_scores[:, -1] > 3.9).all() and ((queries @ vectors.T) > 1.5).sum() == 40 * 64
    monkeypatch.setattr(dense_index._Bf16Search, "ROWS", 128)  # several blocks, and a ragged last one
    monkeypatch.setattr(dense_index, "QUERY_BATCH", 16)
    scores, rows = DenseIndex(vectors, "exact-bf16").search(queries, 64)
    np.testing.assert_array_equal(rows, exact_rows)  # same ids, same order
    np.testing.assert_allclose(scores, exact_scores, rtol=1e-5, atol=1e-5)  # float32 scores, not bf16


def test_bf16_search_recalls_exact_top_64_on_random_vectors():
    vectors, queries = synthetic(n=8000, dim=64, queries=64)  # more super-groups than are kept
    exact = DenseIndex(vectors, "exact").search(queries, 64)
    scores, rows = DenseIndex(vectors, "exact-bf16").search(queries, 64)
    assert overlap(rows, exact[1]) >= 0.99
    found = rows == exact[1]
    np.testing.assert_allclose(scores[found], exact[0][found], rtol=1e-5, atol=1e-5)


def test_fewer_entities_than_k_pad_with_minus_one():
    vectors, queries = synthetic(n=5, queries=2)
    for kind in ("exact", "flat", "hnsw", "exact-bf16"):
        scores, rows = DenseIndex(vectors, kind).search(queries, 8)
        assert (rows[:, 5:] == -1).all() and np.isneginf(scores[:, 5:]).all(), kind
        assert sorted(rows[0, :5]) == [0, 1, 2, 3, 4]


def test_world_restriction_searches_only_the_mention_world():
    vectors, queries = synthetic(n=300, queries=20)
    worlds = ["a" if i % 3 else "b" for i in range(300)]
    query_worlds = ["a", "b"] * 10
    scores, rows = WorldRestrictedIndex(vectors, worlds, kind="flat").search(queries, query_worlds, 10)
    for q, world, r in zip(queries, query_worlds, rows):
        allowed = np.array([i for i in range(300) if worlds[i] == world])
        best = allowed[np.argsort(-(vectors[allowed] @ q))[:10]]
        np.testing.assert_array_equal(r, best)
    with pytest.raises(KeyError, match="'c'"):
        WorldRestrictedIndex(vectors, worlds, kind="flat").search(queries[:1], ["c"], 3)


def test_kb_encoding_resumes_and_matches_an_uninterrupted_run(tmp_path):
    root = blink_fixtures.write_dataset(tmp_path / "data")
    builder = BlinkInputBuilder(build_tokenizer("bert", root / "vocab.txt"), 16, 16)
    torch.manual_seed(0)
    table = torch.nn.Embedding(len(builder.dictionary), 6)
    calls = []

    def embed(tokens):
        calls.append(len(tokens))
        return table(tokens).mean(1)

    full = encode_kb(root / "kb.jsonl", tmp_path / "full", builder, embed, dim=6, batch_size=5, progress=False)
    calls.clear()
    assert encode_kb(root / "kb.jsonl", tmp_path / "part", builder, embed, 6, 5, False, stop_after=12) is None
    assert json.loads((tmp_path / "part" / "meta.json").read_text())["done"] == 12
    with pytest.raises(Exception, match="stopped at 12 of 24"):
        EncodedKB.open(tmp_path / "part")
    calls.clear()
    resumed = encode_kb(root / "kb.jsonl", tmp_path / "part", builder, embed, 6, 5, False)
    assert sum(calls) == 12  # only the rest was encoded
    np.testing.assert_allclose(resumed.vectors, full.vectors, atol=1e-6)
    assert resumed.ids == [f"E{i}" for i in range(24)] and resumed.worlds[:2] == ["w0", "w1"]


def test_encoded_kb_follows_the_kb_content_and_has_one_writer(tmp_path):
    from fairseq_plugins.errors import InputError
    from fairseq_plugins.retrieval.kb_encoding import writer_lock

    root = blink_fixtures.write_dataset(tmp_path / "data")
    builder = BlinkInputBuilder(build_tokenizer("bert", root / "vocab.txt"), 16, 16)
    table = torch.nn.Embedding(len(builder.dictionary), 6)
    calls = []

    def embed(tokens):
        calls.append(len(tokens))
        return table(tokens).mean(1)

    encode_kb(root / "kb.jsonl", tmp_path / "enc", builder, embed, 6, 8, False)
    assert sum(calls) == 24
    copy = tmp_path / "elsewhere" / "kb.jsonl"
    copy.parent.mkdir()
    shutil.copy(root / "kb.jsonl", copy)
    calls.clear()
    reused = encode_kb(copy, tmp_path / "enc", builder, embed, 6, 8, False)
    assert calls == [] and len(reused.ids) == 24  # same content under another path: reused
    text = copy.read_text()
    copy.write_text(text.replace('"title": "name0"', '"title": "name1"', 1))  # same size, new content
    assert copy.stat().st_size == len(text.encode())
    encode_kb(copy, tmp_path / "enc", builder, embed, 6, 8, False)
    assert sum(calls) == 24  # edited in place: encoded again
    with writer_lock(str(tmp_path / "enc")):
        with pytest.raises(InputError, match=rf"another process \(pid {os.getpid()}\) is encoding"):
            encode_kb(copy, tmp_path / "enc", builder, embed, 6, 8, False)
    encode_kb(copy, tmp_path / "enc", builder, embed, 6, 8, False)  # released


def test_kb_encoding_batches_by_length_but_writes_rows_in_kb_order(tmp_path):
    root = blink_fixtures.write_dataset(tmp_path / "data")
    records = blink_fixtures.kb_records()
    for i, r in enumerate(records):  # descriptions of 0 to 11 topic words, shuffled lengths
        r["text"] = " ".join(r["text"].split()[:(i * 7) % 12])
    blink_fixtures.write_jsonl(root / "kb.jsonl", records)
    builder = BlinkInputBuilder(build_tokenizer("bert", root / "vocab.txt"), 16, 16)
    pad = builder.dictionary.pad()
    batch_lengths = []

    def embed(tokens):  # each row's vector holds its own token count
        lengths = tokens.ne(pad).sum(1).float()
        batch_lengths.append(lengths.tolist())
        return lengths.unsqueeze(1).repeat(1, 2)

    encoded = encode_kb(root / "kb.jsonl", tmp_path / "enc", builder, embed, 2, 4, False)
    expected = [len(t) for t in builder.candidates([r["title"] for r in records], [r["text"] for r in records])]
    np.testing.assert_array_equal(encoded.vectors[:, 0], expected)
    assert [x for b in batch_lengths for x in b] == sorted(expected)  # one window, batches in length order
