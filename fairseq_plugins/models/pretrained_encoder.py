"""Starting a model's :class:`BertPluginEncoder` from a converted checkpoint (``--pretrained-encoder``).

BLINK, LEAR and the NQ reader all accept ``--pretrained-encoder converted/model.pt``, any
checkpoint ``scripts/convert_hf_to_fairseq.py`` wrote. Its architecture fields replace the
command line's, so the size flags need not be repeated, and the path is then cleared from the
config, so that trained checkpoints load without the original file. Both must happen on the
config fairseq saves, which the task's ``build_model`` receives (the model's ``build_model``
sees a merged copy): the tasks therefore build through :func:`build_with_pretrained_encoder`,
and the models only load the weights it hands them (``load_pretrained_encoder``).
"""
import logging
from dataclasses import dataclass, field
from typing import Optional

from fairseq import checkpoint_utils
from fairseq.tasks import FairseqTask
from omegaconf import open_dict

from ..errors import InputError
from .bert_plugin import FLAVOURS, SIZES, BertPluginConfig, BertPluginEncoder, _register_arch

logger = logging.getLogger(__name__)

# Fields that define the pretrained network's shape; dropout and head settings stay the user's.
ARCHITECTURE_FIELDS = ("encoder_layers", "encoder_embed_dim", "encoder_ffn_embed_dim", "encoder_attention_heads",
                       "embedding_dim", "encoder_layer_groups", "activation_fn", "max_positions", "num_segments",
                       "padding_offset_positions", "layernorm_eps", "normalize_before", "no_embedding_layernorm",
                       "causal", "no_pooler")


@dataclass
class PretrainedEncoderConfig(BertPluginConfig):
    pretrained_encoder: Optional[str] = field(
        default=None, metadata={"help": "fairseq checkpoint of a converted encoder (model.pt from "
                                        "convert_hf_to_fairseq.py) to start from; its sizes override the flags"})


def apply_pretrained_architecture(cfg: PretrainedEncoderConfig):
    """Copy the pretrained checkpoint's architecture into ``cfg``; return its encoder weights (or None).

    ``cfg`` must be the config fairseq saves (see the module docstring), so that trained
    checkpoints carry the sizes and no longer name the pretrained file."""
    path = cfg.pretrained_encoder
    if not path:
        return None
    architecture, weights = read_pretrained(path, ARCHITECTURE_FIELDS, "encoder.", skip=("encoder.lm_head.",),
                                            expected="encoder.sentence_encoder.*")
    with open_dict(cfg):
        for name, value in architecture.items():
            cfg[name] = value
        cfg.pretrained_encoder = None
    return weights


def read_pretrained(path, architecture_fields, prefix: str, skip=(), expected: str = ""):
    """``(architecture, weights)`` of a fairseq checkpoint: the values of ``architecture_fields`` in its
    model config and the tensors whose names start with ``prefix`` (removed) but not with one of ``skip``.

    Shared by every model that starts from another checkpoint's encoder (``--pretrained-encoder`` here,
    UER's ``--pretrained-model-path``), so that a bad file is reported the same way everywhere."""
    try:
        state = checkpoint_utils.load_checkpoint_to_cpu(path)
    except (OSError, RuntimeError, KeyError, EOFError) as e:
        raise InputError(path, f"not a readable fairseq checkpoint ({type(e).__name__}: {e})")
    source = state["cfg"]["model"] if state.get("cfg") else vars(state["args"])
    architecture = {name: source[name] for name in architecture_fields if name in source}
    weights = {k[len(prefix):]: v for k, v in state["model"].items()
               if k.startswith(prefix) and not k.startswith(tuple(skip))}
    if not weights:
        raise InputError(path, f"holds no encoder weights (expected keys '{expected or prefix + '*'}')")
    logger.info("initialising from %s (%d tensors)", path, len(weights))
    return architecture, weights


def check_vocabulary_size(weights, key: str, expected: int, option: str):
    """A vocabulary of another size would otherwise fail as a bare shape mismatch."""
    rows = weights.get(key)
    if rows is not None and rows.size(0) != expected:
        raise InputError(option, f"{rows.size(0)} embedding rows but the task's vocabulary has "
                                 f"{expected}: use the vocabulary it was trained or converted with")


def load_encoder_weights(encoder: BertPluginEncoder, weights):
    """Load ``weights`` (from :func:`apply_pretrained_architecture`) into ``encoder``, strictly.

    A vocabulary of another size would otherwise fail as a bare shape mismatch; the pooler's
    weights are dropped when the model removed its pooler (it reads no pooled output)."""
    check_vocabulary_size(weights, "sentence_encoder.embeddings.embed_tokens.weight", len(encoder.dictionary),
                          "--pretrained-encoder")
    if encoder.pooler is None:
        weights = {k: v for k, v in weights.items() if not k.startswith("pooler.")}
    encoder.load_state_dict(weights, strict=True)


def build_with_pretrained_encoder(task: FairseqTask, cfg, from_checkpoint=False):
    """The ``build_model`` of a task whose model has ``load_pretrained_encoder(weights)``."""
    weights = apply_pretrained_architecture(cfg)
    model = FairseqTask.build_model(task, cfg, from_checkpoint)
    if weights is not None:
        model.load_pretrained_encoder(weights)
    return model


def register_sizes(model: str):
    """``<model>_tiny/_base/_large`` with BERT's flavour, as ``bert_plugin_*``."""
    for size, size_defaults in SIZES.items():
        _register_arch(model, f"{model}_{size}", {**FLAVOURS["bert_plugin"][1], **size_defaults})
