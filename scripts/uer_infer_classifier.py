#!/usr/bin/env python
"""Label a tsv with a ``uer_classification`` checkpoint, as UER-py's ``inference/run_classifier_infer.py``.

The input has a header row with the text columns the model was trained on (``text_a``, and
``text_b`` for pairs; other text columns are an error). The output tsv has a header and one row per
input row: ``label``, then with ``--output-logits`` the space-separated logits and with
``--output-prob`` the softmax probabilities. The vocabulary, tokenizer, sequence length and number of
labels come from the checkpoint (``--vocab`` overrides the vocabulary path). When the input also has
a ``label`` column, accuracy and a per-class precision/recall/F1 table are printed. A multi-task
checkpoint labels with one data set's head: ``--dataset`` (its folder name or number).

    python scripts/uer_infer_classifier.py --load-model-path checkpoints/checkpoint_best.pt \\
        --test-path test_nolabel.tsv --prediction-path prediction.tsv --output-prob
"""
import argparse
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fairseq_plugins.uer_inference import add_inference_arguments  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_inference_arguments(parser, "uer_classification", "tsv with a text_a[\\ttext_b] header")
    parser.add_argument("--output-logits", action="store_true", help="add a logits column")
    parser.add_argument("--output-prob", action="store_true", help="add a prob column (softmax)")
    parser.add_argument("--dataset", help="multi-task checkpoints: the data set (folder name or number) to label for")
    args = parser.parse_args(argv)

    from fairseq_plugins.errors import InputError
    from fairseq_plugins.metrics.classification import ClassCounts, format_class_table
    from fairseq_plugins.uer_inference import load_finetuned_task, run_batches

    model, task, device = load_finetuned_task(args, "uer_classification")
    dataset_id, extra = 0, {}
    if task.multi_task:
        if args.dataset is None:
            raise InputError(args.load_model_path, f"a multi-task checkpoint: choose a head with --dataset "
                                                   f"({', '.join(task.names)})", field="--dataset")
        dataset_id = int(args.dataset) if args.dataset.isdigit() else (
            task.names.index(args.dataset) if args.dataset in task.names else -1)
        if not 0 <= dataset_id < len(task.names):
            raise InputError(None, f"{args.dataset!r} is none of {', '.join(task.names)}", field="--dataset")
        extra = {"dataset_id": dataset_id}
    dataset = task.load_tsv("predict", args.test_path, labels_required=False, dataset_id=dataset_id)
    labels = [x.label for x in dataset.examples]
    counts = ClassCounts(task.labels_nums[dataset_id]) if all(x is not None for x in labels) and labels else None
    with open(args.prediction_path, "w", encoding="utf-8") as out:
        out.write("\t".join(["label"] + ["logits"] * args.output_logits + ["prob"] * args.output_prob) + "\n")
        for indices, outputs in run_batches(model, dataset, args.batch_size, device, "classify", **extra):
            logits = outputs["cls"].float()
            predicted = logits.argmax(-1).tolist()
            if counts is not None:
                counts.add(predicted, [labels[i] for i in indices])
            for label, row_logits, row_probs in zip(predicted, logits.tolist(), logits.softmax(-1).tolist()):
                cells = [str(label)]
                if args.output_logits:
                    cells.append(" ".join(f"{x:.6g}" for x in row_logits))
                if args.output_prob:
                    cells.append(" ".join(f"{x:.6g}" for x in row_probs))
                out.write("\t".join(cells) + "\n")
    logging.info("wrote %d predictions to %s", len(dataset), args.prediction_path)
    if counts is not None:
        print(format_class_table(counts))


if __name__ == "__main__":
    sys.exit(main())
