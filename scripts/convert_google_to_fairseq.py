#!/usr/bin/env python
"""Import a Google BERT TensorFlow checkpoint folder as our bert_plugin checkpoint (UER-py's
convert_bert_from_google_to_uer.py, but to fairseq), without TensorFlow.

    python scripts/convert_google_to_fairseq.py --google-dir chinese_L-12_H-768_A-12/ --out-dir converted/
    fairseq-train data-bin --user-dir fairseq_plugins --task vocab_masked_lm --criterion masked_lm \
        $(cat converted/arch_args.txt) --finetune-from-model converted/model.pt ...

The folder holds bert_config.json, vocab.txt and the checkpoint its `checkpoint` file names (else
bert_model.ckpt.index / .data-00000-of-00001). Writes model.pt, dict.txt (ids of vocab.txt), vocab.txt and
arch_args.txt. Optimizer state (adam_m, adam_v, global_step) is skipped; variables with no counterpart in
our model (cls/seq_relationship/*, a fine-tuned classifier's output_weights) are listed.
"""
import argparse

from fairseq_plugins.conversion.google_bert import google_to_fairseq
from fairseq_plugins.conversion.cli import run_conversion


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--google-dir", required=True, help="folder with bert_config.json, vocab.txt, bert_model.ckpt*")
    parser.add_argument("--out-dir", required=True, help="where model.pt and dict.txt are written")
    parser.add_argument("--seed", type=int, default=1, help="initialisation seed for weights the source lacks")
    args = parser.parse_args(argv)
    run_conversion(lambda: google_to_fairseq(args.google_dir, args.out_dir, seed=args.seed))


if __name__ == "__main__":
    main()
