"""``lear_ner``: LEAR's span-extraction NER from jsonl or BIO tsv files, tokenized on the fly.

``DATA`` holds ``{split}.json`` (or ``.jsonl``, LEAR's format) or ``{split}.tsv`` (BIO), with
``label_map.json`` and ``label_annotation.txt`` beside them unless given elsewhere. Texts are
tokenized with ``--vocab`` (the vocab.txt a converted encoder came with), so no binarization
step is needed; the label descriptions become the model's ``label_tokens``.
"""
import logging
import os
from dataclasses import dataclass, field
from typing import Optional

from fairseq.dataclass import ChoiceEnum, FairseqDataclass
from fairseq.tasks import register_task

from ..data.lear_dataset import LearNerDataset
from ..data.lear_formats import read_examples, read_label_schema
from ..data.lear_inputs import encode_label_annotations, featurize
from ..errors import InputError
from ..models.pretrained_encoder import build_with_pretrained_encoder
from ..optim.lear_adam import lr_scales
from ..tokenization import build_tokenizer
from ._single_dictionary import SingleDictionaryTask

logger = logging.getLogger(__name__)

SPLIT_EXTENSIONS = (".json", ".jsonl", ".tsv")


@dataclass
class LearNerConfig(FairseqDataclass):
    data: str = field(default="", metadata={"help": "folder of {split}.json / .jsonl / .tsv files"})
    vocab: str = field(default="", metadata={"help": "vocab.txt of the encoder (bert), or vocab.json for bytebpe"})
    merges: Optional[str] = field(default=None, metadata={"help": "merges.txt, for --tokenizer-kind bytebpe"})
    tokenizer_kind: ChoiceEnum(["bert", "bytebpe"]) = field(default="bert", metadata={"help": "tokenizer of the vocabulary"})
    label_map: Optional[str] = field(default=None, metadata={"help": "label_map.json; default DATA/label_map.json"})
    label_annotation: Optional[str] = field(
        default=None, metadata={"help": "one description per label, in id order; default DATA/label_annotation.txt"})
    max_length: int = field(default=128, metadata={"help": "tokens per window incl. [CLS] and [SEP] "
                                                           "(LEAR --max_seq_length); longer texts are windowed"})


@register_task("lear_ner", dataclass=LearNerConfig)
class LearNerTask(SingleDictionaryTask):
    def __init__(self, cfg: LearNerConfig, tokenizer, schema):
        super().__init__(cfg)
        self.tokenizer = tokenizer
        self.dictionary = tokenizer.dictionary
        self.schema = schema
        self.label_tokens = encode_label_annotations(tokenizer, schema.annotations, cfg.max_length)
        self.windows = {}
        self.examples = {}
        self._lr_scales_checked = False

    @classmethod
    def setup_task(cls, cfg: LearNerConfig, **kwargs):
        if not cfg.vocab:
            raise InputError(None, "the encoder's vocabulary file is required", field="--vocab")
        schema = read_label_schema(cfg.label_map or os.path.join(cfg.data, "label_map.json"),
                                   cfg.label_annotation or os.path.join(cfg.data, "label_annotation.txt"))
        tokenizer = build_tokenizer(cfg.tokenizer_kind, cfg.vocab, merges_path=cfg.merges)
        logger.info("labels: %s", ", ".join(schema.labels))
        return cls(cfg, tokenizer, schema)

    def build_model(self, cfg, from_checkpoint=False):
        return build_with_pretrained_encoder(self, cfg, from_checkpoint)

    def split_path(self, split: str) -> str:
        for ext in SPLIT_EXTENSIONS:
            path = os.path.join(self.cfg.data, split + ext)
            if os.path.isfile(path):
                return path
        raise InputError(os.path.join(self.cfg.data, split), f"no {' / '.join(SPLIT_EXTENSIONS)} file for split "
                                                             f"{split!r}")

    def load_dataset(self, split, combine=False, epoch=1, **kwargs):
        self.load_examples(split, read_examples(self.split_path(split), self.schema.label_to_id),
                           self.split_path(split))

    def load_examples(self, split, examples, name):
        """Featurize ``examples`` as ``split`` (the predict command passes its own)."""
        windows, stats = featurize(examples, self.tokenizer, self.schema.label_to_id, self.cfg.max_length)
        logger.info(stats.report(name))
        self.examples[split], self.windows[split] = examples, windows
        self.datasets[split] = LearNerDataset(windows, len(self.schema.labels), self.source_dictionary.pad())
        return self.datasets[split]

    def optimizer_step(self, optimizer, model, update_num):
        """Refuse to train head parameters at the wrong rate silently."""
        if not self._lr_scales_checked:
            wanted = {getattr(p, "lr_scale", 1.0) for p in model.parameters()}
            if not wanted <= lr_scales(optimizer):
                raise InputError(None, "--task-layer-lr needs --optimizer lear_adam, with unflattened parameters "
                                       "under fp16 (--memory-efficient-fp16 or --amp); this optimizer would train "
                                       "the head at the encoder's learning rate", field="--optimizer")
            self._lr_scales_checked = True
        super().optimizer_step(optimizer, model, update_num)

    def max_positions(self):
        return self.cfg.max_length
