"""Large inputs stream: on a generated input of ~1 GB (``STREAM_TEST_BYTES`` to change it) the peak
resident memory of each job stays under a stated bound. Slow: run by ``make test-slow``.

Each job runs in a fresh interpreter that reports its own peak RSS and its worker processes' peak
(``getrusage``), so the figure is the job's and not pytest's.
"""
import gzip
import json
import os
import random
import subprocess
import sys

import pytest

from cli_utils import REPO

pytestmark = pytest.mark.slow

SIZE = int(float(os.environ.get("STREAM_TEST_BYTES", 1e9)))
# What a job may hold on top of an idle interpreter with torch and fairseq imported (~400 MB here).
HEADROOM_MB = 600

PEAK = """
import resource, runpy, sys
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
child_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"PEAK_RSS_MB {self_mb:.0f} {child_mb:.0f}")
"""


def peak_rss(*argv, timeout=3600):
    """Run ``python argv...`` and return (peak MB of the process, peak MB of any child, output)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-c", PEAK, *map(str, argv)], capture_output=True, text=True,
                          timeout=timeout, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    line = [l for l in proc.stdout.splitlines() if l.startswith("PEAK_RSS_MB")][-1]
    self_mb, child_mb = map(float, line.split()[1:])
    return self_mb, child_mb, proc.stdout + proc.stderr


def baseline_mb(tmp_path):
    """Peak RSS of an interpreter that only imports what the jobs import."""
    probe = tmp_path / "import_only.py"
    probe.write_text("import fairseq_plugins  # noqa: F401\n")
    return peak_rss(probe)[0]


def write_text(path, size, line_words=200, seed=0):
    """One document a line of random words from a 5,000-word vocabulary, until ``size`` bytes."""
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(5000)]
    lines = 0
    with open(path, "w", encoding="utf-8") as f:
        block = "\n".join(" ".join(rng.choices(words, k=line_words)) for _ in range(1000)) + "\n"
        while f.tell() < size:
            f.write(block)
            lines += 1000
    return lines, words


def test_corpus_preprocessing_streams(tmp_path):
    corpus = tmp_path / "corpus.txt"
    lines, words = write_text(corpus, SIZE)
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words) + "\n")
    self_mb, child_mb, out = peak_rss(
        REPO / "scripts" / "preprocess_corpus.py", "--corpus-path", corpus, "--vocab-path", vocab,
        "--tokenizer", "space", "--target", "lm", "--seq-length", "128", "--dest-dir", tmp_path / "bin",
        "--processes-num", "2", "--docs-buffer-size", "2000")
    meta = json.loads((tmp_path / "bin" / "uer_data.json").read_text())
    assert meta["splits"]["train"]["documents"] == lines
    base = baseline_mb(tmp_path)
    print(f"corpus {SIZE / 1e9:.2f} GB, {lines} lines: peak RSS {self_mb:.0f} MB (workers {child_mb:.0f} MB), "
          f"idle interpreter {base:.0f} MB")
    assert max(self_mb, child_mb) < base + HEADROOM_MB


def test_nq_reader_streams(tmp_path):
    from fairseq_plugins.data.nq_format import read_nq  # noqa: F401  (import check before the long write)

    path = tmp_path / "nq-train.jsonl.gz"
    rng = random.Random(0)
    words = " ".join(f"w{i}" for i in range(20000))  # ~150 kB documents, like NQ's
    rows = written = 0
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as f:
        while written < SIZE:
            n = len(words.split(" "))
            row = {"example_id": rows, "question_text": "who is w1", "document_text": words,
                   "long_answer_candidates": [{"start_token": s, "end_token": s + 100, "top_level": True}
                                              for s in range(0, n - 100, 100)],
                   "annotations": [{"long_answer": {"start_token": 0, "end_token": 100, "candidate_index": 0},
                                    "short_answers": [{"start_token": 1, "end_token": rng.randint(2, 5)}],
                                    "yes_no_answer": "NONE"}]}
            text = json.dumps(row) + "\n"
            f.write(text)
            written += len(text)
            rows += 1
    script = tmp_path / "count_rows.py"
    script.write_text("import sys\nfrom fairseq_plugins.data.nq_format import read_nq\n"
                      "print('ROWS', sum(1 for _ in read_nq(sys.argv[1])))\n")
    self_mb, _, out = peak_rss(script, path)
    assert f"ROWS {rows}" in out
    base = baseline_mb(tmp_path)
    print(f"NQ {written / 1e9:.2f} GB uncompressed, {rows} rows: peak RSS {self_mb:.0f} MB, idle {base:.0f} MB")
    assert self_mb < base + 200


def test_kb_encoding_streams(tmp_path):
    import blink_fixtures

    root = tmp_path / "kb"
    root.mkdir()
    vocab = blink_fixtures.write_vocab(root / "vocab.txt")
    words = [w for i in range(blink_fixtures.N_ENTITIES) for w in blink_fixtures.entity_words(i)[1]]
    rng = random.Random(0)
    text = " ".join(rng.choices(words, k=1500))  # ~15 kB descriptions
    kb, rows, written = root / "kb.jsonl", 0, 0
    with open(kb, "w", encoding="utf-8") as f:
        while written < SIZE:
            line = json.dumps({"id": f"E{rows}", "title": f"name{rows % 24}", "text": text, "world": "w"}) + "\n"
            f.write(line)
            written += len(line)
            rows += 1
    script = tmp_path / "encode.py"
    script.write_text(
        "import sys, torch\n"
        "from fairseq_plugins.data.blink_inputs import BlinkInputBuilder\n"
        "from fairseq_plugins.retrieval.kb_encoding import encode_kb\n"
        "from fairseq_plugins.tokenization import build_tokenizer\n"
        "builder = BlinkInputBuilder(build_tokenizer('bert', sys.argv[2]), 32, 32)\n"
        "torch.manual_seed(0)\n"
        "table = torch.nn.Embedding(len(builder.dictionary), 16)\n"
        "encoded = encode_kb(sys.argv[1], sys.argv[3], builder, lambda t: table(t).mean(1), 16, 256, progress=False)\n"
        "print('ROWS', len(encoded.ids))\n")
    self_mb, _, out = peak_rss(script, kb, vocab, tmp_path / "encoded")
    assert f"ROWS {rows}" in out
    base = baseline_mb(tmp_path)
    print(f"KB {written / 1e9:.2f} GB, {rows} entities: peak RSS {self_mb:.0f} MB, idle {base:.0f} MB")
    assert self_mb < base + HEADROOM_MB
