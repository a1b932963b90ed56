"""Python access to a trained or converted encoder: ``BertPluginModel.from_pretrained(dir)``.

``from_pretrained`` reads either a converted Hugging Face folder (``model.pt`` + ``dict.txt`` +
tokenizer files) or a ``fairseq-train`` save dir (``checkpoint_file="checkpoint_best.pt"``,
``data_name_or_path=<data-bin>``). Raw text is tokenized by the tokenizer files that travel with
the model, through :func:`fairseq_plugins.tokenization.build_tokenizer`, so ``encode`` gives the
ids the original Hugging Face tokenizer gives.
"""
from __future__ import annotations

import json
import os
from typing import List, Optional, Union

import torch
from fairseq import hub_utils
from torch import nn

from ..errors import InputError
from ..tokenization import ByteBPETokenizer, SentencePieceTokenizer, WordPieceTokenizer, build_tokenizer

# (tokenizer kind, files it needs), first match wins; the file names Hugging Face saves.
TOKENIZER_LAYOUTS = (
    ("bert", ("vocab.txt",)),
    ("bytebpe", ("vocab.json", "merges.txt")),
    ("sentencepiece", ("spiece.model",)),
    ("sentencepiece", ("sentencepiece.bpe.model",)),
)


class EncoderHubInterface(nn.Module):
    """Holds cfg, task and model; raw text <-> ids, features and classification-head predictions."""

    def __init__(self, cfg, task, model, tokenizer_dirs=()):
        super().__init__()
        self.cfg = cfg
        self.task = task
        self.model = model
        self.tokenizer_dirs = [os.fspath(d) for d in tokenizer_dirs]
        self._tokenizer = None
        self.register_buffer("_device_tracker", torch.tensor([0.0]), persistent=False)

    @classmethod
    def from_pretrained(cls, model_name_or_path, checkpoint_file="model.pt", data_name_or_path=".",
                        tokenizer_dir=None, **kwargs):
        """Load for inference (dropout off). Tokenizer files are looked for in ``tokenizer_dir`` if
        given, else in the model folder, then in the data folder (a save dir usually has none)."""
        loaded = hub_utils.from_pretrained(model_name_or_path, checkpoint_file, data_name_or_path,
                                           archive_map={}, load_checkpoint_heads=True, **kwargs)
        dirs = [tokenizer_dir] if tokenizer_dir is not None else [model_name_or_path, loaded["args"].task.data]
        hub = cls(loaded["args"], loaded["task"], loaded["models"][0], tokenizer_dirs=dirs)
        return hub.eval()

    @property
    def device(self):
        return self._device_tracker.device

    @property
    def dictionary(self):
        return self.task.source_dictionary

    # ------------------------------------------------------------------ text <-> ids

    @property
    def tokenizer(self):
        """Built on first use, so that a model without tokenizer files still loads for id input."""
        if self._tokenizer is None:
            self._tokenizer = self._build_tokenizer()
        return self._tokenizer

    def _build_tokenizer(self):
        for directory in self.tokenizer_dirs:
            for kind, names in TOKENIZER_LAYOUTS:
                paths = [os.path.join(directory, n) for n in names]
                if all(os.path.isfile(p) for p in paths):
                    tokenizer = build_tokenizer(kind, paths[0], merges_path=paths[1] if len(paths) > 1 else None,
                                                lowercase=None if kind == "bert" else _do_lower_case(directory))
                    self._check_ids_agree(tokenizer, paths[0])
                    return tokenizer
        wanted = " or ".join("+".join(names) for _, names in TOKENIZER_LAYOUTS)
        raise InputError(", ".join(self.tokenizer_dirs) or None,
                         f"no tokenizer files ({wanted}); pass tokenizer_dir= to from_pretrained, "
                         "or use encode_tokens() with already tokenized text")

    def _check_ids_agree(self, tokenizer, path):
        """The tokenizer's ids must be the model's rows; a vocabulary from another model would not be."""
        ours, theirs = self.dictionary.symbols, tokenizer.dictionary.symbols
        n = min(len(ours), len(theirs))
        if ours[:n] != theirs[:n]:
            first = next(i for i in range(n) if ours[i] != theirs[i])
            raise InputError(path, f"id {first} is {theirs[first]!r} here but {ours[first]!r} in the model's "
                                   "dictionary: these tokenizer files belong to another model")

    def encode(self, sentence: str, *more_sentences: str) -> torch.LongTensor:
        """Ids of raw text as the original tokenizer gives them: ``[CLS] a [SEP] b [SEP]``
        (``<s> a </s></s> b </s>`` for RoBERTa). Segment ids: :meth:`segment_labels`."""
        ids = self.tokenizer.encode_batch([sentence, *more_sentences])
        d = self.dictionary
        # RoBERTa-style models (their position numbering says so) separate with a doubled </s>, as HF does.
        extra_separator = [d.eos()] if getattr(self.cfg.model, "padding_offset_positions", False) else []
        out = [d.bos()] + ids[0] + [d.eos()]
        for more in ids[1:]:
            out += extra_separator + more + [d.eos()]
        return torch.tensor(out, dtype=torch.long)

    def encode_tokens(self, tokens: List[str]) -> torch.LongTensor:
        """Ids of already tokenized text, wrapped in the dictionary's bos/eos ([CLS] ... [SEP])."""
        d = self.dictionary
        return torch.tensor([d.bos()] + [d.index(t) for t in tokens] + [d.eos()], dtype=torch.long)

    def decode(self, tokens: torch.LongTensor) -> Union[str, List[str]]:
        """Text of ids from :meth:`encode`: one string, or a list when it holds several sentences."""
        from tokenizers import decoders

        d = self.dictionary
        ids = [int(i) for i in torch.as_tensor(tokens).view(-1)]
        if ids and ids[0] == d.bos():
            ids = ids[1:]
        sentences, current = [], []
        for i in ids:
            if i == d.eos():
                if current:
                    sentences.append(current)
                current = []
            elif i != d.pad():
                current.append(d[i])
        if current:
            sentences.append(current)
        decoder = next((decoder for kind, decoder in ((WordPieceTokenizer, decoders.WordPiece()),
                                                      (ByteBPETokenizer, decoders.ByteLevel()),
                                                      (SentencePieceTokenizer, decoders.Metaspace()))
                        if isinstance(self.tokenizer, kind)), None)
        texts = [decoder.decode(s) if decoder else " ".join(s) for s in sentences]
        return texts[0] if len(texts) == 1 else texts

    def segment_labels(self, tokens: torch.LongTensor) -> torch.LongTensor:
        """BERT token types for ids from :meth:`encode`: 0 up to the first [SEP], 1 after it.

        Only for models trained with segments (``num_segments`` 2): pass them to
        :meth:`extract_features` to match Hugging Face on sentence pairs.
        """
        eos = tokens.eq(self.dictionary.eos()).long()
        return ((eos.cumsum(dim=-1) - eos) > 0).long()

    # ------------------------------------------------------------------ model

    def _batch(self, tokens: torch.LongTensor) -> torch.LongTensor:
        return (tokens.unsqueeze(0) if tokens.dim() == 1 else tokens).to(self.device)

    @torch.no_grad()
    def extract_features(self, tokens: torch.LongTensor, return_all_hiddens: bool = False,
                         segment_labels: Optional[torch.LongTensor] = None):
        """Last hidden state (B x T x C), or the list of all hidden states."""
        tokens = self._batch(tokens)
        if tokens.size(-1) > self.model.max_positions():
            raise ValueError(f"{tokens.size(-1)} tokens exceed the model's {self.model.max_positions()} positions")
        if segment_labels is not None:
            segment_labels = self._batch(segment_labels)
        features, extra = self.model(tokens, features_only=True, return_all_hiddens=return_all_hiddens,
                                     segment_labels=segment_labels)
        return extra["inner_states"] if return_all_hiddens else features

    @torch.no_grad()
    def predict(self, head: str, tokens: torch.LongTensor, return_logits: bool = False,
                segment_labels: Optional[torch.LongTensor] = None):
        features = self.extract_features(tokens, segment_labels=segment_labels)
        logits = self.model.classification_heads[head](features)
        return logits if return_logits else torch.log_softmax(logits, dim=-1)


def _do_lower_case(directory) -> bool:
    """``do_lower_case`` of a Hugging Face tokenizer_config.json (ALBERT's is true); build_tokenizer
    reads it itself for WordPiece only."""
    path = os.path.join(directory, "tokenizer_config.json")
    if not os.path.isfile(path):
        return False
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f).get("do_lower_case", False)
    except (ValueError, AttributeError) as e:
        raise InputError(path, f"not a tokenizer config ({e})")
    return value is True
