"""UER-py's embedding x encoder x target models as one registered fairseq model family, ``uer``.

``--embedding``, ``--encoder`` and ``--target`` pick the parts by UER's names; the option names
for sizes are UER's config keys (``--emb-size``, ``--hidden-size``, ``--layers-num`` ...), and
``--uer-config`` reads one of UER's json configs (explicit flags win over it, it wins over the
arch). Transformer-shaped encoders (``transformer``/``bert``, ``gpt``, ``attn``, ``synt``) are
configurations of the shared ``TransformerEncoderCore``; recurrent and convolutional ones are the
small modules in ``modules/rnn_encoders.py`` and ``modules/cnn_encoders.py``. The target heads
live in the model (as in UER, so ``--tie-weights`` can tie them to the word embedding); the
``uer_*`` criterions turn their outputs into losses.
"""
import argparse
from dataclasses import dataclass, field
from typing import Dict, Optional

import torch
from fairseq import utils
from fairseq.dataclass import ChoiceEnum, FairseqDataclass
from fairseq.dataclass.utils import gen_parser_from_dataclass
from fairseq.models import BaseFairseqModel, register_model, register_model_architecture
from fairseq.utils import safe_getattr
from torch import nn

from ..data.uer_config import read_uer_config
from ..modules import MaskedLMHead, Pooler, TransformerEmbeddings, TransformerEncoderCore, TransformerLayer
from ..modules.attention_variants import AttentionOnlyLayer, SynthesizerLayer
from ..modules.cnn_encoders import CnnEncoder, CrnnEncoder, GatedCnnEncoder, RcnnEncoder
from ..modules.rnn_encoders import BiRnnEncoder, RnnEncoder

EMBEDDINGS = ("word", "word_pos", "word_pos_seg")
TRANSFORMER_ENCODERS = ("transformer", "bert", "gpt", "attn", "synt")
RNN_ENCODERS = ("rnn", "lstm", "gru")
BIRNN_ENCODERS = ("birnn", "bilstm", "bigru")
CNN_ENCODERS = ("cnn", "gatedcnn", "rcnn", "crnn")
ENCODERS = TRANSFORMER_ENCODERS + RNN_ENCODERS + BIRNN_ENCODERS + CNN_ENCODERS
TARGETS = ("mlm", "lm", "bert", "albert", "bilm", "cls")

# What each output position may have seen, which decides the targets an encoder can train.
VISIBILITY_TARGETS = {
    "full": ("mlm", "bert", "albert", "cls"),      # every position sees the whole sequence
    "causal": ("lm", "cls"),                         # position t sees positions <= t
    "two_stream": ("bilm", "mlm", "bert", "albert", "cls"),  # [past-only half ; future-only half]
}


def encoder_visibility(encoder: str, bidirectional: bool = False) -> str:
    if encoder in BIRNN_ENCODERS:
        return "two_stream"
    if encoder == "gpt" or encoder in CNN_ENCODERS or (encoder in RNN_ENCODERS and not bidirectional):
        return "causal"
    return "full"


def valid_pairs() -> str:
    """Every valid encoder/target pair, for error messages and the README."""
    lines = []
    for encoder in ENCODERS:
        variants = [(encoder, False)] + ([(encoder, True)] if encoder in RNN_ENCODERS else [])
        for name, bidirectional in variants:
            targets = VISIBILITY_TARGETS[encoder_visibility(name, bidirectional)]
            label = f"{name} --bidirectional" if bidirectional else name
            lines.append(f"  {label}: {', '.join(targets)}")
    return "\n".join(lines)


def check_combination(encoder: str, target: str, bidirectional: bool = False):
    """Refuse a pair whose encoder would let the target see its own answer (or could not feed it)."""
    if bidirectional and encoder not in RNN_ENCODERS:
        raise ValueError(f"--bidirectional applies to the {'/'.join(RNN_ENCODERS)} encoders, not {encoder}; "
                         f"{'/'.join(BIRNN_ENCODERS)} are the two-stream bidirectional forms")
    visibility = encoder_visibility(encoder, bidirectional)
    if target not in VISIBILITY_TARGETS[visibility]:
        why = {"full": "it sees the whole sequence, so a language model would see the next token",
               "causal": "it sees only the past, so it cannot fill in masked tokens or read both directions",
               "two_stream": "it is trained with the bilm target"}[visibility]
        label = f"{encoder} --bidirectional" if bidirectional else encoder
        raise ValueError(f"encoder {label} cannot train target {target}: {why}. Valid encoder: targets are\n"
                         f"{valid_pairs()}")


