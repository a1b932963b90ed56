#!/usr/bin/env python
"""Rank the candidate sentences of DBQA questions with a ``uer_dbqa`` checkpoint.

UER-py scores DBQA rows with its classifier; here the input is a tsv with ``qid``, ``text_a`` (the
question) and ``text_b`` (a candidate sentence), and optionally ``label``. The output tsv has one row per
input row: ``qid``, the predicted ``label`` (0/1), the ``score`` (the class-1 logit, UER's ranking score)
and the candidate's ``rank`` within its question (1 = best). With labels in the input, MRR and MAP are
printed (questions without a correct candidate are counted and left out).

    python scripts/uer_infer_dbqa.py --load-model-path checkpoints/checkpoint_best.pt \\
        --test-path nlpcc-dbqa/test.tsv --prediction-path prediction.tsv
"""
import argparse
import logging
import os
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fairseq_plugins.uer_inference import add_inference_arguments  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_inference_arguments(parser, "uer_dbqa", "tsv with a qid, text_a, text_b [, label] header")
    args = parser.parse_args(argv)

    from fairseq_plugins.metrics.ranking import average_precision, ranked_relevance, reciprocal_rank
    from fairseq_plugins.uer_inference import load_finetuned_task, run_batches

    model, task, device = load_finetuned_task(args, "uer_dbqa")
    dataset = task.load_tsv("predict", args.test_path, labels_required=False)
    scores, predicted = [], []
    for _, outputs in run_batches(model, dataset, args.batch_size, device, "score"):
        logits = outputs["cls"].float()
        scores += logits[:, 1].tolist()
        predicted += logits.argmax(-1).tolist()
    by_question = defaultdict(list)
    for i, example in enumerate(dataset.examples):
        by_question[example.group].append(i)
    rank = [0] * len(scores)
    for rows in by_question.values():
        for position, i in enumerate(sorted(rows, key=lambda i: -scores[i]), start=1):
            rank[i] = position
    with open(args.prediction_path, "w", encoding="utf-8") as out:
        out.write("qid\tlabel\tscore\trank\n")
        for i, example in enumerate(dataset.examples):
            out.write(f"{dataset.qids[example.group]}\t{predicted[i]}\t{scores[i]:.6g}\t{rank[i]}\n")
    logging.info("wrote %d scored candidates of %d questions to %s", len(scores), len(by_question),
                 args.prediction_path)
    labels = [x.label for x in dataset.examples]
    if labels and all(x is not None for x in labels):
        rrs, aps, no_answer = [], [], 0
        for rows in by_question.values():
            q_scores, relevant = [scores[i] for i in rows], [labels[i] == 1 for i in rows]
            if not any(ranked_relevance(q_scores, relevant)):
                no_answer += 1
                continue
            rrs.append(reciprocal_rank(q_scores, relevant))
            aps.append(average_precision(q_scores, relevant))
        n = max(len(rrs), 1)
        print(f"MRR {sum(rrs) / n:.4f}  MAP {sum(aps) / n:.4f}  ({len(rrs)} questions; "
              f"{no_answer} without a correct candidate left out)")


if __name__ == "__main__":
    sys.exit(main())
