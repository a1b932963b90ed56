#!/usr/bin/env python
"""Convert a fairseq ``uer`` checkpoint into a UER-py ``.bin`` (a state dict under UER-py's names).

    python scripts/convert_fairseq_to_uer.py --checkpoint checkpoints/checkpoint_best.pt \
        --output-model-path models/book_review_model.bin [--names old]

Also writes ``<stem>_config.json`` (UER-py's --config_path for this model) and, when the checkpoint's
dict.txt is found beside it or in its data folder, ``<stem>_vocab.txt``. ``--names old`` writes the
spelling of UER-py before 1.0 (embedding.word_embedding, target.mlm_linear_1, target.nsp_linear_1 ...).
"""
import argparse

from fairseq_plugins.conversion import fairseq_to_uer
from fairseq_plugins.conversion.uer_checkpoint import NAME_SETS
from fairseq_plugins.conversion.cli import run_conversion


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="fairseq checkpoint of the uer model")
    parser.add_argument("--output-model-path", required=True, help="the UER-py .bin to write")
    parser.add_argument("--names", choices=NAME_SETS, default="new", help="UER-py's parameter spelling")
    args = parser.parse_args(argv)
    run_conversion(lambda: fairseq_to_uer(args.checkpoint, args.output_model_path, names=args.names))


if __name__ == "__main__":
    main()
