#!/usr/bin/env python3
"""UER-py's preprocess.py for fairseq: a corpus -> binarized instances for ``--task uer_pretrain``.

    python scripts/preprocess_corpus.py --corpus-path corpora/book_review_bert.txt \\
        --vocab-path models/google_zh_vocab.txt --dest-dir data-bin/book_review_bert \\
        --processes-num 8 --target bert

writes ``train.*`` (``--valid-corpus-path`` adds ``valid.*``), ``dict.txt`` and ``uer_data.json``
into ``--dest-dir``. Masking is static (``--dup-factor`` differently masked copies) unless
``--dynamic-masking``, which leaves it to training time (RoBERTa). ``--span-masking`` and
``--whole-word-masking`` (jieba words for Chinese) apply to static masking here; with dynamic
masking pass them to ``fairseq-train`` instead (``--whole-word-masking`` is needed here too, to
store the word boundaries).
"""
import argparse
import logging
import os
import sys
import time

from fairseq_plugins.data.uer_corpus import MASKED_TARGETS, PreprocessOptions, binarize_corpus, write_meta
from fairseq_plugins.data.uer_instances import InstanceConfig
from fairseq_plugins.data.uer_masking import MaskingConfig
from fairseq_plugins.data.vocab_dictionary import read_vocab
from fairseq_plugins.errors import InputError
from fairseq_plugins.tokenization import build_tokenizer

TARGETS = ("bert", "albert", "mlm", "lm", "bilm", "cls")
logger = logging.getLogger("preprocess_corpus")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus-path", required=True)
    p.add_argument("--valid-corpus-path", help="optional held-out corpus, written as the valid split")
    p.add_argument("--vocab-path", help="vocab.txt (bert/char/space) or a sentencepiece .model")
    p.add_argument("--spm-model-path", help="sentencepiece model (implies --tokenizer sentencepiece)")
    p.add_argument("--dest-dir", required=True)
    p.add_argument("--tokenizer", choices=("bert", "char", "space", "sentencepiece"), default="bert")
    p.add_argument("--target", choices=TARGETS, default="bert")
    p.add_argument("--processes-num", type=int, default=1)
    p.add_argument("--docs-buffer-size", type=int, default=100000, help="documents held in memory at once")
    p.add_argument("--seq-length", type=int, default=128)
    p.add_argument("--dup-factor", type=int, default=5, help="differently masked copies (static masking)")
    p.add_argument("--short-seq-prob", type=float, default=0.1, help="bert/albert: chance of a shorter pair")
    p.add_argument("--full-sentences", action="store_true", help="mlm: instances span document boundaries")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--dynamic-masking", action="store_true", help="mask at training time instead")
    p.add_argument("--span-masking", action="store_true")
    p.add_argument("--span-geo-prob", type=float, default=0.2)
    p.add_argument("--span-max-length", type=int, default=10)
    p.add_argument("--whole-word-masking", action="store_true")
    p.add_argument("--segmenter", choices=("jieba", "tokenizer"), default="jieba",
                   help="whole words from jieba (Chinese) or from the tokenizer's word pieces (##, \u2581)")
    args = p.parse_args(argv)
    if args.spm_model_path:
        args.tokenizer = "sentencepiece"
    if not args.vocab_path and not args.spm_model_path:
        p.error("give --vocab-path or --spm-model-path")
    if args.dynamic_masking and args.dup_factor != 1:
        logger.info("--dynamic-masking: --dup-factor %d -> 1 (each epoch masks anew)", args.dup_factor)
        args.dup_factor = 1
    return args


def check_vocab(path, dictionary):
    """UER's instances need [CLS], [SEP], [PAD] and, for masked targets, [MASK] in the vocabulary itself."""
    tokens, _ = read_vocab(path)
    missing = [name for name, index in (("[CLS]", dictionary.bos()), ("[SEP]", dictionary.eos()),
                                        ("[PAD]", dictionary.pad())) if index >= len(tokens)]
    if not dictionary.has_mask():
        missing.append("[MASK]")
    if missing:
        raise InputError(path, f"the vocabulary lacks {', '.join(missing)} (or <s>, </s>, <pad>, <mask>)")


def main(argv=None):
    args = parse_args(argv)
    vocab = args.vocab_path or args.spm_model_path
    tokenizer = build_tokenizer(args.tokenizer, vocab, spm_model_path=args.spm_model_path
                                if args.vocab_path and args.spm_model_path else None)
    d = tokenizer.dictionary
    check_vocab(vocab, d)
    masking = None
    if args.target in MASKED_TARGETS and not args.dynamic_masking:
        masking = MaskingConfig(mask_idx=d.mask(), pad_idx=d.pad(), special_ids=(d.bos(), d.eos(), d.pad(), d.mask()),
                                vocab_size=len(d), span_masking=args.span_masking, span_geo_prob=args.span_geo_prob,
                                span_max_length=args.span_max_length)
    options = PreprocessOptions(target=args.target, seq_length=args.seq_length, dup_factor=args.dup_factor,
                                short_seq_prob=args.short_seq_prob, full_sentences=args.full_sentences, seed=args.seed,
                                whole_word_masking=args.whole_word_masking, segmenter=args.segmenter, masking=masking)
    instance_cfg = InstanceConfig(target=args.target, seq_length=args.seq_length, cls_idx=d.bos(), sep_idx=d.eos(),
                                  short_seq_prob=args.short_seq_prob, full_sentences=args.full_sentences,
                                  masking=masking)
    os.makedirs(args.dest_dir, exist_ok=True)
    splits, labels_num = {}, 0
    for split, path in (("train", args.corpus_path), ("valid", args.valid_corpus_path)):
        if path is None:
            continue
        start = time.perf_counter()
        stats, max_label = binarize_corpus(path, os.path.join(args.dest_dir, split), tokenizer, args.tokenizer,
                                           options, instance_cfg, args.processes_num, args.docs_buffer_size)
        labels_num = max(labels_num, max_label + 1)
        splits[split] = stats
        logger.info("%s: %d documents (%d without known tokens, skipped), %d instances, %d tokens in %.1fs",
                    split, stats.documents, stats.skipped, stats.instances, stats.tokens,
                    time.perf_counter() - start)
    d.save(os.path.join(args.dest_dir, "dict.txt"))
    return write_meta(args.dest_dir, options, splits, labels_num if args.target == "cls" else 0)


if __name__ == "__main__":
    logging.basicConfig(format="%(asctime)s | %(levelname)s | %(name)s | %(message)s", level=logging.INFO)
    try:
        main()
    except InputError as e:
        sys.exit(f"error: {e}")
