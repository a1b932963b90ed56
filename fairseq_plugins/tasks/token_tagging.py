"""``token_tagging``: BIO sequence tagging (UER-py's ``run_ner.py``; the BIO baseline of LEAR and LUKE).

``DATA`` holds one file per split in one of three formats (:mod:`..data.tagging`), chosen by
``--data-format`` or the extension: UER's NER tsv (``{train,dev,test}.tsv`` with
``label2id.json``), CoNLL files (``{train,valid,test}.txt``, ``--tagging-scheme iob1|iob2``) or
LEAR's span jsonl (``{train,dev,test}.json`` with ``label_map.json``; nested entities flattened
to the outermost). fairseq's ``valid`` split reads ``valid.*`` or else ``dev.*``. Texts are
tokenized on the fly with ``--vocab``; the model (``token_tagger`` or ``uer_tagger``) tags each
word's first sub-token. The tag inventory is saved in the checkpoint (``--tags``), so
``scripts/predict_tags.py`` needs no label file.
"""
import logging
import os
from dataclasses import dataclass, field
from typing import List, Optional, Sequence

import torch
from fairseq.dataclass import ChoiceEnum, FairseqDataclass
from fairseq.tasks import register_task

from ..data.conll import read_conll
from ..data.lear_formats import read_label_map
from ..data.tagging import EXTENSIONS, FORMATS, ReadStats, TaggedText, bio_tags, format_of, read_tagged
from ..data.tagging_inputs import TaggingDataset, assemble, featurize
from ..errors import InputError
from ..models.pretrained_encoder import build_with_pretrained_encoder
from ..models.uer_pretrained import build_from_uer_pretrained
from ..tokenization import build_tokenizer
from ._single_dictionary import SingleDictionaryTask

logger = logging.getLogger(__name__)

LABEL_FILES = {"uer_tsv": "label2id.json", "lear_jsonl": "label_map.json"}


@dataclass
class TokenTaggingConfig(FairseqDataclass):
    data: str = field(default="", metadata={"help": "folder of {train,valid|dev,test} files"})
    data_format: ChoiceEnum(["auto", *FORMATS]) = field(
        default="auto", metadata={"help": "uer_tsv, conll or lear_jsonl; auto: by the train file's extension"})
    vocab: str = field(default="", metadata={"help": "vocabulary of the encoder (vocab.txt; vocab.json for "
                                                     "bytebpe; the .model for sentencepiece)"})
    merges: Optional[str] = field(default=None, metadata={"help": "merges.txt, for --tokenizer-kind bytebpe"})
    tokenizer_kind: ChoiceEnum(["bert", "bytebpe", "sentencepiece", "char", "space"]) = field(
        default="bert", metadata={"help": "tokenizer of the vocabulary (UER's --tokenizer)"})
    label2id: Optional[str] = field(default=None, metadata={
        "help": "tag inventory: UER's label2id.json (tags -> ids), or LEAR's label_map.json (entity types); "
                "default DATA/label2id.json or DATA/label_map.json by format"})
    entity_types: Optional[str] = field(default=None, metadata={
        "help": "CoNLL: comma-separated entity types (default: the sorted types of the train file)"})
    tagging_scheme: ChoiceEnum(["iob1", "iob2"]) = field(
        default="iob2", metadata={"help": "CoNLL files' scheme (iob1: the original eng.* files); tags become IOB2"})
    max_length: int = field(default=128, metadata={"help": "tokens per window incl. [CLS]/[SEP] (UER "
                                                           "--seq_length); longer texts are windowed, not cut"})
    tags: Optional[str] = field(default=None, metadata={
        "help": "space-separated tag inventory in id order (set from the label file and saved in checkpoints)"})
    pretrained_model_path: Optional[str] = field(default=None, metadata={
        "help": "uer_tagger: a checkpoint of UER pre-training (uer_pretrain, or a converted UER-py .bin) whose "
                "embedding and encoder start the tagger; its architecture replaces the size flags"})


