#!/usr/bin/env python
"""Write a checkpoint's word-embedding table with its vocabulary, as UER-py's ``scripts/extract_embeddings.py``.

    python scripts/extract_embeddings.py --load-model-path checkpoints/checkpoint_best.pt --vocab-path vocab.txt \\
        --word-embedding-path embeddings.txt

Text output is word2vec's text format (UER-py's): a ``rows dims`` header, then ``token v1 ... vD`` per
vocabulary entry, in id order. ``.npy`` or ``.pt`` output writes the V x E matrix, with the tokens in id
order beside it in ``<output>.vocab.txt``. (ALBERT-style models give the factorized E-wide table.)
"""
import argparse
import sys

from fairseq_plugins.tool_model import add_model_args, model_from_args, run_cli, save_matrix


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_args(parser, tokenizer=False)
    parser.add_argument("--word-embedding-path", "--output-path", dest="output_path", required=True,
                        help="text (word2vec format), .npy or .pt")
    args = parser.parse_args(argv)

    tool = model_from_args(args)
    table = tool.word_embedding()
    symbols = tool.dictionary.symbols
    save_matrix(table, args.output_path, row_names=symbols)
    if args.output_path.endswith((".npy", ".pt")):
        with open(args.output_path + ".vocab.txt", "w", encoding="utf-8") as f:
            f.writelines(token + "\n" for token in symbols)
    print(f"wrote {table.size(0)} x {table.size(1)} embeddings to {args.output_path}", file=sys.stderr)
    return table


if __name__ == "__main__":
    run_cli(main)
