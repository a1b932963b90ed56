#!/usr/bin/env python
"""Convert a fairseq checkpoint of ``bert_plugin`` / ``roberta_plugin`` into a Hugging Face folder.

    python scripts/convert_fairseq_to_hf.py --checkpoint checkpoints/checkpoint_best.pt --out-dir hf/

Writes config.json and model.safetensors (``*ForMaskedLM``, or ``*ForSequenceClassification``
when the checkpoint has a classification head), plus the tokenizer files found beside the
checkpoint (or the vocabulary from its dict.txt).
"""
import argparse

from fairseq_plugins.conversion import fairseq_to_hf
from fairseq_plugins.conversion.cli import run_conversion


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="fairseq checkpoint (model.pt, checkpoint_best.pt)")
    parser.add_argument("--out-dir", required=True, help="Hugging Face folder to write")
    parser.add_argument("--head-name", default=None, help="classification head to export (default: the only one)")
    args = parser.parse_args(argv)
    run_conversion(lambda: fairseq_to_hf(args.checkpoint, args.out_dir, head_name=args.head_name))


if __name__ == "__main__":
    main()
