"""Checkpoint conversion between Hugging Face folders and fairseq checkpoints."""
from .bert_family import ConversionReport, fairseq_to_hf, hf_to_fairseq

__all__ = ["ConversionReport", "fairseq_to_hf", "hf_to_fairseq"]
