"""BERT / RoBERTa / ALBERT / GPT-style encoders as one registered fairseq model family.

``bert_plugin`` and ``roberta_plugin`` are the same model (the shared encoder core with a
masked-LM head, an optional BERT pooler and fairseq's classification heads); archs fix
the sizes and the flavour. Subclassing ``RobertaModel`` keeps fairseq's classification-head
registry, checkpoint-head upgrades and ``masked_lm`` / ``sentence_prediction`` contracts.
"""

from dataclasses import dataclass, field
from typing import Optional

import torch
from fairseq import utils
from fairseq.dataclass import ChoiceEnum, FairseqDataclass
from fairseq.dataclass.utils import gen_parser_from_dataclass
from fairseq.models import FairseqEncoder, register_model, register_model_architecture
from fairseq.models.roberta import RobertaModel
from fairseq.modules.transformer_sentence_encoder import init_bert_params
from fairseq.utils import safe_getattr

from ..modules import MaskedLMHead, Pooler, TransformerEmbeddings, TransformerEncoderCore, TransformerLayer

ACTIVATIONS = ChoiceEnum(utils.get_available_activation_fns())


@dataclass
class BertPluginConfig(FairseqDataclass):
    encoder_layers: int = field(default=12, metadata={"help": "number of transformer layers"})
    encoder_embed_dim: int = field(default=768, metadata={"help": "hidden size of the encoder"})
    encoder_ffn_embed_dim: int = field(default=3072, metadata={"help": "feed-forward inner size"})
    encoder_attention_heads: int = field(default=12, metadata={"help": "attention heads per layer"})
    embedding_dim: Optional[int] = field(
        default=None, metadata={"help": "word-embedding size when factorized (ALBERT); default: hidden size"})
    encoder_layer_groups: Optional[int] = field(
        default=None, metadata={"help": "distinct parameter sets shared across layers (ALBERT: 1); "
                                        "default: every layer its own"})
    activation_fn: ACTIVATIONS = field(
        default="gelu", metadata={"help": "activation; gelu is the erf form (BERT), gelu_accurate the tanh "
                                          "form (GPT-2, ALBERT's gelu_new)"})
    dropout: float = field(default=0.1, metadata={"help": "dropout on embeddings and residual branches"})
    attention_dropout: float = field(default=0.1, metadata={"help": "dropout on attention probabilities"})
    activation_dropout: float = field(default=0.0, metadata={"help": "dropout after the FFN activation"})
    max_positions: int = field(default=512, metadata={"help": "number of learned positions"})
    num_segments: int = field(default=2, metadata={"help": "token-type (segment) vocabulary; 0 = none"})
    padding_offset_positions: bool = field(
        default=False, metadata={"help": "RoBERTa positions: count from padding index + 1, pads at padding index"})
    layernorm_eps: float = field(default=1e-12, metadata={"help": "LayerNorm epsilon (BERT 1e-12, RoBERTa 1e-5)"})
    normalize_before: bool = field(default=False, metadata={"help": "pre-LN layers with a final LayerNorm (GPT-2)"})
    no_embedding_layernorm: bool = field(default=False, metadata={"help": "no LayerNorm after the embedding sum"})
    causal: bool = field(default=False, metadata={"help": "causal (left-to-right) self-attention"})
    no_pooler: bool = field(default=False, metadata={"help": "drop BERT's pooler (dense + tanh on the first token)"})
    untie_weights: bool = field(default=False, metadata={"help": "do not tie the LM projection to word embeddings"})
    pooler_activation_fn: ACTIVATIONS = field(default="tanh", metadata={"help": "classification head activation"})
    pooler_dropout: float = field(default=0.1, metadata={"help": "classification head dropout"})
    quant_noise_pq: float = field(default=0.0, metadata={"help": "fairseq classification-head quant noise"})
    quant_noise_pq_block_size: int = field(default=8, metadata={"help": "quant noise block size"})
    spectral_norm_classification_head: bool = field(
        default=False, metadata={"help": "spectral norm on the classification head output"})
    load_checkpoint_heads: bool = field(
        default=False, metadata={"help": "(re-)register classification heads found in a checkpoint"})


