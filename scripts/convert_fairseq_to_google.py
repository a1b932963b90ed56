#!/usr/bin/env python
"""Export a BERT to Google's TensorFlow checkpoint format (UER-py's convert_bert_from_uer_to_google.py).

    python scripts/convert_fairseq_to_google.py --checkpoint checkpoints/checkpoint_best.pt --out-dir google/
    python scripts/convert_fairseq_to_google.py --input-model-path models/google_zh_model.bin \
        --vocab-path models/google_zh_vocab.txt [--config-path models/bert/base_config.json] --out-dir google/

Writes bert_model.ckpt.index, bert_model.ckpt.data-00000-of-00001, checkpoint, bert_config.json and vocab.txt,
under Google's variable names (bert/encoder/layer_N/..., cls/predictions/..., cls/seq_relationship/...). The
source is our bert_plugin checkpoint, our uer checkpoint of a BERT, or a UER-py .bin (read as
convert_uer_to_fairseq.py reads it: --arch, then UER's json --config-path, then --target). TensorFlow is not
needed; `tf.train.load_checkpoint(out_dir)` and Google's BERT code read the result.
"""
import argparse

from fairseq_plugins.conversion.google_bert import fairseq_to_google, uer_bin_to_google
from fairseq_plugins.conversion.uer_checkpoint import CONVERTIBLE_TARGETS
from fairseq_plugins.conversion.cli import run_conversion
from fairseq_plugins.models.uer import ARCHS


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="our fairseq checkpoint (bert_plugin, or uer with a BERT config)")
    source.add_argument("--input-model-path", help="a UER-py .bin (a state dict under UER-py's names)")
    parser.add_argument("--vocab-path", help="with --input-model-path: the vocabulary it was trained with")
    parser.add_argument("--config-path", help="with --input-model-path: UER-py json config")
    parser.add_argument("--arch", default="uer_bert_base", choices=sorted(ARCHS),
                        help="with --input-model-path: sizes not in the config")
    parser.add_argument("--target", choices=CONVERTIBLE_TARGETS, help="default: from the config or the .bin")
    parser.add_argument("--out-dir", required=True, help="the Google BERT folder to write")
    args = parser.parse_args(argv)
    if args.input_model_path and not args.vocab_path:
        parser.error("--input-model-path needs --vocab-path")
    def convert():
        if args.checkpoint:
            return fairseq_to_google(args.checkpoint, args.out_dir)
        else:
            return uer_bin_to_google(args.input_model_path, args.out_dir, args.vocab_path, arch=args.arch,
                                     config_path=args.config_path,
                                     options={"target": args.target} if args.target else None)

    run_conversion(convert)


if __name__ == "__main__":
    main()
