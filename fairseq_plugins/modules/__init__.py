"""Building blocks shared by every model: embeddings, attention, encoder core, heads."""
from .entity_aware_attention import EntityAwareSelfAttention, EntityAwareTransformerLayer
from .entity_aware_encoder import EntityAwareEncoderCore
from .entity_embeddings import EntityEmbeddings
from .entity_heads import EntityClassificationHead, EntitySpanClassificationHead
from .heads import MaskedLMHead, Pooler, TokenClassificationHead
from .transformer_embeddings import TransformerEmbeddings
from .transformer_encoder import TransformerEncoderCore
from .transformer_layer import SelfAttention, TransformerLayer

__all__ = ["EntityAwareEncoderCore", "EntityAwareSelfAttention", "EntityAwareTransformerLayer", "EntityEmbeddings",
           "EntityClassificationHead", "EntitySpanClassificationHead", "MaskedLMHead", "Pooler", "SelfAttention",
           "TokenClassificationHead", "TransformerEmbeddings", "TransformerEncoderCore", "TransformerLayer"]
