"""Checkpoint conversion between Hugging Face folders and fairseq checkpoints."""
from .bert_family import ConversionReport, fairseq_to_hf, hf_to_fairseq
from .luke import luke_fairseq_to_hf, luke_hf_to_fairseq

__all__ = ["luke_fairseq_to_hf", "luke_hf_to_fairseq", "ConversionReport", "fairseq_to_hf", "hf_to_fairseq"]
