"""Dense retrieval for entity linking: KB encoding to a memory-mapped matrix, faiss/torch search."""
from .dense_index import INDEX_KINDS, DenseIndex, WorldRestrictedIndex, build_index
from .kb_encoding import EncodedKB, encode_kb, pad_batch

__all__ = ["INDEX_KINDS", "DenseIndex", "EncodedKB", "WorldRestrictedIndex", "build_index", "encode_kb", "pad_batch"]
