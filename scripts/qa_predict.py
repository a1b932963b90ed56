#!/usr/bin/env python
"""Answer the questions of a SQuAD-format json with ``extractive_qa`` or ``luke_squad`` checkpoints
(UER-py's run_cmrc_infer.py; LUKE's reading-comprehension ``--no-train``).

    python scripts/qa_predict.py --checkpoint checkpoints/checkpoint_best.pt \\
        --input cmrc2018/test.json --output prediction.json [--evaluate]

Writes ``{question id: answer}`` (the official evaluation scripts' prediction file; "" = no
answer), ``--nbest-output`` the n-best answers with probabilities, and for SQuAD 2.0 models
(``--metric squad_v2`` at training) ``--na-prob-output`` the no-answer probabilities (the
official script's ``--na-prob-file``; default: ``<output>.na_prob.json``). Windows, n-best size,
answer length and threshold default to the training run's. The input's answers are not read
(CMRC's test set has placeholders), unless ``--evaluate``: then they are checked and the
official score of the run's metric is printed (SQuAD 2.0 with the best no-answer thresholds).
Several checkpoints (``--weights``) average their logits window by window. ``luke_squad``
checkpoints also find entity mentions with the training run's link database and redirects
(``--vocab-dir``, ``--wiki-link-db-file``, ``--model-redirects-file``, ``--link-redirects-file``
replace them when the files moved).
"""
import json
import logging
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LUKE_FILES = {"wiki_link_db_file": "link database (scripts/build_wiki_link_db.py)",
              "model_redirects_file": "redirects from link targets to the entity vocabulary's titles",
              "link_redirects_file": "redirects from SQuAD titles to the link database's"}


def main(argv=None):
    sys.path.insert(0, REPO)
    from tqdm import tqdm

    from fairseq_plugins.data.squad_format import read_squad
    from fairseq_plugins.models.reader_checkpoints import load_readers_for, reader_arguments
    from fairseq_plugins.tasks.extractive_qa import METRICS, official_scores

    parser = reader_arguments(__doc__, "prediction json: {question id: answer}", "SQuAD-format json (one file)",
                              uer_names=True)
    parser.add_argument("--nbest-output", help="also write {question id: [n-best answers]}")
    parser.add_argument("--na-prob-output", help="SQuAD 2.0: no-answer probabilities (default <output>.na_prob.json)")
    parser.add_argument("--n-best", type=int, help="answers kept per question (default: the training run's)")
    parser.add_argument("--max-answer-length", type=int, help="longest answer in tokens (default: training's)")
    parser.add_argument("--no-answer-threshold", type=float, help="SQuAD 2.0: answer \"\" above this probability")
    parser.add_argument("--metric", choices=METRICS, help="score with this metric (default: the training run's)")
    parser.add_argument("--evaluate", action="store_true", help="check the input's answers and print the score")
    luke = parser.add_argument_group("luke_squad checkpoints (default: the training run's)")
    luke.add_argument("--vocab-dir", help="the converted LUKE model folder")
    for name, text in LUKE_FILES.items():
        luke.add_argument("--" + name.replace("_", "-"), dest=name, help=text)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s | %(levelname)s | %(name)s | %(message)s")
    if len(args.input) != 1:
        parser.error("--input takes one SQuAD-format file")
    path = args.input[0]
    models, weights, task, device = load_readers_for(args, ("extractive_qa", "luke_squad"),
                                                     {k: getattr(args, k) for k in ("vocab_dir", *LUKE_FILES)})
    for name in ("n_best", "max_answer_length", "no_answer_threshold", "metric"):
        if getattr(args, name) is not None:
            setattr(task.cfg, name, getattr(args, name))
    examples = read_squad(path, answers="required" if args.evaluate else "ignored")
    with tqdm(total=len(examples), desc="questions", unit="q", disable=None) as bar:
        predictions = task.predict(models, weights, examples, args.batch_size, device, bar.update)
    write_json(args.output, {p.qid: p.text for p in predictions})
    logging.info("%d answers -> %s", len(predictions), args.output)
    if args.nbest_output:
        write_json(args.nbest_output, {p.qid: p.nbest_json() for p in predictions})
    if task.with_no_answer:
        na_path = args.na_prob_output or os.path.splitext(args.output)[0] + ".na_prob.json"
        write_json(na_path, {p.qid: round(p.no_answer_probability, 6) for p in predictions})
        logging.info("no-answer probabilities -> %s", na_path)
    if args.evaluate:
        scores = official_scores(str(task.cfg.metric), examples, {p.qid: p for p in predictions},
                                 task.cfg.no_answer_threshold)
        print(json.dumps({"metric": str(task.cfg.metric), **{k: round(v, 4) if isinstance(v, float) else v
                                                             for k, v in scores.items()}}, indent=1))


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, ensure_ascii=False, indent=1)


if __name__ == "__main__":
    sys.path.insert(0, REPO)
    from fairseq_plugins.tool_model import run_cli

    run_cli(main)
