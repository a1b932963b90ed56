#!/usr/bin/env python
"""Nearest neighbours of words by their context-independent embeddings, as UER-py's ``scripts/topn_words_indep.py``.

    python scripts/topn_words_indep.py --load-model-path checkpoints/checkpoint_best.pt --vocab-path vocab.txt \\
        --target-words-path target_words.txt [--cand-vocab-path cand_vocab.txt] --topn 20

Each line of ``--target-words-path`` names a word (its first field); the candidates are the words of
``--cand-vocab-path`` (default: the model's vocabulary without special tokens) ranked by the cosine
similarity of their rows of the word-embedding table. Output (``--output-path``, default stdout)::

    Target word: 北京
    上海<TAB>0.8123
    ...
    <blank line>

A target word outside the vocabulary gets ``(not in the vocabulary)`` and is counted.
"""
import argparse
import contextlib
import sys

from fairseq_plugins.tool_model import (add_model_args, add_neighbour_args, candidate_ids, cosine_top, model_from_args,
                                        output_stream, read_lines, run_cli)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_args(parser, tokenizer=False)
    parser.add_argument("--target-words-path", required=True, help="one word a line")
    add_neighbour_args(parser)
    args = parser.parse_args(argv)

    tool = model_from_args(args)
    d = tool.dictionary
    candidates, outside = candidate_ids(tool, args.cand_vocab_path)
    table = tool.word_embedding()
    cand_table = table[candidates]
    words = [line.split()[0] for line in read_lines(args.target_words_path) if line]
    unknown = 0
    results = {}
    with contextlib.ExitStack() as stack:
        out = output_stream(stack, args.output_path)
        for word in words:
            out.write(f"Target word: {word}\n")
            if word not in d.indices:
                out.write("(not in the vocabulary)\n\n")
                unknown += 1
                continue
            own = d.indices[word]
            scores, rows = cosine_top(table[own], cand_table, args.topn,
                                      exclude=[j for j, c in enumerate(candidates) if c == own])
            results[word] = [(d[candidates[j]], s) for j, s in zip(rows.tolist(), scores.tolist())]
            out.writelines(f"{w}\t{s:.4f}\n" for w, s in results[word])
            out.write("\n")
    print(f"{len(words)} target words ({unknown} not in the vocabulary), {len(candidates)} candidates "
          f"({outside} candidate words not in the model's vocabulary, left out)", file=sys.stderr)
    return results


if __name__ == "__main__":
    run_cli(main)
