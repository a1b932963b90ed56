"""A trained ``uer`` or ``bert_plugin``/``roberta_plugin`` checkpoint plus its vocabulary, for the tool scripts.

UER-py's tools take a model file and a vocabulary. fairseq's own loaders rebuild the task instead,
which for ``uer_pretrain`` needs the binarized data folder, so here the model is built from the
checkpoint's config and a vocabulary found in this order: ``--vocab-path`` if given, else the
``dict.txt`` beside the checkpoint (converted and adapted models), else the task's vocabulary
(``--vocab`` of ``uer_classification``, ``dict.txt`` of the data folder). A vocabulary whose size
is not the embedding's row count is refused, since its ids would name other rows. (The ``uer_infer_*``
scripts load fine-tuned checkpoints with their task instead: :mod:`fairseq_plugins.uer_inference`.)

:class:`ToolModel` gives every tool the same view whatever the family: text -> ids, padded batches
with the segment ids the family was trained with, hidden states, masked-LM and next-token logits,
the word embedding, and the state-dict entries indexed by token id (for the vocabulary adapter).
"""
import argparse
import contextlib
import logging
import os
import re
import sys
from types import SimpleNamespace
from typing import Callable, Dict, List, Optional, Sequence, TextIO, Tuple

import torch
from omegaconf import open_dict

from .data.vocab_dictionary import VocabDictionary, read_vocab
from .errors import InputError
from .models.hub_interface import TOKENIZER_LAYOUTS
from .models.uer import _pool
from .tokenization import KINDS, ByteBPETokenizer, CharTokenizer, SentencePieceTokenizer, WordPieceTokenizer, \
    build_tokenizer

logger = logging.getLogger(__name__)

# registered model name -> the family whose module layout the tools know
FAMILIES = {"uer": "uer", "bert_plugin": "bert", "roberta_plugin": "bert"}
POOLINGS = ("first", "mean", "max", "last")
MASK_SPELLINGS = ("[MASK]", "<mask>")


