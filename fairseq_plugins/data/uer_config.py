"""UER-py json configs (``models/*_config.json``) as ``uer`` model options.

UER merges its config into argparse; here each key is checked and translated to the option of
the same meaning, so ``--uer-config models/bert/base_config.json`` builds the model UER would.
Keys that only steer UER's data pipeline are skipped; a key that would change the model but that
we do not implement is refused rather than ignored.
"""
import json
import os
from typing import Any, Dict

from .json_files import read_json_object
from ..errors import InputError

SIZES = ("emb_size", "hidden_size", "feedforward_size", "heads_num", "layers_num", "kernel_size", "block_size",
         "max_seq_length")
FLAGS = ("remove_embedding_layernorm", "tie_weights", "parameter_sharing", "bidirectional")
# Steer UER's data pipeline or scripts, not the network.
PIPELINE_KEYS = ("data_processor", "vocab_path", "spm_model_path", "tokenizer", "seq_length_tgt", "labels_num",
                 "factorized_embedding_parameterization", "tgt_embedding", "decoder")
ACTIVATIONS = {"gelu": "gelu", "gelu_fast": "gelu_accurate", "relu": "relu", "tanh": "tanh", "linear": "linear"}
EMBEDDINGS = {("word",): "word", ("word", "pos"): "word_pos", ("word", "pos", "seg"): "word_pos_seg",
              ("bert",): "word_pos_seg", ("word_pos",): "word_pos", ("word_pos_seg",): "word_pos_seg"}
TARGETS = {("mlm",): "mlm", ("lm",): "lm", ("bilm",): "bilm", ("cls",): "cls", ("bert",): "bert",
           ("albert",): "albert"}


def read_uer_config(path) -> Dict[str, Any]:
    """Option name -> value for the ``uer`` model, from one UER json config."""
    path = os.fspath(path)
    config = read_json_object(path, "a UER config of option: value")
    options = {}
    for key, value in config.items():
        options.update(_translate(path, key, value, config))
    return options


def _translate(path: str, key: str, value, config: dict) -> Dict[str, Any]:
    def bad(message):
        return InputError(path, message, field=key)

    if key in SIZES:
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise bad(f"expected a positive integer, got {value!r}")
        return {key: value}
    if key in ("dropout", "layernorm_eps"):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
            raise bad(f"expected a number in [0, 1), got {value!r}")
        return {key: float(value)}
    if key in FLAGS:
        if not isinstance(value, bool):
            raise bad(f"expected true or false, got {value!r}")
        return {key: value}
    if key in PIPELINE_KEYS:
        return {}
    if key == "hidden_act":
        if value not in ACTIVATIONS:
            raise bad(f"unsupported activation {value!r}; supported: {', '.join(ACTIVATIONS)}")
        return {key: ACTIVATIONS[value]}
    if key == "embedding":
        names = tuple(value) if isinstance(value, list) else (value,)
        if names not in EMBEDDINGS:
            raise bad(f"unsupported embedding {value!r}; supported: word, word pos, word pos seg")
        return {key: EMBEDDINGS[names]}
    if key == "encoder":
        from ..models.uer import ENCODERS

        if value not in ENCODERS:
            raise bad(f"unsupported encoder {value!r}; supported: {', '.join(ENCODERS)}")
        if value == "transformer" and config.get("mask") == "causal":
            return {key: "gpt"}
        return {key: value}
    if key == "mask":
        if value not in ("fully_visible", "causal"):
            raise bad(f"unsupported attention mask {value!r}; supported: fully_visible, causal")
        return {}  # folded into the encoder above
    if key == "layernorm_positioning":
        if value not in ("pre", "post"):
            raise bad(f"expected pre or post, got {value!r}")
        return {key: value}
    if key == "synt_type":
        if value not in ("dense", "random"):
            raise bad(f"expected dense or random, got {value!r}")
        return {key: value}
    if key == "seq_length":  # the synthesizer's attention width
        return {"max_seq_length": value} if "max_seq_length" not in config else {}
    if key == "target":
        names = tuple(value) if isinstance(value, list) else (value,)
        if names == ("mlm", "sp"):  # era-C spelling: the data processor says which sentence task
            return {key: "albert" if config.get("data_processor") == "albert" else "bert"}
        if names not in TARGETS:
            raise bad(f"unsupported target {value!r}; supported: {', '.join(t[0] for t in TARGETS)}, [mlm, sp]")
        return {key: TARGETS[names]}
    raise bad(f"unsupported option {value!r}: this key changes the model in UER-py but is not implemented here")


# Our option values -> UER's json spelling, for write_uer_config.
UER_EMBEDDINGS = {"word": ["word"], "word_pos": ["word", "pos"], "word_pos_seg": ["word", "pos", "seg"]}
UER_TARGETS = {"mlm": ["mlm"], "lm": ["lm"], "bilm": ["bilm"], "cls": ["cls"], "bert": ["mlm", "sp"],
               "albert": ["mlm", "sp"]}
WRITTEN_KEYS = SIZES + FLAGS + ("dropout", "layernorm_eps", "hidden_act", "layernorm_positioning", "synt_type")


def uer_config_from_options(options: Dict[str, Any]) -> Dict[str, Any]:
    """UER-py's json config for resolved ``uer`` model options: what UER-py needs to build the same model,
    and what :func:`read_uer_config` reads back into exactly these options."""
    config = {key: options[key] for key in WRITTEN_KEYS}
    activation = {ours: uer for uer, ours in ACTIVATIONS.items()}
    if options["hidden_act"] not in activation:
        raise ValueError(f"activation {options['hidden_act']!r} has no UER-py name ({', '.join(ACTIVATIONS)})")
    config["hidden_act"] = activation[options["hidden_act"]]
    config["embedding"] = UER_EMBEDDINGS[options["embedding"]]
    encoder = options["encoder"]
    config["encoder"] = "transformer" if encoder == "gpt" else encoder
    config["mask"] = "causal" if encoder == "gpt" else "fully_visible"
    config["target"] = UER_TARGETS[options["target"]]
    if options["target"] in ("bert", "albert"):
        config["data_processor"] = options["target"]
    config["factorized_embedding_parameterization"] = options["emb_size"] != options["hidden_size"]
    return config


def write_uer_config(options: Dict[str, Any], path) -> Dict[str, Any]:
    config = uer_config_from_options(options)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    return config
