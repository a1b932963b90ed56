"""UER-py's masking, shared by static masking (at preprocessing) and dynamic masking (at training).

fairseq's ``MaskTokensDataset`` picks ``int(p * n + U)`` tokens anywhere (specials included) and
has no geometric spans; UER instead predicts exactly ``max(1, round(p * n))`` of the ``n``
maskable tokens (never ``[CLS]``/``[SEP]``/``[PAD]``), in units that are single tokens, whole
words (``word_starts``) or SpanBERT spans (length ~ Geometric(``span_geo_prob``) capped at
``span_max_length``). Each chosen token becomes ``[MASK]`` (80%), a random ordinary token (10%) or
stays (10%); for spans the choice is made once per span, as in UER.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np


@dataclass
class MaskingConfig:
    mask_idx: int
    pad_idx: int
    special_ids: Tuple[int, ...]   # never masked, never drawn as random replacements
    vocab_size: int
    mask_prob: float = 0.15
    random_token_prob: float = 0.1
    leave_unmasked_prob: float = 0.1
    span_masking: bool = False
    span_geo_prob: float = 0.2
    span_max_length: int = 10

    def __post_init__(self):
        specials = np.zeros(self.vocab_size, dtype=bool)
        specials[list(self.special_ids)] = True
        self.maskable_vocab = np.flatnonzero(~specials)
        self._specials = specials
        lengths = np.arange(1, self.span_max_length + 1)
        weights = self.span_geo_prob * (1 - self.span_geo_prob) ** (lengths - 1)
        self.span_length_probs = weights / weights.sum()

    def is_special(self, tokens: np.ndarray) -> np.ndarray:
        return self._specials[tokens]


def _units(candidates: np.ndarray, word_starts: Optional[np.ndarray]):
    """Maskable positions grouped into whole words (a word continues until the next word start)."""
    if word_starts is None:
        return [[i] for i in candidates]
    units, current = [], []
    for i in candidates:
        if current and (word_starts[i] or i != current[-1] + 1):
            units.append(current)
            current = []
        current.append(i)
    if current:
        units.append(current)
    return units


def mask_tokens(tokens: np.ndarray, cfg: MaskingConfig, rng: np.random.RandomState,
                word_starts: Optional[np.ndarray] = None) -> Tuple[np.ndarray, np.ndarray]:
    """(masked input, target): target holds the original id at predicted positions, pad elsewhere."""
    tokens = np.asarray(tokens)
    source, target = tokens.copy(), np.full_like(tokens, cfg.pad_idx)
    maskable = ~cfg.is_special(tokens)
    candidates = np.flatnonzero(maskable)
    if len(candidates) == 0:
        return source, target
    budget = max(1, int(round(len(candidates) * cfg.mask_prob)))
    chosen = np.zeros(len(tokens), dtype=bool)
    count = 0
    if cfg.span_masking:
        for start in rng.permutation(candidates):
            if count >= budget:
                break
            if chosen[start]:
                continue
            length = span_length(cfg, rng)
            span = []
            for i in range(start, min(start + length, len(tokens))):
                if not maskable[i] or chosen[i] or count + len(span) >= budget:
                    break
                span.append(i)
            chosen[span] = True
            count += len(span)
            _replace(source, span, rng.random_sample(), cfg, rng)
    else:
        units = _units(candidates, word_starts)
        for u in rng.permutation(len(units)):
            unit = units[u]
            if count >= budget:
                break
            if count + len(unit) > budget:
                continue
            chosen[unit] = True
            count += len(unit)
            for i in unit:
                _replace(source, [i], rng.random_sample(), cfg, rng)
    target[chosen] = tokens[chosen]
    return source, target


def span_length(cfg: MaskingConfig, rng: np.random.RandomState) -> int:
    """A SpanBERT span length: P(l) proportional to p (1 - p)^(l - 1), l = 1 .. span_max_length."""
    return int(rng.choice(len(cfg.span_length_probs), p=cfg.span_length_probs)) + 1


def _replace(source: np.ndarray, positions, draw: float, cfg: MaskingConfig, rng: np.random.RandomState):
    """80% [MASK], 10% random ordinary tokens, 10% unchanged (for the given positions together)."""
    if draw < 1 - cfg.random_token_prob - cfg.leave_unmasked_prob:
        source[positions] = cfg.mask_idx
    elif draw < 1 - cfg.leave_unmasked_prob:
        source[positions] = rng.choice(cfg.maskable_vocab, size=len(positions))

