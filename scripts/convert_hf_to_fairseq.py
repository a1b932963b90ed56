#!/usr/bin/env python
"""Convert a Hugging Face BERT / RoBERTa / ALBERT folder into a fairseq checkpoint.

    python scripts/convert_hf_to_fairseq.py --hf-dir path/to/bert --out-dir converted/
    fairseq-train data-bin --user-dir fairseq_plugins --task vocab_masked_lm --criterion masked_lm \
        $(cat converted/arch_args.txt) --finetune-from-model converted/model.pt ...

Writes model.pt, dict.txt (ids identical to the original vocabulary), arch_args.txt (the
--arch and size flags that rebuild this model in fairseq-train) and copies the tokenizer files. Head weights absent from the source start from random initialisation
and are listed.
"""
import argparse

from fairseq_plugins.conversion import hf_to_fairseq
from fairseq_plugins.conversion.cli import run_conversion


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hf-dir", required=True, help="folder with config.json, weights and vocabulary")
    parser.add_argument("--out-dir", required=True, help="where model.pt and dict.txt are written")
    parser.add_argument("--head-name", default="sentence_classification_head",
                        help="name for a sequence-classification head found in the source")
    parser.add_argument("--seed", type=int, default=1, help="initialisation seed for weights the source lacks")
    args = parser.parse_args(argv)
    run_conversion(lambda: hf_to_fairseq(args.hf_dir, args.out_dir, head_name=args.head_name, seed=args.seed))


if __name__ == "__main__":
    main()
