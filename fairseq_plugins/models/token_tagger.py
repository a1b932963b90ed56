"""Token classification (BIO tagging) on any of our encoders: tag logits at every position.

- ``token_tagger`` (archs ``token_tagger_tiny/_base/_large``): the shared BERT-family encoder;
  ``--pretrained-encoder converted/model.pt`` starts it from a converted checkpoint (see
  :mod:`.pretrained_encoder`), which is how the MiniLM baselines of LEAR and LUKE are built.
- ``uer_tagger``: UER-py's embedding x encoder (``--embedding``, ``--encoder``, sizes,
  ``--uer-config``) as in ``run_ner.py``; archs ``uer_tagger_<name>`` mirror ``uer_<name>``
  (``uer_tagger_bert_base``, ``uer_tagger_lstm``, ...; a ``--uer-config`` json fills what the
  flags leave unset before the arch does). Segment ids are UER's (1 for text, 0 pad).

Both put :class:`~fairseq_plugins.modules.heads.TokenClassificationHead` on the last hidden
states and return ``B x T x tags`` logits; the ``token_tagging`` task supplies the tag count.
"""
from dataclasses import dataclass, field

import torch
from fairseq.models import BaseFairseqModel, register_model

from ..modules.heads import TokenClassificationHead
from .bert_plugin import BertPluginEncoder
from .pretrained_encoder import PretrainedEncoderConfig, load_encoder_weights, register_sizes
from .uer import UerConfig, UerModelBody, register_uer_archs


def _num_tags(task) -> int:
    tags = getattr(task, "tags", None)
    if not tags:
        raise ValueError("a tagger needs the tag inventory of the token_tagging task")
    return len(tags)


@dataclass
class TokenTaggerConfig(PretrainedEncoderConfig):
    head_dropout: float = field(default=0.1, metadata={"help": "dropout before the tag classifier"})


@register_model("token_tagger", dataclass=TokenTaggerConfig)
class TokenTaggerModel(BaseFairseqModel):
    def __init__(self, cfg, encoder: BertPluginEncoder, num_tags: int):
        super().__init__()
        self.cfg = cfg
        self.encoder = encoder
        self.head = TokenClassificationHead(cfg.encoder_embed_dim, num_tags, cfg.head_dropout)

    @classmethod
    def build_model(cls, cfg, task):
        encoder = BertPluginEncoder(cfg, task.source_dictionary, with_lm_head=False)
        encoder.pooler = None  # no pooled output is read; an untrained pooler would only hold dead weights
        return cls(cfg, encoder, _num_tags(task))

    def load_pretrained_encoder(self, weights):
        load_encoder_weights(self.encoder, weights)

    def forward(self, src_tokens: torch.Tensor, **unused) -> torch.Tensor:
        features, _ = self.encoder(src_tokens, features_only=True)
        return self.head(features)

    def max_positions(self):
        return self.cfg.max_positions


register_sizes("token_tagger")


@register_model("uer_tagger", dataclass=UerConfig)
class UerTaggerModel(BaseFairseqModel):
    def __init__(self, cfg: UerConfig, dictionary, num_tags: int):
        super().__init__()
        self.cfg = cfg
        self.padding_idx = dictionary.pad()
        self.body = UerModelBody(cfg, dictionary)
        self.head = TokenClassificationHead(cfg.hidden_size, num_tags, cfg.dropout)

    @classmethod
    def build_model(cls, cfg, task):
        return cls(cfg, task.source_dictionary, _num_tags(task))

    def forward(self, src_tokens: torch.Tensor, **unused) -> torch.Tensor:
        segments = src_tokens.ne(self.padding_idx).long() if self.cfg.embedding == "word_pos_seg" else None
        return self.head(self.body(src_tokens, segments))

    def max_positions(self):
        return self.cfg.max_seq_length if self.cfg.embedding != "word" else None


register_uer_archs("uer_tagger", "uer_tagger_")
