#!/usr/bin/env python
"""Answer C3 multiple-choice questions with a ``uer_c3`` checkpoint, as UER-py's ``inference/run_c3_infer.py``.

The input is C3 json (answers optional); the output has one json object a line, ``{"id": ..., "label": k}``
with ``k`` the index of the chosen choice (the question's ``id``, or ``<document id>-<question number>``
when the file has none). With ``--output-prob`` each line also has the softmax over the choices. When
the input has answers, the accuracy is printed.

    python scripts/uer_infer_c3.py --load-model-path checkpoints/checkpoint_best.pt \\
        --test-path c3/test.json --prediction-path prediction.jsonl
"""
import argparse
import json
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fairseq_plugins.uer_inference import add_inference_arguments  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_inference_arguments(parser, "uer_c3", "C3 json", batch_size=16)
    parser.add_argument("--output-prob", action="store_true", help="add the choice probabilities")
    args = parser.parse_args(argv)

    from fairseq_plugins.uer_inference import load_finetuned_task, run_batches

    model, task, device = load_finetuned_task(args, "uer_c3")
    dataset = task.load_json("predict", args.test_path, labels_required=False)
    correct = 0
    with open(args.prediction_path, "w", encoding="utf-8") as out:
        for indices, outputs in run_batches(model, dataset, args.batch_size, device, "answer"):
            logits = outputs["cls"].float().view(len(indices), -1)
            for i, label, probs in zip(indices, logits.argmax(-1).tolist(), logits.softmax(-1).tolist()):
                record = {"id": dataset.question_ids[i], "label": label}
                if args.output_prob:
                    record["prob"] = [round(p, 6) for p in probs]
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                correct += label == dataset.examples[i].label
    logging.info("wrote %d answers to %s", len(dataset), args.prediction_path)
    if dataset.examples and all(x.label is not None for x in dataset.examples):
        print(f"accuracy {correct / len(dataset):.4f} ({correct}/{len(dataset)})")


if __name__ == "__main__":
    sys.exit(main())