@dataclass
class UerConfig(FairseqDataclass):
    embedding: ChoiceEnum(EMBEDDINGS) = field(
        default="word_pos_seg", metadata={"help": "word (+ learned positions) (+ segments, BERT)"})
    encoder: ChoiceEnum(ENCODERS) = field(default="transformer", metadata={"help": "UER encoder name"})
    target: ChoiceEnum(TARGETS) = field(
        default="bert", metadata={"help": "pre-training objective; the criterion is uer_<target>"})
    bidirectional: bool = field(
        default=False, metadata={"help": "torch's bidirectional rnn/lstm/gru (each direction half the hidden size)"})
    tie_weights: bool = field(
        default=False, metadata={"help": "tie the output projection of mlm/lm/bilm to the word embedding"})
    uer_config: Optional[str] = field(
        default=None, metadata={"help": "UER json config; its values fill the options not given explicitly"})
    emb_size: int = field(default=768, metadata={"help": "word embedding size (< hidden size: ALBERT factorized)"})
    hidden_size: int = field(default=768, metadata={"help": "encoder width"})
    feedforward_size: int = field(default=3072, metadata={"help": "transformer feed-forward size"})
    heads_num: int = field(default=12, metadata={"help": "attention heads"})
    layers_num: int = field(default=12, metadata={"help": "layers of the encoder"})
    kernel_size: int = field(default=3, metadata={"help": "convolution width of cnn/gatedcnn/rcnn/crnn"})
    block_size: int = field(default=2, metadata={"help": "gatedcnn layers per residual block"})
    dropout: float = field(default=0.1, metadata={"help": "dropout everywhere (UER has one rate)"})
    hidden_act: ChoiceEnum(utils.get_available_activation_fns()) = field(
        default="gelu", metadata={"help": "feed-forward and MLM-head activation (gelu_accurate = UER's gelu_fast)"})
    max_seq_length: int = field(default=512, metadata={"help": "learned positions (and synthesizer width)"})
    parameter_sharing: bool = field(default=False, metadata={"help": "one layer's parameters for all layers (ALBERT)"})
    layernorm_positioning: ChoiceEnum(["post", "pre"]) = field(
        default="post", metadata={"help": "post-LN (BERT, UER's gpt) or pre-LN with a final LayerNorm (GPT-2)"})
    remove_embedding_layernorm: bool = field(default=False, metadata={"help": "no LayerNorm after the embedding"})
    layernorm_eps: float = field(default=1e-6, metadata={"help": "LayerNorm epsilon (UER: 1e-6)"})
    synt_type: ChoiceEnum(["dense", "random"]) = field(default="dense", metadata={"help": "synthesizer attention"})
    pooling: ChoiceEnum(["auto", "first", "mean", "max", "last"]) = field(
        default="auto", metadata={"help": "sequence vector for the cls target; auto: first token ([CLS]) when "
                                          "the encoder sees the whole sequence, else mean (a causal first "
                                          "position has seen only [CLS])"})
    labels_num: int = field(default=0, metadata={"help": "classes of the cls target (0: from the data)"})


def _pool(states: torch.Tensor, keep: torch.Tensor, how: str) -> torch.Tensor:
    """One vector per sequence from B x T x C ``states``; ``keep`` marks real (non-pad) tokens."""
    if how == "first":
        return states[:, 0]
    if how == "last":
        return states[torch.arange(states.size(0), device=states.device), keep.sum(1) - 1]
    if how == "max":
        return states.masked_fill(~keep[..., None], float("-inf")).max(1).values
    return (states * keep[..., None]).sum(1) / keep.sum(1, keepdim=True)


def init_uer_params(module: nn.Module) -> None:
    """UER-py's initialisation of a model trained from scratch: every parameter but LayerNorm's ~ N(0, 0.02)
    (biases and recurrent weights included); PyTorch's N(0, 1) embeddings would give tied MLM logits a
    standard deviation near 30."""
    layer_norm = {id(p) for m in module.modules() if isinstance(m, nn.LayerNorm) for p in m.parameters()}
    with torch.no_grad():
        for param in module.parameters():
            if id(param) not in layer_norm:
                param.normal_(0.0, 0.02)


