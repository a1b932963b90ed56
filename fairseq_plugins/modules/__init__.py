"""Building blocks shared by every model: embeddings, attention, encoder core, heads."""
from .heads import MaskedLMHead, Pooler
from .transformer_embeddings import TransformerEmbeddings
from .transformer_encoder import TransformerEncoderCore
from .transformer_layer import SelfAttention, TransformerLayer

__all__ = ["MaskedLMHead", "Pooler", "SelfAttention", "TransformerEmbeddings", "TransformerEncoderCore",
           "TransformerLayer"]
