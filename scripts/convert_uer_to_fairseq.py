#!/usr/bin/env python
"""Convert a UER-py ``.bin`` checkpoint (UER-py's parameter names, either spelling) into a fairseq checkpoint.

    python scripts/convert_uer_to_fairseq.py --input-model-path models/google_zh_model.bin \
        --vocab-path models/google_zh_vocab.txt --config-path models/bert/base_config.json --out-dir converted/
    fairseq-train data-bin --user-dir fairseq_plugins --task uer_pretrain $(cat converted/arch_args.txt) \
        --criterion uer_bert --finetune-from-model converted/model.pt ...

The model is --arch, overridden by UER's json --config-path, overridden by --target; without a target from
them, the checkpoint's target tensors decide. Writes model.pt, dict.txt (the vocabulary's ids), uer_config.json
(every option) and arch_args.txt. Head tensors absent from the checkpoint start from initialisation and are
listed; a size that disagrees with the checkpoint is reported with the parameter and both shapes.
"""
import argparse

from fairseq_plugins.conversion import uer_to_fairseq
from fairseq_plugins.conversion.uer_checkpoint import CONVERTIBLE_TARGETS
from fairseq_plugins.conversion.cli import run_conversion
from fairseq_plugins.models.uer import ARCHS


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input-model-path", required=True, help="UER-py .bin (a state dict)")
    parser.add_argument("--vocab-path", required=True, help="the vocabulary the model was trained with")
    parser.add_argument("--config-path", help="UER-py json config (models/*/config.json)")
    parser.add_argument("--arch", default="uer_bert_base", choices=sorted(ARCHS), help="sizes not in the config")
    parser.add_argument("--target", choices=CONVERTIBLE_TARGETS, help="default: from the config or the checkpoint")
    parser.add_argument("--out-dir", required=True, help="where model.pt, dict.txt and uer_config.json go")
    parser.add_argument("--seed", type=int, default=1, help="initialisation seed for head weights the source lacks")
    args = parser.parse_args(argv)
    run_conversion(lambda: uer_to_fairseq(
        args.input_model_path, args.out_dir, args.vocab_path, arch=args.arch, config_path=args.config_path,
        options={"target": args.target} if args.target else None, seed=args.seed))


if __name__ == "__main__":
    main()
