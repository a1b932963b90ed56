#!/usr/bin/env python
"""Link mentions to KB entities: biencoder top-k, optionally reranked by a crossencoder.

    python scripts/link.py --checkpoint biencoder/checkpoint_best.pt --kb kb.jsonl --encoded-kb enc/ \\
        --input texts.jsonl --output linked.jsonl [--crossencoder crossencoder/checkpoint_best.pt]
    echo '{"id": 1, "text": "Rose met the Doctor.", "mentions": [{"start": 13, "end": 19}]}' | \\
        python scripts/link.py --checkpoint ... --kb kb.jsonl --encoded-kb enc/ --input - --top-k 5

Input lines: ``{"id", "text", "mentions": [{"start", "end"}]}`` (character offsets, end
exclusive) or BLINK's ``{"context_left", "mention", "context_right"}`` rows. Each gives one
output line ``{"id", "mentions": [{"start", "end", "mention", "entities": [{"id", "title",
"score"}]}]}``; skipped mentions carry ``"skipped": reason`` instead, and the totals by reason
are printed at the end. ``--input -`` streams standard input: each line is linked and written
as soon as it is read. The KB is encoded into ``--encoded-kb`` on first use (resumable).
"""
import argparse
import logging
import sys

from tqdm import tqdm

from fairseq_plugins.data.blink_formats import KnowledgeBase, SkipCounts
from fairseq_plugins.errors import InputError
from fairseq_plugins.retrieval.blink_models import add_retrieval_arguments, load_blink, retrieval_from_args
from fairseq_plugins.retrieval.linker import (CHARS_PER_TOKEN, InputParser, Linker, jsonl_writer, link_stream,
                                              read_link_lines)
from fairseq_plugins.retrieval.reranking import CrossencoderReranker


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_retrieval_arguments(parser, top_k=10)
    parser.add_argument("--input", required=True, help="jsonl of texts with mention spans, or - for stdin")
    parser.add_argument("--output", default="-", help="output jsonl (default: stdout)")
    parser.add_argument("--crossencoder", help="blink_crossencoder checkpoint to rerank the top-k")
    parser.add_argument("--crossencoder-batch-size", type=int, default=8, help="mentions per crossencoder batch")
    parser.add_argument("--link-batch-size", type=int, default=64,
                        help="mentions linked together from a file (stdin: each line at once)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    try:
        task, model, encoded, index = retrieval_from_args(args)
        kb = KnowledgeBase(args.kb)
        reranker = None
        if args.crossencoder:
            cross_task, cross_model = load_blink(args.crossencoder, task="blink_crossencoder", device=args.device,
                                                 dtype=args.dtype)
            reranker = CrossencoderReranker(cross_task, cross_model, kb, args.crossencoder_batch_size)
        linker = Linker(task, model, kb, encoded, index, args.top_k, args.restrict_to_world, reranker,
                        args.batch_size)
        counts = SkipCounts()
        streaming = args.input == "-"
        input_parser = InputParser("<stdin>" if streaming else args.input, CHARS_PER_TOKEN * task.cfg.max_context_length, counts,
                                   args.restrict_to_world, set(encoded.worlds))
        out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
        bar = tqdm(unit="text", disable=args.no_progress, file=sys.stderr)
        try:
            records, linked = link_stream(input_parser.records(read_link_lines(args.input, sys.stdin)), linker,
                                          jsonl_writer(out, flush_each=streaming),
                                          0 if streaming else args.link_batch_size, on_record=bar.update)
        finally:
            bar.close()
            if out is not sys.stdout:
                out.close()
        print(f"linked {linked} mentions in {records} texts", file=sys.stderr)
        print(counts.report(input_parser.path), file=sys.stderr)
    except InputError as e:
        sys.exit(f"error: {e}")


if __name__ == "__main__":
    main()
