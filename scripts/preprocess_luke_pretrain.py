#!/usr/bin/env python
"""Wikipedia XML dump -> binarized LUKE pre-training data (words + hyperlink entity spans).

    python scripts/preprocess_luke_pretrain.py --dump enwiki-pages-articles.xml.bz2 --model-dir converted/ \
        --entity-vocab entity_vocab.jsonl --out-dir luke-data/ --workers 8

``--model-dir`` is a converted model folder (dict.txt and tokenizer files: vocab.txt, or vocab.json +
merges.txt). Without ``--entity-vocab`` the vocabulary is built from the same dump first, as
``scripts/build_entity_vocab.py`` does. Writes ``<split>.{words,wordstarts,entities,spans}.{bin,idx}``
for train / valid (/ test), dict.txt, the tokenizer files, entity_vocab.jsonl and luke_pretrain.json,
and prints what was kept and everything left out.
"""
import argparse
import logging
import sys

from fairseq_plugins.data.luke_entity_vocab import EntityVocab, build_entity_vocab
from fairseq_plugins.data.luke_pretrain_corpus import PretrainOptions, build_pretraining_data
from fairseq_plugins.errors import InputError


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dump", required=True, help="MediaWiki XML export, plain or .bz2")
    parser.add_argument("--model-dir", required=True, help="converted model folder: dict.txt + tokenizer files")
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--entity-vocab", help="entity vocabulary (.jsonl/.tsv/.json); default: built from the dump")
    parser.add_argument("--entity-vocab-size", type=int, default=500_000, help="when building: entities kept")
    parser.add_argument("--min-count", type=int, default=1, help="when building: fewest links a kept entity has")
    defaults = PretrainOptions()
    parser.add_argument("--max-seq-length", type=int, default=defaults.max_seq_length,
                        help="tokens per instance with <s> and </s>")
    parser.add_argument("--max-entity-length", type=int, default=defaults.max_entity_length)
    parser.add_argument("--max-mention-length", type=int, default=defaults.max_mention_length,
                        help="entity positions per mention (longer mentions are counted here, cut at training)")
    parser.add_argument("--min-sentence-length", type=int, default=defaults.min_sentence_length)
    parser.add_argument("--include-unk-entities", action="store_true",
                        help="links to titles outside the vocabulary become [UNK] entities (LUKE's flag)")
    parser.add_argument("--include-sentences-without-entities", action="store_true")
    parser.add_argument("--valid-ratio", type=float, default=defaults.valid_ratio, help="share of held-out articles")
    parser.add_argument("--test-ratio", type=float, default=defaults.test_ratio)
    parser.add_argument("--max-articles", type=int, help="stop after this many articles")
    parser.add_argument("--workers", type=int, default=1, help="processes parsing and tokenizing articles")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    options = PretrainOptions(args.max_seq_length, args.max_entity_length, args.max_mention_length,
                              args.min_sentence_length, args.include_unk_entities,
                              args.include_sentences_without_entities, args.valid_ratio, args.test_ratio)
    try:
        if args.entity_vocab:
            vocab = EntityVocab.load(args.entity_vocab)
        else:
            vocab, vocab_stats = build_entity_vocab(args.dump, args.entity_vocab_size, args.min_count, args.workers)
            print(f"entity vocabulary: {len(vocab)} entities from {vocab_stats.links} links "
                  f"({vocab_stats.below_min_count} targets below --min-count, {vocab_stats.beyond_max_size} beyond "
                  f"--entity-vocab-size)")
        stats = build_pretraining_data(args.dump, args.model_dir, vocab, args.out_dir, options, args.workers,
                                       args.max_articles, progress=not args.no_progress)
    except InputError as e:
        sys.exit(f"error: {e}")
    print(f"wrote {args.out_dir} ({stats.articles} articles, {len(vocab)} entities in the vocabulary)")
    print(stats.table())


if __name__ == "__main__":
    main()