class ToolModel:
    """See the module docstring. Built by :func:`load_tool_model`; in eval mode, gradients off."""

    def __init__(self, path: str, state: dict, cfg, model, dictionary: VocabDictionary, vocab_path: str,
                 tokenizer_spec: Tuple[str, str, Optional[str], Optional[str]]):
        self.path = path
        self.state = state
        self.cfg = cfg
        self.model = model
        self.dictionary = dictionary
        self.vocab_path = vocab_path
        self.family = FAMILIES[model_name(cfg)]
        self._tokenizer_spec = tokenizer_spec
        self._tokenizer = None

    # ------------------------------------------------------------------ text <-> ids

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @property
    def tokenizer(self):
        """Built on first use: tools that read only weights need no tokenizer files."""
        if self._tokenizer is None:
            kind, vocab, merges, spm_model = self._tokenizer_spec
            tokenizer = build_tokenizer(kind, vocab, merges_path=merges, spm_model_path=spm_model)
            ours, theirs = self.dictionary.symbols, tokenizer.dictionary.symbols
            if ours[:len(theirs)] != theirs[:len(ours)]:
                first = next(i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b)
                raise InputError(vocab, f"the {kind} tokenizer's id {first} is {theirs[first]!r} but the model's "
                                        f"vocabulary ({self.vocab_path}) has {ours[first]!r} there")
            self._tokenizer = tokenizer
        return self._tokenizer

    def token_ids(self, texts: Sequence[str]) -> List[List[int]]:
        """Vocabulary ids of each text, without special tokens (one batched tokenizer call)."""
        return self.tokenizer.encode_batch(list(texts))

    def encode(self, texts: Sequence[str], seq_length: int, sep: bool = True) -> Tuple[List[List[int]], int]:
        """``[CLS] text [SEP]`` ids per text (``sep=False``: no ``[SEP]``, a language-model prompt),
        cut to ``seq_length``; returns the ids and how many were cut."""
        return self.wrap(self.token_ids(texts), seq_length, sep)

    def wrap(self, ids: Sequence[List[int]], seq_length: int, sep: bool = True) -> Tuple[List[List[int]], int]:
        d = self.dictionary
        if seq_length < 2:
            raise InputError(None, f"must be at least 2 ([CLS] and one token), got {seq_length}", field="--seq-length")
        positions = self.model.max_positions()
        if positions is not None and seq_length > positions:
            logger.warning("--seq-length %d is more than the model's %d positions: using %d", seq_length, positions,
                           positions)
            seq_length = positions
        out, cut = [], 0
        for row in ids:
            seq = [d.bos(), *row] + ([d.eos()] if sep else [])
            if len(seq) > seq_length:
                seq, cut = seq[:seq_length], cut + 1
            out.append(seq)
        return out, cut

    def encode_masked(self, texts: Sequence[str], seq_length: int) -> Tuple[List[List[int]], int]:
        """Like :meth:`encode`, with each literal ``[MASK]`` (or ``<mask>``) of the text becoming the
        vocabulary's mask id (tokenizers read it as ordinary text, so the text is split around it)."""
        mask = self.dictionary.mask()
        if mask is None:
            raise InputError(self.vocab_path, "the vocabulary has no mask token ([MASK] or <mask>)")
        splitter = re.compile("|".join(re.escape(s) for s in {*MASK_SPELLINGS, self.dictionary[mask]}))
        pieces = [splitter.split(t) for t in texts]
        flat = self.token_ids([p for parts in pieces for p in parts])
        ids, k = [], 0
        for parts in pieces:
            row = []
            for j in range(len(parts)):
                if j:
                    row.append(mask)
                row += flat[k]
                k += 1
            ids.append(row)
        return self.wrap(ids, seq_length)

    def tokens(self, ids: Sequence[int]) -> List[str]:
        return [self.dictionary[i] for i in ids]

    def detokenize(self, ids: Sequence[int]) -> str:
        """Text of ids, special tokens dropped, joined the tokenizer's way (WordPiece ``##``, byte-level
        ``Ġ``, sentencepiece ``▁``, characters without spaces)."""
        d = self.dictionary
        specials = {d.bos(), d.eos(), d.pad()}
        return detokenize(self.tokenizer, [d[i] for i in ids if i not in specials])

    # ------------------------------------------------------------------ batches and model parts

    def collate(self, seqs: Sequence[List[int]]) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Right-padded tokens and the segment ids of one sentence (UER: 1, 0 on padding; BERT: 0),
        or None for a model without segment embeddings."""
        pad = self.dictionary.pad()
        tokens = torch.full((len(seqs), max(map(len, seqs))), pad, dtype=torch.long)
        for i, seq in enumerate(seqs):
            tokens[i, :len(seq)] = torch.as_tensor(seq, dtype=torch.long)
        tokens = tokens.to(self.device)
        return tokens, self.segments(tokens)

    def segments(self, tokens: torch.Tensor) -> Optional[torch.Tensor]:
        if self.family == "uer":
            return tokens.ne(self.dictionary.pad()).long() if self.cfg.model.embedding == "word_pos_seg" else None
        return torch.zeros_like(tokens) if self.cfg.model.num_segments > 0 else None

    def batches(self, seqs: Sequence[List[int]], batch_size: int, desc: Optional[str] = None):
        """``(start, tokens, segments)`` per batch of ``seqs``, with a progress bar when ``desc`` is given."""
        from tqdm import tqdm

        if batch_size < 1:
            raise InputError(None, f"must be at least 1, got {batch_size}", field="--batch-size")
        starts = range(0, len(seqs), batch_size)
        for start in tqdm(starts, desc=desc, unit="batch", disable=desc is None or None, file=sys.stderr):
            yield (start, *self.collate(seqs[start:start + batch_size]))

    @torch.inference_mode()
    def hidden_states(self, tokens: torch.Tensor, segments: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Last layer, B x T x C."""
        if self.family == "uer":
            return self.model.body(tokens, segments)
        return self.model.encoder.sentence_encoder(tokens, segments)[-1]

    @torch.inference_mode()
    def pooled(self, tokens: torch.Tensor, segments: Optional[torch.Tensor], pooling: str) -> torch.Tensor:
        """One vector per sequence: ``first`` ([CLS]), ``mean``/``max`` over real tokens, ``last`` real token."""
        if pooling not in POOLINGS:
            raise InputError(None, f"unknown pooling {pooling!r}; expected one of {', '.join(POOLINGS)}",
                             field="--pooling")
        return _pool(self.hidden_states(tokens, segments), tokens.ne(self.dictionary.pad()), pooling)

    def mlm_head(self) -> Callable[[torch.Tensor], torch.Tensor]:
        head = getattr(self.model, "mlm_head", None) if self.family == "uer" else self.model.encoder.lm_head
        if head is None:
            raise InputError(self.path, f"this model (target {self.cfg.model.target!r}) has no masked-LM head; "
                                        "the cloze test needs a model trained with the mlm, bert or albert target")
        return head

    @torch.inference_mode()
    def mlm_logits(self, states: torch.Tensor) -> torch.Tensor:
        """Masked-LM logits over the vocabulary for hidden states (... x C -> ... x V)."""
        return self.mlm_head()(states)

    @torch.inference_mode()
    def next_token_logits(self, tokens: torch.Tensor, segments: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Logits for the token after the last position of each (unpadded) row: B x V."""
        states = self.hidden_states(tokens, segments)[:, -1]
        if self.family == "uer":
            if self.cfg.model.target != "lm":
                raise InputError(self.path, f"this model was trained with the {self.cfg.model.target!r} target; "
                                            "generation needs a left-to-right language model (--target lm)")
            return self.model.lm_output(states)
        if not self.cfg.model.causal:
            raise InputError(self.path, "this model reads the whole sequence (not --causal), so it cannot "
                                        "generate text left to right")
        return self.model.encoder.lm_head(states)

    def word_embedding(self) -> torch.Tensor:
        """The V x E input word-embedding table."""
        return self.embeddings().embed_tokens.weight.detach()

    def embeddings(self):
        return self.model.body.embeddings if self.family == "uer" else self.model.encoder.sentence_encoder.embeddings

    def vocab_indexed_entries(self) -> List[str]:
        """State-dict names of the tensors whose rows are token ids: the word embedding, and the output
        projection and bias of the masked-LM / LM head (tied ones included under each name)."""
        if self.family == "uer":
            heads = [getattr(self.model, name, None) for name in ("mlm_head", "lm_output")]
        else:
            heads = [self.model.encoder.lm_head]
        wanted = {id(self.embeddings().embed_tokens.weight)}
        for head in heads:
            if head is not None:
                wanted |= {id(head.weight), id(head.bias)}
        return [name for name, value in self.model.state_dict(keep_vars=True).items() if id(value) in wanted]

    def describe(self) -> str:
        m = self.cfg.model
        if self.family == "uer":
            return (f"uer (embedding {m.embedding}, encoder {m.encoder}, target {m.target}, "
                    f"{m.layers_num} layers, hidden {m.hidden_size})")
        flavour = "causal " if m.causal else ""
        return f"{model_name(self.cfg)} ({flavour}{m.encoder_layers} layers, hidden {m.encoder_embed_dim})"


def detokenize(tokenizer, tokens: List[str]) -> str:
    from tokenizers import decoders

    if isinstance(tokenizer, WordPieceTokenizer):
        # WordPiece's decoder spaces every CJK character; Chinese text reads without them.
        return _CJK_GAP.sub("", decoders.WordPiece().decode(tokens))
    if isinstance(tokenizer, ByteBPETokenizer):
        return decoders.ByteLevel().decode(tokens)
    if isinstance(tokenizer, SentencePieceTokenizer):
        return decoders.Metaspace().decode(tokens)
    return ("" if isinstance(tokenizer, CharTokenizer) else " ").join(tokens)


_CJK = "\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")


# ---------------------------------------------------------------------- loading

def load_tool_model(path, vocab: Optional[str] = None, tokenizer: Optional[str] = None, merges: Optional[str] = None,
                    spm_model: Optional[str] = None, device: Optional[str] = None) -> ToolModel:
    """Load a checkpoint for the tools (see the module docstring); ``tokenizer`` is one of
    :data:`fairseq_plugins.tokenization.KINDS` (default: the task's, else Hugging Face tokenizer files
    beside the checkpoint, else ``bert`` as in UER-py)."""
    from fairseq import checkpoint_utils

    import fairseq_plugins  # noqa: F401  (registers the models; allow-lists checkpoint contents)

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, "checkpoint not found")
    state = checkpoint_utils.load_checkpoint_to_cpu(path)
    cfg = state.get("cfg")
    name = model_name(cfg)
    if name not in FAMILIES:
        raise InputError(path, f"a {name!r} checkpoint; the tools read the {', '.join(FAMILIES)} models")
    family = FAMILIES[name]
    weights = state["model"]
    embedding_key = ("body" if family == "uer" else "encoder.sentence_encoder") + ".embeddings.embed_tokens.weight"
    if embedding_key not in weights:
        raise InputError(path, f"no word embedding ({embedding_key}) in the model weights")
    rows = weights[embedding_key].size(0)
    vocab_path = _find_vocab(path, cfg, vocab, rows)
    dictionary = VocabDictionary(*read_vocab(vocab_path), source=vocab_path)
    if len(dictionary) != rows:  # VocabDictionary appends the roles a vocabulary lacks
        raise InputError(vocab_path, f"{len(dictionary)} entries with the specials it lacks added, but the "
                                     f"checkpoint's embedding has {rows} rows")

    model = build_model(cfg, dictionary, weights["cls_output.weight"].size(0) if "cls_output.weight" in weights else 0)
    try:
        model.load_state_dict(weights, strict=True, model_cfg=cfg.model)
    except RuntimeError as e:
        raise InputError(path, f"the weights do not fit the model its config describes ({e})")
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    model = model.to(device).eval()
    return ToolModel(path, state, cfg, model, dictionary, vocab_path,
                     _tokenizer_spec(path, cfg, vocab, vocab_path, tokenizer, merges, spm_model))


def build_model(cfg, dictionary: VocabDictionary, labels_num: int = 0) -> torch.nn.Module:
    """The model a checkpoint's config describes, over ``dictionary``, with fresh weights (no task needed)."""
    from fairseq import models as fairseq_models

    stub_task = SimpleNamespace(source_dictionary=dictionary, target_dictionary=dictionary, dictionary=dictionary,
                                labels_num=labels_num)
    if FAMILIES.get(model_name(cfg)) == "bert":
        with open_dict(cfg.model):
            cfg.model.load_checkpoint_heads = True  # rebuild the classification heads the weights hold
    return fairseq_models.build_model(cfg.model, stub_task, from_checkpoint=True)


def model_name(cfg) -> Optional[str]:
    """The registered model of a checkpoint's config (its ``_name`` is the arch, e.g. ``uer_bert_tiny``)."""
    from fairseq.models import ARCH_MODEL_NAME_REGISTRY

    name = getattr(getattr(cfg, "model", None), "_name", None)
    return ARCH_MODEL_NAME_REGISTRY.get(name, name)


def _find_vocab(path: str, cfg, given: Optional[str], rows: int) -> str:
    if given:
        if not os.path.isfile(given):
            raise InputError(given, "vocabulary file not found")
        return given
    candidates = [os.path.join(os.path.dirname(os.path.abspath(path)), "dict.txt")]
    task_vocab = getattr(cfg.task, "vocab", None)
    if task_vocab:
        candidates.append(task_vocab)
    task_data = getattr(cfg.task, "data", None)
    if task_data:
        candidates.append(os.path.join(task_data.split(os.pathsep)[0], "dict.txt"))
    for candidate in candidates:
        if os.path.isfile(candidate):
            logger.info("vocabulary: %s", candidate)
            return candidate
    raise InputError(path, f"no vocabulary found (looked for {', '.join(candidates)}); give --vocab-path "
                           f"(the checkpoint has {rows} token rows)")


def _tokenizer_spec(path, cfg, vocab_given, vocab_path, kind, merges, spm_model):
    """(kind, vocabulary, merges, sentencepiece model) to build the tokenizer from when it is needed."""
    if kind is None and not vocab_given:
        kind = getattr(cfg.task, "tokenizer_kind", None)
        if kind is None:  # a converted Hugging Face folder carries its tokenizer files
            folder = os.path.dirname(os.path.abspath(path))
            for layout_kind, names in TOKENIZER_LAYOUTS:
                files = [os.path.join(folder, n) for n in names]
                if all(os.path.isfile(f) for f in files):
                    return layout_kind, files[0], files[1] if len(files) > 1 else merges, spm_model
    kind = kind or "bert"
    if kind not in KINDS:
        raise InputError(None, f"unknown tokenizer {kind!r}; expected one of {', '.join(KINDS)}", field="--tokenizer")
    if kind == "sentencepiece" and spm_model is None and not vocab_path.endswith(".model"):
        raise InputError(vocab_path, "the sentencepiece tokenizer needs its .model: give --spm-model-path")
    return kind, vocab_path, merges, spm_model


# ---------------------------------------------------------------------- command lines

def add_model_args(parser: argparse.ArgumentParser, tokenizer: bool = True):
    """The options every tool that loads a model takes (UER-py's names, with dashes)."""
    group = parser.add_argument_group("model")
    group.add_argument("--load-model-path", "--pretrained-model-path", dest="load_model_path", required=True,
                       help="a uer / bert_plugin / roberta_plugin checkpoint (.pt)")
    group.add_argument("--vocab-path", "--vocab", dest="vocab_path",
                       help="its vocabulary (default: dict.txt beside the checkpoint, else the training task's)")
    if tokenizer:
        group.add_argument("--tokenizer", choices=KINDS,
                           help="default: the training task's, else Hugging Face files beside the checkpoint, "
                                "else bert")
        group.add_argument("--merges-path", help="bytebpe: vocab.bpe / merges.txt")
        group.add_argument("--spm-model-path", help="sentencepiece: the .model, when --vocab-path is a piece list")
    group.add_argument("--cpu", action="store_true", help="run on CPU even when a GPU is present")


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_neighbour_args(parser: argparse.ArgumentParser):
    """The options of the nearest-neighbour tools (topn_words_indep, topn_words_dep)."""
    parser.add_argument("--cand-vocab-path", help="candidate words (default: the model's vocabulary)")
    parser.add_argument("--topn", type=positive_int, default=20, help="neighbours per word")
    parser.add_argument("--output-path", help="default: stdout")


def output_stream(stack: contextlib.ExitStack, path: Optional[str]) -> TextIO:
    """``path`` opened for writing (closed with ``stack``), or stdout when it is None."""
    return stack.enter_context(open(path, "w", encoding="utf-8")) if path else sys.stdout


def model_from_args(args) -> ToolModel:
    return load_tool_model(args.load_model_path, vocab=args.vocab_path, tokenizer=getattr(args, "tokenizer", None),
                           merges=getattr(args, "merges_path", None), spm_model=getattr(args, "spm_model_path", None),
                           device="cpu" if args.cpu else None)


def run_cli(main: Callable[[Optional[List[str]]], object], argv: Optional[List[str]] = None):
    """Run a tool's ``main``; bad input ends it with one line naming the file, line and field."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s | %(levelname)s | %(name)s | %(message)s",
                        stream=sys.stderr)
    try:
        return main(argv)
    except InputError as e:
        sys.exit(f"{os.path.basename(sys.argv[0])}: error: {e}")


def read_lines(path) -> List[str]:
    """Stripped lines of a UTF-8 text file; a bad byte is reported with its line."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, "input file not found")
    lines = []
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                lines.append(raw.decode("utf-8").strip())
            except UnicodeDecodeError as e:
                raise InputError(path, f"not UTF-8 text ({e})", line=number)
    return lines


def save_matrix(matrix: torch.Tensor, path: str, row_names: Optional[Sequence[str]] = None) -> str:
    """Write rows by the extension: ``.pt`` (torch), ``.npy`` (numpy), else text — one row a line,
    space-separated, after its name when ``row_names`` is given, under a ``rows dims`` header then
    (word2vec's text format, which UER-py's extract_embeddings writes)."""
    matrix = matrix.detach().float().cpu()
    if path.endswith(".pt"):
        torch.save(matrix, path)
    elif path.endswith(".npy"):
        import numpy as np

        np.save(path, matrix.numpy())
    else:
        with open(path, "w", encoding="utf-8") as f:
            if row_names is not None:
                f.write(f"{matrix.size(0)} {matrix.size(1)}\n")
            for i, row in enumerate(matrix.tolist()):
                values = " ".join(f"{x:.6g}" for x in row)
                f.write(f"{row_names[i]} {values}\n" if row_names is not None else values + "\n")
    return path


def cosine_top(query: torch.Tensor, candidates: torch.Tensor, k: int, exclude: Sequence[int] = ()) \
        -> Tuple[torch.Tensor, torch.Tensor]:
    """Top-``k`` cosine similarities of ``query`` (C) to the rows of ``candidates`` (N x C), leaving out
    the rows in ``exclude`` (the query word itself): (scores, row indices)."""
    sims = torch.nn.functional.cosine_similarity(query.float()[None], candidates.float(), dim=-1)
    if len(exclude):
        sims[torch.as_tensor(list(exclude), dtype=torch.long, device=sims.device)] = float("-inf")
    k = min(k, int(torch.isfinite(sims).sum()))
    return sims.topk(k)


def candidate_ids(tool: ToolModel, cand_vocab: Optional[str]) -> Tuple[List[int], int]:
    """Ids of the candidate words (``--cand-vocab-path``, default the model's vocabulary without its
    special and bracketed tokens), and how many candidates are not in the model's vocabulary."""
    d = tool.dictionary
    if cand_vocab is None:
        specials = {d.bos(), d.eos(), d.pad(), d.unk(), d.mask()}
        return [i for i, t in enumerate(d.symbols) if i not in specials and not _bracketed(t)], 0
    words, _ = read_vocab(cand_vocab)
    ids = [d.indices[w] for w in words if w in d.indices]
    if not ids:
        raise InputError(cand_vocab, f"none of its {len(words)} words is in the model's vocabulary {tool.vocab_path}")
    return ids, len(words) - len(ids)


def _bracketed(token: str) -> bool:
    return len(token) > 2 and token[0] + token[-1] in ("[]", "<>")


TensorRow = Tuple[str, Tuple[int, ...], str, int, Optional[str]]


def state_dict_summary(model: torch.nn.Module) -> Tuple[List[TensorRow], int]:
    """(name, shape, dtype, count, tied-to name) per state-dict entry, and the number of distinct parameters."""
    first_name: Dict[int, str] = {}
    rows, total = [], 0
    for name, value in model.state_dict(keep_vars=True).items():
        tied = first_name.get(id(value))
        if tied is None:
            first_name[id(value)] = name
            if isinstance(value, torch.nn.Parameter):
                total += value.numel()
        rows.append((name, tuple(value.shape), str(value.dtype).replace("torch.", ""), value.numel(), tied))
    return rows, total