class BertPluginEncoder(FairseqEncoder):
    """Encoder core + masked-LM head, with RobertaEncoder's call contract.

    ``extra["inner_states"]`` holds all hidden states batch first (B x T x C), embedding
    output first; ``segment_labels`` (token types) may be passed as a keyword. Models that only
    read features pass ``with_lm_head=False``: an unused head would hold parameters no loss trains.
    """

    def __init__(self, cfg: BertPluginConfig, dictionary, with_lm_head=True):
        super().__init__(dictionary)
        self.cfg = cfg
        hidden = cfg.encoder_embed_dim
        embedding_dim = cfg.embedding_dim or hidden
        activation = utils.get_activation_fn(cfg.activation_fn)
        embeddings = TransformerEmbeddings(
            vocab_size=len(dictionary), embedding_dim=embedding_dim, hidden_dim=hidden,
            padding_idx=dictionary.pad(), max_positions=cfg.max_positions, num_segments=cfg.num_segments,
            padding_offset_positions=cfg.padding_offset_positions, layernorm=not cfg.no_embedding_layernorm,
            layernorm_eps=cfg.layernorm_eps, dropout=cfg.dropout,
        )
        self.sentence_encoder = self.build_core(
            embeddings,
            lambda: self.build_layer(
                hidden, cfg.encoder_ffn_embed_dim, cfg.encoder_attention_heads, activation,
                dropout=cfg.dropout, attention_dropout=cfg.attention_dropout,
                activation_dropout=cfg.activation_dropout, layernorm_eps=cfg.layernorm_eps,
                normalize_before=cfg.normalize_before),
            num_layers=cfg.encoder_layers, hidden_dim=hidden, num_layer_groups=cfg.encoder_layer_groups,
            normalize_before=cfg.normalize_before, layernorm_eps=cfg.layernorm_eps, causal=cfg.causal,
        )
        self.pooler = None if cfg.no_pooler else Pooler(hidden)
        self.lm_head = MaskedLMHead(
            hidden, embedding_dim, len(dictionary), activation, cfg.layernorm_eps,
            weight=None if cfg.untie_weights else embeddings.embed_tokens.weight,
        ) if with_lm_head else None
        # BERT's initialisation (normal 0.02, zero biases and padding row) for every model built on
        # this encoder; PyTorch's defaults (N(0, 1) embeddings) give tied MLM logits a standard
        # deviation near 30, whose softmax underflows into denormals that slow CPU matmuls ~20x.
        self.apply(init_bert_params)

    def build_core(self, embeddings, build_layer, **kwargs) -> TransformerEncoderCore:
        """Hook for encoders that extend the core (LUKE adds entity embeddings)."""
        return TransformerEncoderCore(embeddings, build_layer, **kwargs)

    def build_layer(self, *args, **kwargs) -> TransformerLayer:
        """Hook for encoders with another attention (LUKE's entity-aware one)."""
        return TransformerLayer(*args, **kwargs)

    def forward(self, src_tokens, features_only=False, return_all_hiddens=False, masked_tokens=None,
                segment_labels=None, **unused):
        states = self.sentence_encoder(src_tokens, segment_labels)
        x = states[-1]
        if not features_only:
            x = self.lm_head(x, masked_tokens)
        return x, {"inner_states": states if return_all_hiddens else None}

    def extract_features(self, src_tokens, return_all_hiddens=False, segment_labels=None, **unused):
        return self.forward(src_tokens, features_only=True, return_all_hiddens=return_all_hiddens,
                            segment_labels=segment_labels)

    def pooled_output(self, features: torch.Tensor) -> torch.Tensor:
        if self.pooler is None:
            raise ValueError("this model was built without a pooler (--no-pooler)")
        return self.pooler(features)

    def max_positions(self):
        return self.cfg.max_positions


@register_model("bert_plugin", dataclass=BertPluginConfig)
class BertPluginModel(RobertaModel):
    """The shared encoder with masked-LM and classification heads (see module docstring)."""

    def __init__(self, cfg, encoder):
        # RobertaModel reads head settings from self.args; cfg carries them.
        super().__init__(cfg, encoder)

    @classmethod
    def add_args(cls, parser):
        """Flags from BertPluginConfig (the inherited RobertaModel.add_args would declare RoBERTa's)."""
        gen_parser_from_dataclass(parser, BertPluginConfig(), delete_default=True)

    @classmethod
    def build_model(cls, cfg, task):
        return cls(cfg, BertPluginEncoder(cfg, task.source_dictionary))

    @classmethod
    def from_pretrained(cls, model_name_or_path, checkpoint_file="model.pt", data_name_or_path=".", **kwargs):
        from .hub_interface import EncoderHubInterface

        return EncoderHubInterface.from_pretrained(model_name_or_path, checkpoint_file, data_name_or_path, **kwargs)


@register_model("roberta_plugin", dataclass=BertPluginConfig)
class RobertaPluginModel(BertPluginModel):
    """Same model; its own name so that RoBERTa checkpoints and archs read naturally."""


def _set(args, **defaults):
    for key, value in defaults.items():
        setattr(args, key, safe_getattr(args, key, value))


SIZES = {
    "tiny": dict(encoder_layers=2, encoder_embed_dim=128, encoder_ffn_embed_dim=512, encoder_attention_heads=2),
    "base": dict(encoder_layers=12, encoder_embed_dim=768, encoder_ffn_embed_dim=3072, encoder_attention_heads=12),
    "large": dict(encoder_layers=24, encoder_embed_dim=1024, encoder_ffn_embed_dim=4096, encoder_attention_heads=16),
}
FLAVOURS = {
    "bert_plugin": ("bert_plugin", dict(layernorm_eps=1e-12, num_segments=2, padding_offset_positions=False)),
    "roberta_plugin": ("roberta_plugin", dict(layernorm_eps=1e-5, num_segments=1, padding_offset_positions=True)),
    "albert_plugin": ("bert_plugin", dict(layernorm_eps=1e-12, num_segments=2, embedding_dim=128,
                                          encoder_layer_groups=1, activation_fn="gelu_accurate")),
}


def _register_arch(model, arch, defaults):
    register_model_architecture(model, arch)(lambda args: _set(args, **defaults))


for _flavour, (_model, _flavour_defaults) in FLAVOURS.items():
    for _size, _size_defaults in SIZES.items():
        _register_arch(_model, f"{_flavour}_{_size}", {**_flavour_defaults, **_size_defaults})
