#!/usr/bin/env python
"""Label a tsv with a ``uer_classification`` checkpoint, as UER-py's ``inference/run_classifier_infer.py``.

The input has a header row with ``text_a`` (and ``text_b`` for pairs); the output tsv has a header and
one row per input row: ``label``, then with ``--output-logits`` the space-separated logits and with
``--output-prob`` the softmax probabilities. The vocabulary, tokenizer, sequence length and number of
labels come from the checkpoint (``--vocab`` overrides the vocabulary path).

    python scripts/uer_infer_classifier.py --load-model-path checkpoints/checkpoint_best.pt \\
        --test-path test_nolabel.tsv --prediction-path prediction.tsv --output-prob
"""
import argparse
import logging
import os
import sys

import torch

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--load-model-path", required=True, help="fine-tuned checkpoint (.pt)")
    parser.add_argument("--test-path", required=True, help="tsv with a text_a[\\ttext_b] header")
    parser.add_argument("--prediction-path", required=True, help="output tsv")
    parser.add_argument("--output-logits", action="store_true", help="add a logits column")
    parser.add_argument("--output-prob", action="store_true", help="add a prob column (softmax)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--vocab", help="vocabulary path, if it moved since training")
    parser.add_argument("--cpu", action="store_true", help="run on CPU even when a GPU is present")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s | %(levelname)s | %(name)s | %(message)s")

    from fairseq import checkpoint_utils, utils

    utils.import_user_module(argparse.Namespace(user_dir=os.path.join(REPO, "fairseq_plugins")))
    overrides = {"vocab": args.vocab} if args.vocab else {}
    state = checkpoint_utils.load_checkpoint_to_cpu(args.load_model_path, overrides)
    # The label count is the cls head's width, so the training data need not be at hand.
    state["cfg"].task.labels_num = state["model"]["cls_output.weight"].size(0)
    models, _, task = checkpoint_utils.load_model_ensemble_and_task([args.load_model_path], state=state)
    model = models[0].eval()
    device = "cuda" if torch.cuda.is_available() and not args.cpu else "cpu"
    model.to(device)

    dataset = task.load_tsv("predict", args.test_path, labels_required=False)
    with open(args.prediction_path, "w", encoding="utf-8") as out, torch.inference_mode():
        out.write("\t".join(["label"] + ["logits"] * args.output_logits + ["prob"] * args.output_prob) + "\n")
        for lo in range(0, len(dataset), args.batch_size):
            batch = dataset.collater(list(range(lo, min(lo + args.batch_size, len(dataset)))))
            net_input = {k: v.to(device) for k, v in batch["net_input"].items()}
            logits = model(**net_input)["cls"].float()
            probs = logits.softmax(-1)
            for row_logits, row_probs in zip(logits.tolist(), probs.tolist()):
                cells = [str(max(range(len(row_logits)), key=row_logits.__getitem__))]
                if args.output_logits:
                    cells.append(" ".join(f"{x:.6g}" for x in row_logits))
                if args.output_prob:
                    cells.append(" ".join(f"{x:.6g}" for x in row_probs))
                out.write("\t".join(cells) + "\n")
    logging.info("wrote %d predictions to %s", len(dataset), args.prediction_path)


if __name__ == "__main__":
    sys.exit(main())