class UerModelBody(nn.Module):
    """Embedding + encoder: tokens (+ segments) -> B x T x hidden."""

    def __init__(self, cfg: UerConfig, dictionary):
        super().__init__()
        self.encoder_name = cfg.encoder
        hidden = cfg.hidden_size
        transformer = cfg.encoder in TRANSFORMER_ENCODERS
        self.embeddings = TransformerEmbeddings(
            vocab_size=len(dictionary), embedding_dim=cfg.emb_size, hidden_dim=hidden if transformer else cfg.emb_size,
            padding_idx=dictionary.pad(), max_positions=cfg.max_seq_length if cfg.embedding != "word" else 0,
            num_segments=3 if cfg.embedding == "word_pos_seg" else 0,  # UER: 0 = padding, 1 and 2 = sentences
            layernorm=not cfg.remove_embedding_layernorm, layernorm_eps=cfg.layernorm_eps, dropout=cfg.dropout)
        if transformer:
            self.encoder = self._transformer_core(cfg)
        else:
            self.encoder = self._sequence_encoder(cfg)
        init_uer_params(self)

    def _transformer_core(self, cfg: UerConfig) -> TransformerEncoderCore:
        activation = utils.get_activation_fn(cfg.hidden_act)
        hidden, pre_ln = cfg.hidden_size, cfg.layernorm_positioning == "pre"
        if cfg.encoder == "attn":
            def build_layer():
                return AttentionOnlyLayer(hidden, cfg.heads_num, cfg.dropout)
        elif cfg.encoder == "synt":
            def build_layer():
                return SynthesizerLayer(hidden, cfg.feedforward_size, activation, cfg.max_seq_length,
                                        str(cfg.synt_type), cfg.dropout, cfg.layernorm_eps)
        else:
            def build_layer():
                return TransformerLayer(hidden, cfg.feedforward_size, cfg.heads_num, activation,
                                        dropout=cfg.dropout, attention_dropout=cfg.dropout,
                                        layernorm_eps=cfg.layernorm_eps, normalize_before=pre_ln)
        return TransformerEncoderCore(
            self.embeddings, build_layer, num_layers=cfg.layers_num, hidden_dim=hidden,
            num_layer_groups=1 if cfg.parameter_sharing else None, normalize_before=pre_ln,
            layernorm_eps=cfg.layernorm_eps, causal=cfg.encoder == "gpt")

    @staticmethod
    def _sequence_encoder(cfg: UerConfig) -> nn.Module:
        name, emb, hidden, layers = str(cfg.encoder), cfg.emb_size, cfg.hidden_size, cfg.layers_num
        if name in RNN_ENCODERS:
            return RnnEncoder(name, emb, hidden, layers, cfg.dropout, cfg.bidirectional)
        if name in BIRNN_ENCODERS:
            return BiRnnEncoder(name[2:], emb, hidden, layers, cfg.dropout)
        if name == "cnn":
            return CnnEncoder(emb, hidden, layers, cfg.kernel_size)
        if name == "gatedcnn":
            return GatedCnnEncoder(emb, hidden, layers, cfg.kernel_size, cfg.block_size)
        return (RcnnEncoder if name == "rcnn" else CrnnEncoder)(emb, hidden, layers, cfg.kernel_size, cfg.dropout)

    def forward(self, tokens: torch.Tensor, segments: Optional[torch.Tensor] = None) -> torch.Tensor:
        if segments is None and self.embeddings.embed_segments is not None:
            # UER's single-sentence input: segment 1 on every token, 0 (the padding row) on padding.
            segments = tokens.ne(self.embeddings.padding_idx).long()
        if isinstance(self.encoder, TransformerEncoderCore):
            return self.encoder(tokens, segments)[-1]
        if isinstance(self.encoder, (RnnEncoder, BiRnnEncoder)):  # read only the real tokens of each row
            return self.encoder(self.embeddings(tokens, segments), tokens.eq(self.embeddings.padding_idx))
        return self.encoder(self.embeddings(tokens, segments))  # causal convolutions: right padding comes after