@register_task("token_tagging", dataclass=TokenTaggingConfig)
class TokenTaggingTask(SingleDictionaryTask):
    def __init__(self, cfg: TokenTaggingConfig, tokenizer, tags: List[str]):
        super().__init__(cfg)
        self.tokenizer = tokenizer
        self.dictionary = tokenizer.dictionary
        self.tags = tags
        self.tag_to_id = {t: i for i, t in enumerate(tags)}
        self.examples, self.windows = {}, {}

    @classmethod
    def setup_task(cls, cfg: TokenTaggingConfig, **kwargs):
        if not cfg.vocab:
            raise InputError(None, "the encoder's vocabulary file is required", field="--vocab")
        tokenizer = build_tokenizer(cfg.tokenizer_kind, cfg.vocab, merges_path=cfg.merges)
        if cfg.data_format == "auto":
            cfg.data_format = format_of(cls.find_split(cfg, "train")) if cfg.data else "uer_tsv"
        if not cfg.tags:
            cfg.tags = " ".join(cls.read_tags(cfg))
        tags = cfg.tags.split()
        if len(tags) < 2 or len(set(tags)) != len(tags):
            raise InputError(None, f"a tag inventory needs at least 2 distinct tags, got {tags}", field="--tags")
        logger.info("%s data, %d tags: %s", cfg.data_format, len(tags), " ".join(tags))
        return cls(cfg, tokenizer, tags)

    @staticmethod
    def read_tags(cfg) -> List[str]:
        """Tags from UER's label2id.json (as given), LEAR's label_map.json or CoNLL types (IOB2 of them)."""
        fmt = str(cfg.data_format)
        if fmt == "conll":
            if cfg.entity_types:
                return bio_tags([t.strip() for t in cfg.entity_types.split(",") if t.strip()])
            train = TokenTaggingTask.find_split(cfg, "train")
            return bio_tags(sorted({e[2] for d in read_conll(train, str(cfg.tagging_scheme))
                                    for s in d.sentences for e in s.entities}))
        path = cfg.label2id or os.path.join(cfg.data, LABEL_FILES[fmt])
        labels = read_label_map(path)
        if fmt == "lear_jsonl":
            return bio_tags(labels)
        if "O" not in labels:
            raise InputError(path, f"has no 'O' tag (tags: {', '.join(labels)})", field="O")
        return labels

    @staticmethod
    def find_split(cfg, split: str) -> str:
        names = [split] + (["dev"] if split == "valid" else [])
        fmt = str(cfg.data_format)
        exts = [e for e, f in EXTENSIONS.items() if fmt == "auto" or f == fmt]
        for name in names:
            for ext in exts:
                path = os.path.join(cfg.data, name + ext)
                if os.path.isfile(path):
                    return path
        raise InputError(os.path.join(cfg.data, split), f"no {'/'.join(n + e for n in names for e in exts)} file "
                                                        f"for split {split!r}")

    def build_model(self, cfg, from_checkpoint=False):
        if getattr(cfg, "pretrained_encoder", None):  # token_tagger only; uer_tagger has no such option
            return build_with_pretrained_encoder(self, cfg, from_checkpoint)
        return build_from_uer_pretrained(lambda c: super(TokenTaggingTask, self).build_model(c, from_checkpoint), cfg,
                                         self.cfg.pretrained_model_path, len(self.dictionary), from_checkpoint,
                                         "uer_tagger", "use --pretrained-encoder for token_tagger")

    def read(self, path, labels_required: bool = True) -> List[TaggedText]:
        stats = ReadStats()
        examples = read_tagged(path, str(self.cfg.data_format), self.tags, str(self.cfg.tagging_scheme),
                               labels_required, stats)
        logger.info(stats.report(path))
        return examples

    def load_dataset(self, split, epoch=1, combine=False, **kwargs):
        path = self.find_split(self.cfg, split)
        return self.load_examples(split, self.read(path), path)

    def load_examples(self, split, examples: Sequence[TaggedText], name: str):
        """Featurize ``examples`` as ``split`` (the prediction script passes its own file)."""
        windows, stats = featurize(examples, self.tokenizer, self.tag_to_id, self.cfg.max_length)
        logger.info(stats.report(name))
        self.examples[split], self.windows[split] = examples, windows
        self.datasets[split] = TaggingDataset(windows, self.dictionary.pad())
        return self.datasets[split]

    @torch.no_grad()
    def predict(self, model, split, batch_size: int = 32, progress=None) -> List[List[str]]:
        """One predicted tag per unit of every text of ``split`` (argmax at each first sub-token)."""
        dataset, device = self.datasets[split], next(model.parameters()).device
        per_window = []
        for lo in range(0, len(dataset), batch_size):
            sample = dataset.collater(list(range(lo, min(lo + batch_size, len(dataset)))))
            best = model(sample["net_input"]["src_tokens"].to(device)).argmax(-1).cpu()
            per_window += [[self.tags[i] for i in row] for row in best.tolist()]
            if progress is not None:
                progress(best.size(0))
        return assemble(self.examples[split], self.windows[split], per_window)

    def max_positions(self):
        return self.cfg.max_length
