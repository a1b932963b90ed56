#!/usr/bin/env python
"""Held-out masked-LM loss and perplexity of one or more checkpoints, as a table.

    python scripts/evaluate_mlm.py --data data-bin --subset test \
        --checkpoint before=converted/model.pt --checkpoint after=checkpoints/checkpoint_last.pt

Each checkpoint is scored by ``fairseq-validate`` on the same fixed-length blocks with the same
seed, whatever its training settings, so every model sees the same masked positions. Loss is fairseq's (bits per masked token); perplexity is 2 ** loss.
"""
import argparse
import json
import os
import re
import subprocess
import sys

RESULT = re.compile(r"\|\s*(?P<subset>\S+)\s*\|\s*(?P<json>\{.*\})\s*$")


def validate(data, checkpoint, subset, tokens_per_sample, batch_size, seed, extra):
    command = [os.path.join(os.path.dirname(sys.executable), "fairseq-validate"), data,
               "--user-dir", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                          "fairseq_plugins"),
               "--task", "vocab_masked_lm", "--path", checkpoint, "--valid-subset", subset,
               "--tokens-per-sample", str(tokens_per_sample), "--batch-size", str(batch_size),
               "--sample-break-mode", "none", "--seed", str(seed), "--log-format", "json", "--cpu", *extra]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"error: fairseq-validate failed on {checkpoint}:\n{done.stderr[-3000:]}")
    for line in reversed((done.stdout + done.stderr).splitlines()):
        match = RESULT.search(line)
        if match and match["subset"] == subset:
            return json.loads(match["json"])
    sys.exit(f"error: no result line from fairseq-validate for {checkpoint}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="binarized data (fairseq-preprocess output)")
    parser.add_argument("--subset", default="test", help="held-out split to score")
    parser.add_argument("--checkpoint", action="append", required=True, metavar="NAME=PATH",
                        help="a checkpoint to score, repeatable")
    parser.add_argument("--tokens-per-sample", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1, help="masking seed, shared by all checkpoints")
    parser.add_argument("--json-out", help="also write the results as JSON here")
    args, extra = parser.parse_known_args(argv)
    rows = []
    for item in args.checkpoint:
        name, _, path = item.partition("=")
        if not path:
            parser.error(f"--checkpoint expects NAME=PATH, got {item!r}")
        result = validate(args.data, path, args.subset, args.tokens_per_sample, args.batch_size, args.seed, extra)
        rows.append({"model": name, "checkpoint": path, "loss_bits": float(result[f"{args.subset}_loss"]),
                     "perplexity": float(result[f"{args.subset}_ppl"]),
                     "tokens": int(float(result[f"{args.subset}_wpb"]))})
    print(f"\nHeld-out masked-LM evaluation on '{args.subset}' ({rows[0]['tokens']:,} tokens, seed {args.seed})\n")
    print("| model | checkpoint | loss (bits/masked token) | perplexity |")
    print("|---|---|---:|---:|")
    for row in rows:
        print(f"| {row['model']} | {row['checkpoint']} | {row['loss_bits']:.3f} | {row['perplexity']:,.1f} |")
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
