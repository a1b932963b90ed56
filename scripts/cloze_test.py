#!/usr/bin/env python
"""Predict masked tokens with a masked-LM checkpoint, as UER-py's ``scripts/cloze_test.py``.

Each input line is a sentence. Every literal ``[MASK]`` in it is predicted; a line without one gets one
token masked at random (``--seed``), as UER-py does, and its true token is reported. Output, per line::

    [CLS] the cat [MASK] on the mat [SEP]      (the model's tokens)
    Predicted answer: sat sits lay ...          (top --topn tokens, one line per mask, best first)
    Correct answer: sat                         (only for a token masked at random)
    <blank line>

    python scripts/cloze_test.py --load-model-path checkpoints/checkpoint_best.pt --vocab-path vocab.txt \\
        --input-path cloze_input.txt --output-path cloze_output.txt --topn 10

``--with-prob`` adds each prediction's probability (``token:0.512``).
"""
import argparse
import random
import sys

from fairseq_plugins.tool_model import add_model_args, model_from_args, positive_int, read_lines, run_cli


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_args(parser)
    parser.add_argument("--input-path", required=True, help="one sentence a line, [MASK] where to predict")
    parser.add_argument("--output-path", required=True)
    parser.add_argument("--topn", type=positive_int, default=10, help="predictions per mask")
    parser.add_argument("--seq-length", type=int, default=128, help="tokens per line incl. [CLS]/[SEP]; longer is cut")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=7, help="picks the token masked in lines without [MASK]")
    parser.add_argument("--with-prob", action="store_true", help="print probabilities next to the tokens")
    args = parser.parse_args(argv)

    tool = model_from_args(args)
    tool.mlm_head()  # fail before reading the input when there is none
    lines = read_lines(args.input_path)
    seqs, cut = tool.encode_masked(lines, args.seq_length)
    mask, rng = tool.dictionary.mask(), random.Random(args.seed)
    answers = []  # the true token of a randomly masked position, else None
    for seq in seqs:
        if mask in seq or len(seq) <= 2:
            answers.append(None)
            continue
        position = rng.randrange(1, len(seq) - 1)  # not [CLS] nor [SEP]
        answers.append(seq[position])
        seq[position] = mask
    topn = min(args.topn, len(tool.dictionary))
    masks_done = lost = 0
    with open(args.output_path, "w", encoding="utf-8") as out:
        for start, tokens, segments in tool.batches(seqs, args.batch_size, desc="cloze"):
            states = tool.hidden_states(tokens, segments)
            at_mask = tokens.eq(mask)
            probs = tool.mlm_logits(states[at_mask]).float().softmax(-1)  # masks in row order
            best = probs.topk(topn, dim=-1)
            k = 0
            for i in range(tokens.size(0)):
                n = start + i
                out.write(" ".join(tool.tokens(seqs[n])) + "\n")
                wanted = lines[n].count("[MASK]") + lines[n].count("<mask>")
                for _ in range(int(at_mask[i].sum())):
                    ids, values = best.indices[k].tolist(), best.values[k].tolist()
                    words = [f"{tool.dictionary[t]}:{p:.3f}" if args.with_prob else tool.dictionary[t]
                             for t, p in zip(ids, values)]
                    out.write("Predicted answer: " + " ".join(words) + "\n")
                    k += 1
                    masks_done += 1
                if answers[n] is None and wanted > int(at_mask[i].sum()):
                    missing = wanted - int(at_mask[i].sum())
                    lost += missing
                    out.write(f"(not predicted: {missing} [MASK] past --seq-length {args.seq_length})\n")
                if answers[n] is not None:
                    out.write(f"Correct answer: {tool.dictionary[answers[n]]}\n")
                out.write("\n")
    print(f"{len(lines)} lines, {masks_done} masks predicted ({sum(a is not None for a in answers)} placed at "
          f"random), {cut} lines cut to --seq-length, {lost} masks lost to the cut; wrote {args.output_path}",
          file=sys.stderr)
    return masks_done


if __name__ == "__main__":
    run_cli(main)
