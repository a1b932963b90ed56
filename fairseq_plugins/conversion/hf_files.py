"""Reading and writing Hugging Face model folders: config.json, weights, tokenizer files."""
from __future__ import annotations

import json
import os
import shutil
from typing import Dict

import torch

from ..data.json_files import read_json_object
from ..errors import InputError

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# Tokenizer files that travel with a converted model, in both directions.
TOKENIZER_FILES = ("vocab.txt", "vocab.json", "merges.txt", "spiece.model", "sentencepiece.bpe.model",
                   "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
VOCAB_FILES = ("vocab.txt", "vocab.json", "spiece.model", "sentencepiece.bpe.model")


def read_config(model_dir: str) -> dict:
    path = os.path.join(model_dir, "config.json")
    if not os.path.isfile(path):
        raise InputError(path, "config.json not found: not a Hugging Face model folder")
    return read_json_object(path, "a Hugging Face model config")


def read_weights(model_dir: str) -> Dict[str, torch.Tensor]:
    for name in WEIGHT_FILES:
        path = os.path.join(model_dir, name)
        if not os.path.isfile(path):
            continue
        try:
            if name.endswith(".safetensors"):
                from safetensors.torch import load_file

                return load_file(path)
            return torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # safetensors and torch raise many types for a corrupt file
            raise InputError(path, f"unreadable weights ({type(e).__name__}: {e})")
    raise InputError(model_dir, f"no weights file ({' or '.join(WEIGHT_FILES)})")


def vocab_file(model_dir: str) -> str:
    for name in VOCAB_FILES:
        path = os.path.join(model_dir, name)
        if os.path.isfile(path):
            return path
    raise InputError(model_dir, f"no vocabulary file ({', '.join(VOCAB_FILES)})")


def copy_tokenizer_files(src_dir: str, dst_dir: str) -> None:
    for name in TOKENIZER_FILES:
        if os.path.isfile(os.path.join(src_dir, name)):
            shutil.copyfile(os.path.join(src_dir, name), os.path.join(dst_dir, name))


def write_model_dir(model_dir: str, config: dict, weights: Dict[str, torch.Tensor]) -> None:
    """config.json + model.safetensors (pytorch_model.bin when safetensors is not installed)."""
    os.makedirs(model_dir, exist_ok=True)
    with open(os.path.join(model_dir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    try:
        from safetensors.torch import save_file
    except ImportError:
        torch.save(weights, os.path.join(model_dir, "pytorch_model.bin"))
    else:
        save_file(weights, os.path.join(model_dir, "model.safetensors"), metadata={"format": "pt"})
