"""LUKE: the shared encoder core with entity embeddings and entity-aware self-attention.

The word side is our RoBERTa/BERT encoder (so ``luke`` keeps ``bert_plugin``'s masked-LM
head, pooler and classification heads); entities are a second input stream that runs
through the same layers. The entity vocabulary comes from the task when it has one
(``task.entity_vocab``), else the model is LUKE-lite: only the special entities, every
mention fed as ``[MASK]``.
"""

import logging
from dataclasses import dataclass, field

from fairseq.dataclass.utils import gen_parser_from_dataclass
from fairseq.models import register_model
from torch import nn

from ..data.luke_entity_vocab import EntityVocab
from ..modules.entity_aware_attention import EntityAwareTransformerLayer
from ..modules.entity_aware_encoder import EntityAwareEncoderCore
from ..modules.entity_embeddings import EntityEmbeddings
from .bert_plugin import SIZES, BertPluginConfig, BertPluginEncoder, BertPluginModel, _register_arch

logger = logging.getLogger(__name__)

LITE = EntityVocab.lite()


@dataclass
class LukeConfig(BertPluginConfig):
    entity_vocab_size: int = field(default=len(LITE), metadata={
        "help": "rows of the entity table; set from the task's entity vocabulary when it has one "
                "(default: LUKE-lite's 4 special entities)"})
    entity_padding_idx: int = field(default=LITE.pad, metadata={
        "help": "id of the [PAD] entity (from the vocabulary file: 0 in LUKE's 500K vocabulary, 2 in lite)"})
    entity_emb_size: int = field(default=256, metadata={
        "help": "entity table width; a bias-free projection maps it to the hidden size when they differ"})
    no_entity_aware_attention: bool = field(default=False, metadata={
        "help": "plain attention over words + entities (no w2e/e2w/e2e queries), as in LUKE pre-training and "
                "mLUKE"})


class LukeEncoder(BertPluginEncoder):
    """``BertPluginEncoder`` with an entity-aware core.

    Entity inputs are keywords: ``entity_ids`` (B x E), ``entity_positions`` (B x E x M word
    indices counting from the first token, -1 padded), optional ``entity_segments``.
    ``extra["entity_states"]`` is the last entity hidden state (B x E x C), and with
    ``return_all_hiddens`` ``extra["entity_inner_states"]`` holds all of them.
    """

    def build_core(self, embeddings, build_layer, **kwargs):
        cfg = self.cfg
        entity_embeddings = EntityEmbeddings(
            cfg.entity_vocab_size, cfg.entity_emb_size, cfg.encoder_embed_dim,
            max_positions=cfg.max_positions + embeddings.position_offset, num_segments=max(cfg.num_segments, 1),
            padding_idx=cfg.entity_padding_idx, layernorm_eps=cfg.layernorm_eps, dropout=cfg.dropout)
        return EntityAwareEncoderCore(embeddings, entity_embeddings, build_layer, **kwargs)

    def build_layer(self, *args, **kwargs):
        return EntityAwareTransformerLayer(*args, entity_aware=not self.cfg.no_entity_aware_attention, **kwargs)

    def forward(self, src_tokens, features_only=False, return_all_hiddens=False, masked_tokens=None,
                segment_labels=None, entity_ids=None, entity_positions=None, entity_segments=None, **unused):
        words, entities = self.sentence_encoder(src_tokens, segment_labels, None, entity_ids, entity_positions,
                                                entity_segments)
        x = words[-1]
        if not features_only:
            x = self.lm_head(x, masked_tokens)
        return x, {"inner_states": words if return_all_hiddens else None,
                   "entity_states": entities[-1] if entities else None,
                   "entity_inner_states": entities if return_all_hiddens else None}

    def extract_features(self, src_tokens, return_all_hiddens=False, **kwargs):
        return self.forward(src_tokens, features_only=True, return_all_hiddens=return_all_hiddens, **kwargs)


@register_model("luke", dataclass=LukeConfig)
class LukeModel(BertPluginModel):
    """Encoder with entities; task heads over entity states live in ``entity_heads`` (see module docstring)."""

    def __init__(self, cfg, encoder):
        super().__init__(cfg, encoder)
        self.entity_heads = nn.ModuleDict()

    @classmethod
    def add_args(cls, parser):
        gen_parser_from_dataclass(parser, LukeConfig(), delete_default=True)

    @classmethod
    def build_model(cls, cfg, task):
        vocab = getattr(task, "entity_vocab", None)
        if vocab is not None:
            cfg.entity_vocab_size = len(vocab)
            cfg.entity_padding_idx = vocab.pad
        return cls(cfg, LukeEncoder(cfg, task.source_dictionary))

    def register_entity_head(self, name: str, head: nn.Module) -> None:
        self.entity_heads[name] = head

    def upgrade_state_dict_named(self, state_dict, name):
        """A checkpoint without this task's entity head (a converted encoder) keeps the fresh head, as fairseq
        does for classification heads."""
        super().upgrade_state_dict_named(state_dict, name)
        prefix = f"{name}." if name else ""
        for key, value in self.entity_heads.state_dict().items():
            if f"{prefix}entity_heads.{key}" not in state_dict:
                logger.info("%sentity_heads.%s: not in the checkpoint, starts fresh", prefix, key)
                state_dict[f"{prefix}entity_heads.{key}"] = value


ROBERTA_FLAVOUR = dict(layernorm_eps=1e-5, num_segments=1, padding_offset_positions=True)
for _size, _size_defaults in SIZES.items():
    _register_arch("luke", f"luke_{_size}", {**ROBERTA_FLAVOUR, **_size_defaults,
                                             "entity_emb_size": 64 if _size == "tiny" else 256})
