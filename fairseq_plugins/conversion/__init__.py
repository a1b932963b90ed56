"""Checkpoint conversion between Hugging Face folders and fairseq checkpoints."""
from .bert_family import ConversionReport, fairseq_to_hf, hf_to_fairseq
from .gpt2 import gpt2_hf_to_fairseq
from .luke import luke_fairseq_to_hf, luke_hf_to_fairseq
from .uer_checkpoint import fairseq_to_uer, uer_to_fairseq

__all__ = ["luke_fairseq_to_hf", "luke_hf_to_fairseq", "ConversionReport", "fairseq_to_hf", "hf_to_fairseq",
           "fairseq_to_uer", "gpt2_hf_to_fairseq", "uer_to_fairseq"]
