"""Left-to-right text generation by sampling: greedy, top-k, top-p (nucleus) and temperature.

The loop re-runs the model on the whole prefix at every step (no key/value cache): the ``uer``
encoders include RNNs and CNNs with no cache to speak of, and tools generate a few hundred tokens
at most. Sampling draws from a ``torch.Generator`` seeded once per run, so the same seed gives the
same text; greedy decoding takes the arg-max and draws nothing.
"""
from dataclasses import dataclass
from typing import Callable, Collection, List, Optional

import torch

from .errors import InputError


@dataclass
class SamplingConfig:
    greedy: bool = False
    top_k: int = 0          # keep the k most probable tokens (0: all)
    top_p: float = 0.0      # keep the smallest set whose probability reaches p (0: all)
    temperature: float = 1.0

    def check(self):
        if self.top_k < 0:
            raise InputError(None, f"must be >= 0, got {self.top_k}", field="--top-k")
        if not 0.0 <= self.top_p <= 1.0:
            raise InputError(None, f"must be in [0, 1], got {self.top_p}", field="--top-p")
        if not self.greedy and self.temperature <= 0:
            raise InputError(None, f"must be > 0 (for deterministic output use --greedy), got {self.temperature}",
                             field="--temperature")


def filter_logits(logits: torch.Tensor, top_k: int = 0, top_p: float = 0.0) -> torch.Tensor:
    """``logits`` (... x V) with every token outside the top-k and outside the top-p nucleus set to -inf.

    The nucleus keeps tokens in order of probability up to and including the first one at which the
    cumulative probability exceeds ``top_p``, so at least one token always survives.
    """
    logits = logits.clone()
    if top_k > 0:
        kth = torch.topk(logits, min(top_k, logits.size(-1)), dim=-1).values[..., -1:]
        logits[logits < kth] = float("-inf")
    if 0.0 < top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        cumulative = sorted_logits.softmax(-1).cumsum(-1)
        drop_sorted = cumulative > top_p
        drop_sorted[..., 1:] = drop_sorted[..., :-1].clone()  # keep the token that crosses p
        drop_sorted[..., 0] = False
        logits[drop_sorted.scatter(-1, order, drop_sorted)] = float("-inf")
    return logits


def next_token(logits: torch.Tensor, cfg: SamplingConfig, generator: Optional[torch.Generator]) -> int:
    """One token id from the logits (V) of the next position."""
    if cfg.greedy:
        return int(logits.argmax())
    filtered = filter_logits(logits.float() / cfg.temperature, cfg.top_k, cfg.top_p)
    return int(torch.multinomial(filtered.softmax(-1), 1, generator=generator))


def generate(step: Callable[[torch.Tensor], torch.Tensor], prompt: List[int], max_length: int, cfg: SamplingConfig,
             generator: Optional[torch.Generator] = None, stop_ids: Collection[int] = (),
             device: Optional[torch.device] = None) -> List[int]:
    """Extend ``prompt`` until it holds ``max_length`` tokens or a token of ``stop_ids`` is produced
    (that token is kept). ``step`` maps a 1 x T id tensor to the logits of position T + 1 (1 x V)."""
    cfg.check()
    tokens = torch.tensor([prompt], dtype=torch.long, device=device)
    while tokens.size(1) < max_length:
        chosen = next_token(step(tokens)[0], cfg, generator)
        tokens = torch.cat([tokens, tokens.new_tensor([[chosen]])], dim=1)
        if chosen in stop_ids:
            break
    return tokens[0].tolist()
