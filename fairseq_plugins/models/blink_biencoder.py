"""BLINK's biencoder: a mention tower and an entity tower whose dot product scores a pair.

Each tower is the shared encoder core (:class:`BertPluginEncoder`) read at ``[CLS]``
(BLINK's Zeshel recipe), through BERT's pooler, or as the mean of its non-padding states
(what sentence-transformers encoders such as all-MiniLM-L6-v2 were trained to give, so their
untrained retrieval is meaningful), optionally projected by a linear layer (BLINK's
``--add_linear``) and L2-normalized (``--normalize``: cosine scores; with title-only entities in
a KB, raw dot products of mean-pooled vectors favour short names). The towers are separate by
default, as in BLINK, or one shared encoder. ``--pretrained-encoder converted/model.pt`` starts both towers from any checkpoint
``scripts/convert_hf_to_fairseq.py`` wrote (see :mod:`.pretrained_encoder`).
"""
import re
from dataclasses import dataclass, field
from typing import Optional

import torch
import torch.nn.functional as F
from fairseq.dataclass import ChoiceEnum
from fairseq.models import BaseFairseqModel, register_model
from torch import nn

from .bert_plugin import BertPluginEncoder
from .parameter_freezing import freeze_all_but
from .pretrained_encoder import PretrainedEncoderConfig, load_encoder_weights, register_sizes

REPRESENTATIONS = ChoiceEnum(["cls", "pooled", "mean"])
# BLINK's --type_optimization: how many of the last transformer layers train beside the output layer
# (None: all of them); embeddings and the pooler train only with "all".
TOP_LAYERS = {"all_encoder_layers": None, "top4_layers": 4, "top_layer": 1, "additional": 0}
TYPE_OPTIMIZATION = ChoiceEnum(["all", *TOP_LAYERS])
_LAYER = re.compile(r"(?:^|\.)sentence_encoder\.layers\.(\d+)\.")
_OUTPUT_LAYER = re.compile(r"(?:^|\.)projection\.")


@dataclass
class BlinkEncoderConfig(PretrainedEncoderConfig):
    representation: REPRESENTATIONS = field(
        default="cls", metadata={"help": "cls: last hidden state at [CLS]; pooled: BERT's pooler output; "
                                         "mean: average of the non-padding last hidden states (sentence-transformers)"})
    type_optimization: TYPE_OPTIMIZATION = field(
        default="all", metadata={"help": "parameters trained (BLINK's --type_optimization): all; all_encoder_layers: "
                                         "the transformer layers and the output layer (--projection-dim, the "
                                         "crossencoder's score), embeddings and pooler frozen, as in BLINK's "
                                         "recipes; top4_layers / top_layer: the last 4 / last layer and the output "
                                         "layer; additional: the output layer only"})


@dataclass
class BlinkBiencoderConfig(BlinkEncoderConfig):
    projection_dim: Optional[int] = field(
        default=None, metadata={"help": "add dropout + a linear layer to this size on each tower (BLINK "
                                        "--add_linear); default: none"})
    shared_encoders: bool = field(default=False, metadata={"help": "one encoder for mentions and entities"})
    normalize: bool = field(
        default=False, metadata={"help": "L2-normalize both towers' outputs, so that the score is a cosine (the "
                                         "similarity sentence-transformers encoders were trained for)"})
    similarity_scale: float = field(
        default=20.0, metadata={"help": "with --normalize, mention vectors are multiplied by this: the inverse "
                                        "temperature of the in-batch softmax; rankings do not change"})


def freeze_by_type_optimization(model: nn.Module, choice: str) -> None:
    """Leave only the parameters ``--type-optimization`` names trainable (nothing to do for "all")."""
    if choice == "all":
        return
    layers = [int(m.group(1)) for m in map(_LAYER.search, (n for n, _ in model.named_parameters())) if m]
    top = TOP_LAYERS[choice]
    first = 0 if top is None else max(layers, default=-1) + 1 - top

    def keep(name):
        layer = _LAYER.search(name)
        return bool(_OUTPUT_LAYER.search(name)) or (layer is not None and int(layer.group(1)) >= first)

    freeze_all_but(model, keep, f"--type-optimization {choice}", field="type_optimization")


class BlinkTower(nn.Module):
    """Encoder core -> [CLS] or pooled vector -> optional dropout + linear."""

    def __init__(self, cfg: BlinkEncoderConfig, dictionary, output_dim: Optional[int]):
        super().__init__()
        self.encoder = BertPluginEncoder(cfg, dictionary, with_lm_head=False)
        self.representation = cfg.representation
        self.pooled = cfg.representation == "pooled"
        self.padding_idx = dictionary.pad()
        if self.pooled and self.encoder.pooler is None:
            raise ValueError("--representation pooled needs BERT's pooler (the encoder was built with --no-pooler)")
        self.dropout = nn.Dropout(cfg.pooler_dropout) if output_dim else None
        self.projection = nn.Linear(cfg.encoder_embed_dim, output_dim) if output_dim else None

    def forward(self, tokens: torch.Tensor, segments: Optional[torch.Tensor] = None) -> torch.Tensor:
        features, _ = self.encoder(tokens, features_only=True, segment_labels=segments)
        if self.representation == "mean":
            keep = tokens.ne(self.padding_idx).unsqueeze(-1).to(features.dtype)
            x = (features * keep).sum(1) / keep.sum(1).clamp(min=1)
        else:
            x = self.encoder.pooled_output(features) if self.pooled else features[:, 0]
        if self.projection is not None:
            x = self.projection(self.dropout(x))
        return x


@register_model("blink_biencoder", dataclass=BlinkBiencoderConfig)
class BlinkBiencoderModel(BaseFairseqModel):
    def __init__(self, cfg: BlinkBiencoderConfig, context_tower: BlinkTower, candidate_tower: BlinkTower):
        super().__init__()
        self.cfg = cfg
        self.context_tower = context_tower
        self.candidate_tower = candidate_tower

    @classmethod
    def build_model(cls, cfg, task):
        context = BlinkTower(cfg, task.source_dictionary, cfg.projection_dim)
        candidate = context if cfg.shared_encoders else BlinkTower(cfg, task.source_dictionary, cfg.projection_dim)
        model = cls(cfg, context, candidate)
        freeze_by_type_optimization(model, cfg.type_optimization)
        return model

    def load_pretrained_encoder(self, weights):
        load_encoder_weights(self.context_tower.encoder, weights)
        if self.candidate_tower is not self.context_tower:
            load_encoder_weights(self.candidate_tower.encoder, weights)

    def encode_contexts(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.context_tower(tokens)
        if self.cfg.normalize:
            x = F.normalize(x.float(), dim=-1).to(x.dtype) * self.cfg.similarity_scale
        return x

    def encode_candidates(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.candidate_tower(tokens)
        return F.normalize(x.float(), dim=-1).to(x.dtype) if self.cfg.normalize else x

    def forward(self, context_tokens: torch.Tensor, candidate_tokens: torch.Tensor):
        """(mention embeddings B x D, candidate embeddings C x D); the score is their dot product."""
        return self.encode_contexts(context_tokens), self.encode_candidates(candidate_tokens)

    def max_positions(self):
        return self.cfg.max_positions


register_sizes("blink_biencoder")
