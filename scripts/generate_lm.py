#!/usr/bin/env python
"""Continue texts with a left-to-right language model, as UER-py's ``scripts/generate_lm.py``.

    python scripts/generate_lm.py --load-model-path checkpoints/checkpoint_best.pt --vocab-path vocab.txt \\
        --test-path beginnings.txt --prediction-path generated.txt --seq-length 128 --top-k 70 --seed 7

Each line of ``--test-path`` is a beginning; it is read as ``[CLS]`` + its tokens (as UER-py does) and
extended one token at a time until ``--seq-length`` tokens in all or the end-of-sequence token
(``[SEP]``/``</s>``; ``--no-stop-at-eos`` keeps going). Each step samples from the model's next-token
distribution divided by ``--temperature`` and cut to the ``--top-k`` most probable tokens and to the
``--top-p`` nucleus (0 turns either off); ``--greedy`` takes the most probable token instead. The same
``--seed`` gives the same output. The output has one line per input line: the beginning and its
continuation as text (``--tokens`` writes space-separated tokens instead).

Models: ``uer`` with ``--target lm`` (gpt, lstm, gru, rnn, cnn, gatedcnn encoders) and causal
``bert_plugin`` models.
"""
import argparse
import sys

import torch
from tqdm import tqdm

from fairseq_plugins.generation import SamplingConfig, generate
from fairseq_plugins.tool_model import add_model_args, model_from_args, read_lines, run_cli


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_args(parser)
    parser.add_argument("--test-path", required=True, help="beginnings, one a line")
    parser.add_argument("--prediction-path", required=True)
    parser.add_argument("--seq-length", type=int, default=128, help="tokens in all, [CLS] and beginning included")
    parser.add_argument("--top-k", type=int, default=70, help="sample among the k most probable (0: all)")
    parser.add_argument("--top-p", type=float, default=0.0, help="sample within the nucleus of mass p (0: off)")
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--greedy", action="store_true", help="always the most probable token (no sampling)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-stop-at-eos", action="store_true", help="do not stop at the end-of-sequence token")
    parser.add_argument("--tokens", action="store_true", help="write tokens, not detokenized text")
    args = parser.parse_args(argv)
    sampling = SamplingConfig(greedy=args.greedy, top_k=args.top_k, top_p=args.top_p, temperature=args.temperature)
    sampling.check()

    tool = model_from_args(args)
    prompts = read_lines(args.test_path)
    seqs, cut = tool.encode(prompts, args.seq_length, sep=False)
    generator = torch.Generator(device=tool.device).manual_seed(args.seed)
    stop = () if args.no_stop_at_eos else (tool.dictionary.eos(),)
    outputs, new_tokens = [], 0

    def step(tokens):
        return tool.next_token_logits(tokens, tool.segments(tokens))

    with open(args.prediction_path, "w", encoding="utf-8") as out:
        for seq in tqdm(seqs, desc="generate", unit="text", file=sys.stderr, disable=None):
            ids = generate(step, seq, args.seq_length, sampling, generator, stop, tool.device)
            new_tokens += len(ids) - len(seq)
            outputs.append(ids)
            text = " ".join(tool.tokens(ids[1:])) if args.tokens else tool.detokenize(ids)
            out.write(text + "\n")
    print(f"{len(prompts)} beginnings ({cut} cut to --seq-length), {new_tokens} tokens generated; "
          f"wrote {args.prediction_path}", file=sys.stderr)
    return outputs


if __name__ == "__main__":
    run_cli(main)
