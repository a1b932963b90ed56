#!/usr/bin/env python
"""Tag a file with a ``token_tagging`` checkpoint (UER-py's ``inference/run_ner_infer.py``) and score it.

    python scripts/predict_tags.py --checkpoint checkpoints/checkpoint_best.pt \\
        --input msra_ner/test_nolabel.tsv --output prediction.tsv

The format is the one the model was trained on (``--data-format`` to override), and so is the output:
- UER tsv: a ``pred_label`` header (as UER's), then the space-separated predicted tags of each row (``text_a``
  alone is enough; with a ``label`` column the file is also scored);
- CoNLL: ``word gold predicted`` per line (IOB2), a blank line between sentences;
- LEAR jsonl: one line per text, ``{"text", "entities": [{"label", "text", "start_offset",
  "end_offset"}]}``, scored against every gold entity (nested ones included).
With gold labels it prints entity-level (exact span) precision, recall and F1, then the counts as json.
"""
import argparse
import json
import logging
import os
import sys

import torch
from tqdm import tqdm

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from fairseq_plugins.conversion.fairseq_checkpoint import load_checkpoint  # noqa: E402
from fairseq_plugins.data.tagging import FORMATS, entity_counts, tags_to_char_spans  # noqa: E402
from fairseq_plugins.errors import InputError  # noqa: E402


def write_predictions(path, data_format, examples, tags):
    with open(path, "w", encoding="utf-8") as out:
        if data_format == "uer_tsv":
            out.write("pred_label\n")  # run_ner_infer.py's header
            out.writelines(" ".join(t) + "\n" for t in tags)
        elif data_format == "conll":
            for example, predicted in zip(examples, tags):
                out.writelines(f"{example.text[s:e]} {g} {p}\n" for (s, e), g, p in
                               zip(example.units, example.tags, predicted))
                out.write("\n")
        else:
            for example, predicted in zip(examples, tags):
                entities = [{"label": label, "text": example.text[s:e], "start_offset": s, "end_offset": e}
                            for s, e, label in tags_to_char_spans(example.units, predicted)]
                out.write(json.dumps({"text": example.text, "entities": entities}, ensure_ascii=False) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="a token_tagging checkpoint (.pt)")
    parser.add_argument("--input", required=True, help="file to tag (UER tsv, CoNLL or LEAR jsonl)")
    parser.add_argument("--output", required=True, help="predictions, in the input's format")
    parser.add_argument("--data-format", choices=FORMATS, help="override the format the model was trained on")
    parser.add_argument("--vocab", help="vocabulary path, if it moved since training")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--cpu", action="store_true", help="run on CPU even when a GPU is present")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s | %(levelname)s | %(name)s | %(message)s")
    overrides = {k: v for k, v in (("vocab", args.vocab), ("data_format", args.data_format)) if v}
    try:
        _, task, model = load_checkpoint(args.checkpoint, arg_overrides=overrides)
        data_format = str(task.cfg.data_format)
        examples = task.read(args.input, labels_required=False)
        dataset = task.load_examples("predict", examples, args.input)
    except InputError as e:
        sys.exit(f"error: {e}")
    model.eval().to("cuda" if torch.cuda.is_available() and not args.cpu else "cpu")
    with tqdm(total=len(dataset), unit="window", desc="tagging") as bar:
        tags = task.predict(model, "predict", args.batch_size, progress=bar.update)
    write_predictions(args.output, data_format, examples, tags)
    logging.info("wrote %d tagged texts to %s", len(tags), args.output)
    if all(e.tags is not None for e in examples):
        counts = entity_counts(examples, tags)
        print(f"{len(examples)} texts, {counts.gold} gold entities, {counts.predicted} predicted, "
              f"{counts.true_positives} correct: precision {100 * counts.precision:.2f} "
              f"recall {100 * counts.recall:.2f} F1 {100 * counts.f1:.2f}")
        print(json.dumps({"precision": counts.precision, "recall": counts.recall, "f1": counts.f1,
                          "gold": counts.gold, "predicted": counts.predicted,
                          "true_positives": counts.true_positives}))


if __name__ == "__main__":
    main()