@register_model("uer", dataclass=UerConfig)
class UerModel(BaseFairseqModel):
    """Body + the heads of one UER target; ``forward`` returns each head's logits by name."""

    def __init__(self, cfg: UerConfig, dictionary, labels_num: int = 0):
        super().__init__()
        check_combination(cfg.encoder, cfg.target, cfg.bidirectional)
        self.cfg = cfg
        self.padding_idx = dictionary.pad()
        self.body = UerModelBody(cfg, dictionary)
        word = self.body.embeddings.embed_tokens.weight
        hidden, vocab = cfg.hidden_size, len(dictionary)
        target = cfg.target
        if target in ("mlm", "bert", "albert"):
            # UER's bert head is hidden -> hidden -> vocab; ALBERT's goes through the embedding size.
            head_dim = cfg.emb_size if target == "albert" or cfg.tie_weights else hidden
            self.mlm_head = MaskedLMHead(hidden, head_dim, vocab, utils.get_activation_fn(cfg.hidden_act),
                                         cfg.layernorm_eps, weight=word if cfg.tie_weights else None)
        if target in ("bert", "albert"):
            self.sp_pooler, self.sp_output = Pooler(hidden), nn.Linear(hidden, 2)
        if target in ("lm", "bilm"):
            out_dim = hidden // 2 if target == "bilm" else hidden
            self.lm_output = nn.Linear(out_dim, vocab)
            if cfg.tie_weights:
                if cfg.emb_size != out_dim:
                    raise ValueError(f"--tie-weights with the {target} target needs --emb-size {out_dim} "
                                     f"(the output projection's input size), got {cfg.emb_size}")
                self.lm_output.weight = word
        if target == "cls":
            self.pooling = str(cfg.pooling)
            if self.pooling == "auto":
                self.pooling = "mean" if encoder_visibility(cfg.encoder, cfg.bidirectional) == "causal" else "first"
            if labels_num < 1:  # 1: a score per sequence (multiple choice, ranking)
                raise ValueError(f"the cls target needs at least 1 output, got {labels_num}")
            self.cls_pooler, self.cls_output = nn.Linear(hidden, hidden), nn.Linear(hidden, labels_num)
        for name, head in self.named_children():
            if name != "body":
                init_uer_params(head)

    @classmethod
    def add_args(cls, parser):
        gen_parser_from_dataclass(parser, UerConfig(), delete_default=True)

    @classmethod
    def build_model(cls, cfg, task):
        labels_num = cfg.labels_num or getattr(task, "labels_num", 0)
        return cls(cfg, task.source_dictionary, labels_num)

    def max_positions(self):
        return self.cfg.max_seq_length if self.cfg.embedding != "word" else None

    def forward(self, src_tokens, segment_labels=None, masked_tokens=None, **unused) -> Dict[str, torch.Tensor]:
        states = self.body(src_tokens, segment_labels)
        out = {}
        target = self.cfg.target
        if target in ("mlm", "bert", "albert"):
            out["mlm"] = self.mlm_head(states, masked_tokens)
        if target in ("bert", "albert"):
            out["sp"] = self.sp_output(self.sp_pooler(states))
        if target == "lm":
            out["lm"] = self.lm_output(states)
        if target == "bilm":
            forward, backward = states.chunk(2, dim=-1)
            out["bilm_forward"], out["bilm_backward"] = self.lm_output(forward), self.lm_output(backward)
        if target == "cls":
            pooled = _pool(states, src_tokens.ne(self.padding_idx), self.pooling)
            out["cls"] = self.cls_output(torch.tanh(self.cls_pooler(pooled)))
        return out


def _set(args, **defaults):
    """Fill options not given on the command line: first from ``--uer-config``, then the arch's defaults."""
    config_path = safe_getattr(args, "uer_config", None)
    if config_path:
        for key, value in read_uer_config(config_path).items():
            if safe_getattr(args, key, None) is None:
                setattr(args, key, value)
    for key, value in defaults.items():
        if safe_getattr(args, key, None) is None:
            setattr(args, key, value)


def resolve_options(arch: str, uer_config: Optional[str] = None, explicit: Optional[dict] = None) -> dict:
    """Every ``uer`` model option as ``fairseq-train --arch ARCH --uer-config X`` resolves it: explicit
    values, then the UER config, then the arch (converters build exactly the model training builds)."""
    if arch not in ARCHS and arch != "uer":
        raise ValueError(f"unknown uer arch {arch!r}; choose from: {', '.join(ARCHS)}")
    args = argparse.Namespace(**(explicit or {}), uer_config=uer_config)
    _set(args, **{**_BASE_DEFAULTS, **ARCHS.get(arch, {})})
    return {name: getattr(args, name) for name in _BASE_DEFAULTS}


