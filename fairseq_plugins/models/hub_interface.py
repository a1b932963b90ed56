"""Python access to a trained or converted encoder: ``BertPluginModel.from_pretrained(dir)``."""
from __future__ import annotations

from typing import List

import torch
from fairseq import hub_utils
from torch import nn


class EncoderHubInterface(nn.Module):
    """Holds cfg, task and model; features and classification-head predictions from token ids."""

    def __init__(self, cfg, task, model):
        super().__init__()
        self.cfg = cfg
        self.task = task
        self.model = model
        self.register_buffer("_device_tracker", torch.tensor([0.0]), persistent=False)

    @classmethod
    def from_pretrained(cls, model_name_or_path, checkpoint_file="model.pt", data_name_or_path=".", **kwargs):
        loaded = hub_utils.from_pretrained(model_name_or_path, checkpoint_file, data_name_or_path,
                                           archive_map={}, load_checkpoint_heads=True, **kwargs)
        return cls(loaded["args"], loaded["task"], loaded["models"][0])

    @property
    def device(self):
        return self._device_tracker.device

    @property
    def dictionary(self):
        return self.task.source_dictionary

    def encode_tokens(self, tokens: List[str]) -> torch.LongTensor:
        """Ids of already tokenized text, wrapped in the dictionary's bos/eos ([CLS] ... [SEP])."""
        d = self.dictionary
        return torch.tensor([d.bos()] + [d.index(t) for t in tokens] + [d.eos()], dtype=torch.long)

    def _batch(self, tokens: torch.LongTensor) -> torch.LongTensor:
        return (tokens.unsqueeze(0) if tokens.dim() == 1 else tokens).to(self.device)

    @torch.no_grad()
    def extract_features(self, tokens: torch.LongTensor, return_all_hiddens: bool = False):
        """Last hidden state (B x T x C), or the list of all hidden states."""
        features, extra = self.model(self._batch(tokens), features_only=True,
                                     return_all_hiddens=return_all_hiddens)
        return extra["inner_states"] if return_all_hiddens else features

    @torch.no_grad()
    def predict(self, head: str, tokens: torch.LongTensor, return_logits: bool = False):
        features = self.extract_features(tokens)
        logits = self.model.classification_heads[head](features)
        return logits if return_logits else torch.log_softmax(logits, dim=-1)
