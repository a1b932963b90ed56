"""The encoder core extended with entities: words and entities run through one layer stack."""
from __future__ import annotations

from typing import List, Optional, Tuple

import torch

from .entity_embeddings import EntityEmbeddings
from .transformer_encoder import TransformerEncoderCore


class EntityAwareEncoderCore(TransformerEncoderCore):
    """``TransformerEncoderCore`` whose layers see ``cat(words, entities)``.

    Returns ``(word_states, entity_states)``: every hidden state of each stream, embedding
    output first. Without entities it is exactly the word-only core (entity states empty).
    Padding entities (``entity_ids == entity padding index``) are masked as keys.
    """

    def __init__(self, embeddings, entity_embeddings: EntityEmbeddings, build_layer, num_layers: int,
                 hidden_dim: int, **kwargs):
        super().__init__(embeddings, build_layer, num_layers, hidden_dim, **kwargs)
        if self.causal:
            raise ValueError("LUKE's encoder is bidirectional; --causal is not supported")
        self.entity_embeddings = entity_embeddings

    def forward(self, tokens: torch.Tensor, segments: Optional[torch.Tensor] = None,
                positions: Optional[torch.Tensor] = None, entity_ids: Optional[torch.Tensor] = None,
                entity_positions: Optional[torch.Tensor] = None, entity_segments: Optional[torch.Tensor] = None,
                ) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
        if entity_ids is None or entity_ids.size(1) == 0:
            return super().forward(tokens, segments, positions), []
        words = self.embeddings(tokens, segments, positions)
        entities = self.entity_embeddings(entity_ids, entity_positions, entity_segments)
        num_words = words.size(1)
        keys = torch.cat([tokens.ne(self.padding_idx), entity_ids.ne(self.entity_embeddings.padding_idx)], dim=1)
        mask = None if keys.all() else keys[:, None, None, :]
        x = torch.cat([words, entities], dim=1)
        states = [x]
        for i in range(self.num_layers):
            x = self.layer(i)(x, mask, False, num_words=num_words)
            states.append(x)
        if self.final_layer_norm is not None:
            states[-1] = self.final_layer_norm(x)
        return [s[:, :num_words] for s in states], [s[:, num_words:] for s in states]
