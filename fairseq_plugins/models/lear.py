"""LEAR (Yang et al., EMNLP 2021): span extraction with label knowledge, for flat and nested NER.

One encoder (:class:`BertPluginEncoder`) reads the text and, in the same forward pass, every
label's natural-language description, so gradients reach the encoder through both. The label
fusion (``--fusion attention``, the paper's, or ``cosine``, LEAR's default code path) gives one
representation per token and label; per-label sigmoid classifiers score starts and ends, and in
``--nested`` mode a span classifier scores (start, end) pairs up to ``--max-span-length``.

Head parameters carry ``lr_scale = --task-layer-lr``; ``--optimizer lear_adam`` trains them at
that multiple of ``--lr``. ``--pretrained-encoder converted/model.pt`` starts the encoder from a
checkpoint written by ``scripts/convert_hf_to_fairseq.py`` (see :mod:`.pretrained_encoder`).
"""
from dataclasses import dataclass, field

import torch
from fairseq.dataclass import ChoiceEnum
from fairseq.models import BaseFairseqModel, register_model
from torch import nn

from ..errors import InputError
from ..modules.label_fusion import LabelAttentionFusion, LabelCosineFusion, PerLabelClassifier, SpanClassifier
from .bert_plugin import BertPluginEncoder
from .pretrained_encoder import PretrainedEncoderConfig, load_encoder_weights, register_sizes

FUSIONS = ChoiceEnum(["attention", "cosine"])


@dataclass
class LearConfig(PretrainedEncoderConfig):
    fusion: FUSIONS = field(
        default="attention", metadata={"help": "attention: the paper's semantics-guided attention over label "
                                               "tokens; cosine: LEAR's default code path (cosine-weighted pooled "
                                               "label vector, uses the pooler)"})
    nested: bool = field(default=False, metadata={"help": "add the span classifier for nested entities"})
    max_span_length: int = field(
        default=16, metadata={"help": "nested mode: longest span (in tokens) the span classifier scores"})
    span_chunk_widths: int = field(
        default=4, metadata={"help": "nested mode: span widths scored per recomputed chunk (memory bound)"})
    task_layer_lr: float = field(
        default=1.0, metadata={"help": "learning-rate multiplier of the fusion and classifier layers "
                                       "(LEAR --task_layer_lr; needs --optimizer lear_adam)"})
    head_dropout: float = field(default=0.1, metadata={"help": "dropout on text states and span features"})


@register_model("lear", dataclass=LearConfig)
class LearModel(BaseFairseqModel):
    def __init__(self, cfg: LearConfig, encoder: BertPluginEncoder, label_tokens: torch.Tensor):
        super().__init__()
        self.cfg = cfg
        self.encoder = encoder
        hidden = cfg.encoder_embed_dim
        num_labels = label_tokens.size(0)
        self.register_buffer("label_tokens", label_tokens)
        self.dropout = nn.Dropout(cfg.head_dropout)
        self.fusion = LabelAttentionFusion(hidden) if cfg.fusion == "attention" else LabelCosineFusion(hidden)
        self.start_classifier = PerLabelClassifier(num_labels, hidden)
        self.end_classifier = PerLabelClassifier(num_labels, hidden)
        self.span_classifier = (SpanClassifier(num_labels, hidden, cfg.head_dropout, cfg.max_span_length,
                                               cfg.span_chunk_widths) if cfg.nested else None)
        for head in (self.fusion, self.start_classifier, self.end_classifier, self.span_classifier):
            for p in head.parameters() if head is not None else ():
                p.lr_scale = cfg.task_layer_lr

    @classmethod
    def build_model(cls, cfg, task):
        encoder = BertPluginEncoder(cfg, task.source_dictionary, with_lm_head=False)
        if cfg.fusion == "attention":
            encoder.pooler = None  # only the cosine fusion reads pooled label vectors
        elif encoder.pooler is None:
            raise InputError(None, "--fusion cosine reads BERT's pooled output; the encoder has --no-pooler",
                             field="fusion")
        return cls(cfg, encoder, task.label_tokens)

    def load_pretrained_encoder(self, weights):
        load_encoder_weights(self.encoder, weights)

    def forward(self, src_tokens: torch.Tensor, **unused):
        """Logits: ``start``/``end`` [B, T, C] and, nested, ``span`` [B, W, T, C] (span (i, i+w) at [:, w, i])."""
        text, _ = self.encoder(src_tokens, features_only=True)
        labels, _ = self.encoder(self.label_tokens, features_only=True)
        text = self.dropout(text)
        if self.cfg.fusion == "attention":
            fused = self.fusion(text, labels, self.label_tokens.ne(self.encoder.dictionary.pad()))
        else:
            fused = self.fusion(text, self.encoder.pooled_output(labels))
        out = {"start": self.start_classifier(fused), "end": self.end_classifier(fused), "span": None}
        if self.span_classifier is not None:
            out["span"] = self.span_classifier(fused)
        return out

    def max_positions(self):
        return self.cfg.max_positions


register_sizes("lear")