def _sizes(layers, hidden, ffn, heads, emb=None):
    return dict(layers_num=layers, hidden_size=hidden, feedforward_size=ffn, heads_num=heads, emb_size=emb or hidden)


BERT = dict(embedding="word_pos_seg", encoder="transformer", target="bert", hidden_act="gelu", dropout=0.1)
ALBERT = dict(BERT, target="albert", parameter_sharing=True, hidden_act="relu", dropout=0.0)
GPT2 = dict(embedding="word_pos", encoder="gpt", target="lm", hidden_act="gelu_accurate", dropout=0.1,
            layernorm_positioning="pre", max_seq_length=1024)
RNN = dict(embedding="word", target="lm", emb_size=512, hidden_size=512, layers_num=2, dropout=0.1,
           remove_embedding_layernorm=True, max_seq_length=1024)
GATEDCNN = dict(embedding="word", encoder="gatedcnn", target="lm", emb_size=128, kernel_size=4, block_size=2,
                dropout=0.1, remove_embedding_layernorm=True, max_seq_length=1024)
# UER-py's models/*_config.json sizes.
ARCHS = {
    "uer_bert_tiny": dict(BERT, **_sizes(2, 128, 512, 2)),
    "uer_bert_mini": dict(BERT, **_sizes(4, 256, 1024, 4)),
    "uer_bert_small": dict(BERT, **_sizes(4, 512, 2048, 8)),
    "uer_bert_medium": dict(BERT, **_sizes(8, 512, 2048, 8)),
    "uer_bert_base": dict(BERT, **_sizes(12, 768, 3072, 12)),
    "uer_bert_large": dict(BERT, **_sizes(24, 1024, 4096, 16)),
    "uer_albert_base": dict(ALBERT, **_sizes(12, 768, 3072, 12, emb=128)),
    "uer_albert_large": dict(ALBERT, **_sizes(24, 1024, 4096, 16, emb=128)),
    "uer_albert_xlarge": dict(ALBERT, **_sizes(24, 2048, 8192, 16, emb=128)),
    "uer_albert_xxlarge": dict(ALBERT, **_sizes(12, 4096, 16384, 16, emb=128)),
    "uer_gpt2_distil": dict(GPT2, **_sizes(6, 768, 3072, 12)),
    "uer_gpt2_base": dict(GPT2, **_sizes(12, 768, 3072, 12)),
    "uer_gpt2_medium": dict(GPT2, **_sizes(24, 1024, 4096, 16)),
    "uer_gpt2_large": dict(GPT2, **_sizes(36, 1280, 5120, 20)),
    "uer_gpt2_xlarge": dict(GPT2, **_sizes(48, 1600, 6400, 25)),
    "uer_lstm": dict(RNN, encoder="lstm"),
    "uer_gru": dict(RNN, encoder="gru"),
    "uer_bilstm": dict(RNN, encoder="bilstm", target="bilm", hidden_size=1536),
    "uer_cnn": dict(RNN, encoder="cnn", kernel_size=3, block_size=2, layers_num=6),
    "uer_gatedcnn_9": dict(GATEDCNN, hidden_size=807, layers_num=9),
    "uer_gatedcnn_13": dict(GATEDCNN, hidden_size=1268, layers_num=13),
    "uer_synt_dense_base": dict(BERT, encoder="synt", synt_type="dense", max_seq_length=128,
                                **_sizes(12, 768, 3072, 12)),
}
# The model's own defaults, applied last so that every arch resolves every option.
_BASE_DEFAULTS = {name: f.default for name, f in UerConfig.__dataclass_fields__.items() if not name.startswith("_")}


def register_uer_archs(model: str, prefix: str) -> None:
    """Register ``prefix<name>`` for every ``uer_<name>`` arch on ``model`` (task models built on the UER body
    take UER's sizes under their own names: ``uer_mrc_bert_base``, ``uer_tagger_lstm``, ...)."""
    def register(arch, defaults):
        register_model_architecture(model, arch)(lambda args: _set(args, **{**_BASE_DEFAULTS, **defaults}))

    for arch, defaults in ARCHS.items():
        register(prefix + arch[len("uer_"):], defaults)


register_uer_archs("uer", "uer_")
