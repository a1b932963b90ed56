#!/usr/bin/env python
"""Convert a Hugging Face LUKE folder (or BERT / RoBERTa, into LUKE-lite) to a fairseq ``luke`` checkpoint.

    python scripts/convert_luke_hf_to_fairseq.py --hf-dir studio-ousia/luke-base --out-dir luke-base/
    python scripts/convert_luke_hf_to_fairseq.py --hf-dir minilm/ --out-dir minilm-luke-lite/
    python scripts/convert_luke_hf_to_fairseq.py --to-hf --checkpoint ckpt/checkpoint_best.pt --out-dir hf/

Writes model.pt, dict.txt (the word vocabulary with ``<ent>``/``<ent2>``), entity_vocab.json,
the tokenizer files and arch_args.txt (the flags that rebuild the model in fairseq-train).
Checkpoints without w2e/e2w/e2e queries get copies of the word query, as LUKE does.
"""
import argparse

from fairseq_plugins.conversion import luke_fairseq_to_hf, luke_hf_to_fairseq
from fairseq_plugins.conversion.cli import run_conversion


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hf-dir", help="Hugging Face folder: config.json, weights, vocabularies")
    parser.add_argument("--checkpoint", help="with --to-hf: our luke checkpoint")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--to-hf", action="store_true", help="convert our checkpoint back to a LukeModel folder")
    parser.add_argument("--entity-aware-attention", choices=["on", "off"],
                        help="override the config's use_entity_aware_attention (LUKE fine-tunes with it on)")
    parser.add_argument("--entity-emb-size", type=int, help="LUKE-lite from BERT/RoBERTa: entity table width "
                                                            "(default: the hidden size)")
    parser.add_argument("--entity-vocab", help="BERT/RoBERTa: a fresh entity table of this vocabulary instead of "
                                               "LUKE-lite's (to start entity pre-training)")
    parser.add_argument("--seed", type=int, default=1, help="initialisation seed for weights the source lacks")
    args = parser.parse_args(argv)
    def convert():
        if args.to_hf:
            if not args.checkpoint:
                parser.error("--to-hf needs --checkpoint")
            return luke_fairseq_to_hf(args.checkpoint, args.out_dir)
        else:
            if not args.hf_dir:
                parser.error("--hf-dir is required")
            aware = None if args.entity_aware_attention is None else args.entity_aware_attention == "on"
            return luke_hf_to_fairseq(args.hf_dir, args.out_dir, entity_emb_size=args.entity_emb_size,
                                      entity_aware_attention=aware, seed=args.seed,
                                      entity_vocab_path=args.entity_vocab)

    run_conversion(convert)


if __name__ == "__main__":
    main()
