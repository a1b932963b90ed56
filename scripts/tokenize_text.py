#!/usr/bin/env python3
"""Tokenize raw text for fairseq-preprocess while keeping the original vocabulary's ids.

Input: one sentence or document per line; blank lines are kept, since fairseq's
``--sample-break-mode complete_doc`` reads them as document boundaries. Output: the
same lines as space-joined tokens, plus a dict.txt whose ids are the vocabulary's own,
so a converted pretrained checkpoint keeps meaning the same tokens.

Step 1, tokenize each split (the dictionary is the same every time):

    python scripts/tokenize_text.py --tokenizer bert --vocab vocab.txt \\
        --input train.txt --output train.tok --dict-out dict.txt --workers 4
    python scripts/tokenize_text.py --tokenizer bert --vocab vocab.txt \\
        --input valid.txt --output valid.tok --dict-out dict.txt

Step 2, binarize with that dictionary:

    fairseq-preprocess --user-dir fairseq_plugins --task vocab_masked_lm --only-source \\
        --srcdict dict.txt --trainpref train.tok --validpref valid.tok \\
        --destdir data-bin --workers 2

Other vocabularies: ``--tokenizer sentencepiece --vocab spm.model``; ``--tokenizer bytebpe
--vocab encoder.json --merges vocab.bpe`` (GPT-2/RoBERTa; vocab.json + merges.txt also work);
``--tokenizer char|space --vocab vocab.txt`` (UER-py).
"""
import argparse
import contextlib
import sys

from tqdm import tqdm

from fairseq_plugins.errors import InputError
from fairseq_plugins.tokenization import KINDS, build_tokenizer, tokenize_corpus


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokenizer", required=True, choices=KINDS)
    parser.add_argument("--vocab", required=True,
                        help="vocab.txt (bert/char/space), spm .model (sentencepiece), "
                             "encoder.json/vocab.json (bytebpe); bert/char/space also read a dict.txt written here")
    parser.add_argument("--merges", help="bytebpe: vocab.bpe or merges.txt")
    parser.add_argument("--spm-model",
                        help="sentencepiece: the .model, when --vocab is a piece list to check against it")
    parser.add_argument("--lowercase", action=argparse.BooleanOptionalAction, default=None,
                        help="default: bert detects it from the vocabulary (lower-casing also strips accents); "
                             "the others keep case")
    parser.add_argument("--input", default="-", help="text file, or - for stdin")
    parser.add_argument("--output", default="-", help="tokenized file, or - for stdout")
    parser.add_argument("--dict-out", help="write the aligned dictionary here (fairseq-preprocess --srcdict)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--chunk-lines", type=int, default=2000, help="lines per unit of work")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    try:
        tokenizer = build_tokenizer(args.tokenizer, args.vocab, merges_path=args.merges,
                                    spm_model_path=args.spm_model, lowercase=args.lowercase)
        if args.dict_out:
            with open(args.dict_out, "w", encoding="utf-8") as f:
                tokenizer.dictionary.save(f)
        with contextlib.ExitStack() as stack:
            source = sys.stdin.buffer if args.input == "-" else stack.enter_context(open(args.input, "rb"))
            sink = sys.stdout if args.output == "-" else stack.enter_context(
                open(args.output, "w", encoding="utf-8", newline="\n"))
            bar = stack.enter_context(tqdm(unit=" lines", unit_scale=True, file=sys.stderr, disable=None))
            stats = tokenize_corpus(tokenizer, source, args.input, sink, workers=args.workers,
                                    chunk_lines=args.chunk_lines, progress=bar.update)
    except (InputError, OSError) as e:
        sys.exit(f"{sys.argv[0]}: error: {e}")
    share = stats.unknown / stats.tokens if stats.tokens else 0.0
    print(f"{stats.lines} lines ({stats.blank} blank) -> {stats.tokens} tokens, "
          f"{stats.unknown} unknown ({share:.3%})", file=sys.stderr)
    if stats.emptied:
        print(f"warning: {stats.emptied} non-blank lines gave no tokens; they are now blank, "
              "which fairseq reads as document boundaries", file=sys.stderr)


if __name__ == "__main__":
    main()
