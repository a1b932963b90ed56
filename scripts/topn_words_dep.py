#!/usr/bin/env python
"""Nearest neighbours of a word in its sentence by context-dependent vectors, as UER-py's ``topn_words_dep.py``.

    python scripts/topn_words_dep.py --load-model-path checkpoints/checkpoint_best.pt --vocab-path vocab.txt \\
        --sent-path sentences.tsv [--cand-vocab-path cand_vocab.txt] --topn 20

Each line of ``--sent-path`` is ``sentence<TAB>word``, the word being one token of the sentence (its first
occurrence is used). Every candidate word (``--cand-vocab-path``, default the model's vocabulary without
special tokens) is put in the word's place, the sentences run through the encoder in batches, and the
candidates are ranked by the cosine similarity of the last layer's vector at that position to the
original sentence's. Output (``--output-path``, default stdout)::

    Original sentence: ...
    Target word: ...
    candidate<TAB>similarity
    ...
    <blank line>

A word that is not a single token of the sentence gets a note saying so, and is counted.
"""
import argparse
import contextlib
import sys

import torch
from tqdm import tqdm

from fairseq_plugins.errors import InputError
from fairseq_plugins.tool_model import (add_model_args, add_neighbour_args, candidate_ids, cosine_top, model_from_args,
                                        output_stream, read_lines, run_cli)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_args(parser)
    parser.add_argument("--sent-path", required=True, help="sentence<TAB>word per line")
    add_neighbour_args(parser)
    parser.add_argument("--seq-length", type=int, default=128, help="tokens per sentence incl. [CLS]/[SEP]")
    parser.add_argument("--batch-size", type=int, default=64, help="candidate sentences per forward pass")
    args = parser.parse_args(argv)

    tool = model_from_args(args)
    d = tool.dictionary
    rows = []
    for number, line in enumerate(read_lines(args.sent_path), 1):
        if not line:
            continue
        cells = line.split("\t")
        if len(cells) != 2 or not cells[1].strip():
            raise InputError(args.sent_path, f"expected 'sentence<TAB>word', got {len(cells)} column(s)",
                             line=number, field="columns")
        rows.append((cells[0], cells[1].strip()))
    candidates, outside = candidate_ids(tool, args.cand_vocab_path)
    cand = torch.tensor(candidates, dtype=torch.long)
    seqs, _ = tool.encode([sentence for sentence, _ in rows], args.seq_length)
    skipped, results = 0, []
    with contextlib.ExitStack() as stack:
        out = output_stream(stack, args.output_path)
        for (sentence, word), seq in tqdm(zip(rows, seqs), total=len(rows), desc="sentences", file=sys.stderr,
                                          disable=None):
            out.write(f"Original sentence: {sentence}\nTarget word: {word}\n")
            word_id = d.indices.get(word)
            if word_id is None or word_id not in seq[1:-1]:
                why = "not in the vocabulary" if word_id is None else "not a token of the sentence as tokenized"
                out.write(f"({why}: {' '.join(tool.tokens(seq))})\n\n")
                skipped += 1
                results.append(None)
                continue
            position = seq.index(word_id, 1)
            tokens, segments = tool.collate([seq])
            target = tool.hidden_states(tokens, segments)[0, position]
            vectors = []
            for lo in range(0, len(candidates), args.batch_size):
                ids = cand[lo:lo + args.batch_size].to(tool.device)
                batch = tokens.repeat(len(ids), 1)
                batch[:, position] = ids
                seg = None if segments is None else segments.repeat(len(ids), 1)
                vectors.append(tool.hidden_states(batch, seg)[:, position])
            scores, best = cosine_top(target, torch.cat(vectors), args.topn,
                                      exclude=[j for j, c in enumerate(candidates) if c == word_id])
            found = [(d[candidates[j]], s) for j, s in zip(best.tolist(), scores.tolist())]
            out.writelines(f"{w}\t{s:.4f}\n" for w, s in found)
            out.write("\n")
            results.append(found)
    print(f"{len(rows)} sentences ({skipped} skipped: the word is not one of their tokens), {len(candidates)} "
          f"candidates ({outside} candidate words not in the model's vocabulary, left out)", file=sys.stderr)
    return results


if __name__ == "__main__":
    run_cli(main)
