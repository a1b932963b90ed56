#!/usr/bin/env python
"""One vector per input line from a checkpoint's last layer, as UER-py's ``scripts/extract_features.py``.

    python scripts/extract_features.py --load-model-path checkpoints/checkpoint_best.pt --vocab-path vocab.txt \\
        --input-path sentences.txt --output-path features.pt --pooling mean

Each line is read as ``[CLS] line [SEP]`` (cut to ``--seq-length``) and pooled over the last layer:
``first`` ([CLS]), ``mean`` or ``max`` over its real tokens, or ``last`` (the final real token, for
left-to-right models). The output holds one row per input line, blank lines included, as ``.pt``
(a torch N x C tensor, UER-py's format), ``.npy``, or text (one line of numbers per row).
"""
import argparse
import sys

import torch

from fairseq_plugins.tool_model import POOLINGS, add_model_args, model_from_args, read_lines, run_cli, save_matrix


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_args(parser)
    parser.add_argument("--input-path", required=True, help="one sentence a line")
    parser.add_argument("--output-path", required=True, help=".pt, .npy, or text (any other extension)")
    parser.add_argument("--pooling", choices=POOLINGS, default="first")
    parser.add_argument("--seq-length", type=int, default=128, help="tokens per line incl. [CLS]/[SEP]; longer is cut")
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args(argv)

    tool = model_from_args(args)
    lines = read_lines(args.input_path)
    seqs, cut = tool.encode(lines, args.seq_length)
    vectors = [tool.pooled(tokens, segments, args.pooling).float().cpu()
               for _, tokens, segments in tool.batches(seqs, args.batch_size, desc="features")]
    features = torch.cat(vectors) if vectors else torch.zeros(0, 0)
    save_matrix(features, args.output_path)
    print(f"{len(lines)} lines ({sum(not line for line in lines)} blank, {cut} cut to --seq-length) -> "
          f"{tuple(features.shape)} {args.pooling}-pooled features in {args.output_path}", file=sys.stderr)
    return features


if __name__ == "__main__":
    run_cli(main)
