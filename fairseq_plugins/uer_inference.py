"""What UER-py's ``inference/run_*_infer.py`` scripts share: load a fine-tuned checkpoint with its task, and run
its model over a dataset in file order, in batches, with a progress bar.

The task comes back as it was trained (vocabulary, tokenizer, sequence length, label counts and the
training files' columns are all in the checkpoint), so the scripts need neither the training data nor
the model flags UER-py asks for again (``--labels_num``, ``--encoder``, ``--pooling``, ...).
"""
import logging
import os
from typing import Iterator, Optional, Tuple

import torch
from tqdm import tqdm

PACKAGE = os.path.dirname(os.path.abspath(__file__))

logger = logging.getLogger(__name__)


def add_inference_arguments(parser, task: str, test_help: str, batch_size: int = 64):
    """The options every UER inference script has (UER-py's ``infer_opts``, with dashes)."""
    parser.add_argument("--load-model-path", required=True, help=f"fine-tuned {task} checkpoint (.pt)")
    parser.add_argument("--test-path", required=True, help=test_help)
    parser.add_argument("--prediction-path", required=True, help="output file")
    parser.add_argument("--batch-size", type=int, default=batch_size)
    parser.add_argument("--vocab", help="vocabulary path, if it moved since training")
    parser.add_argument("--cpu", action="store_true", help="run on CPU even when a GPU is present")


def load_finetuned_task(args, task: str):
    """:func:`load_finetuned` from the parsed common options, checking that the checkpoint is of ``task``."""
    from .errors import InputError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s | %(levelname)s | %(name)s | %(message)s")
    model, loaded, device = load_finetuned(args.load_model_path, args.vocab, args.cpu)
    if loaded.cfg._name != task:
        raise InputError(args.load_model_path, f"a {loaded.cfg._name} checkpoint, not {task}")
    return model, loaded, device


def load_finetuned(path, vocab: Optional[str] = None, cpu: bool = False):
    """``(model, task, device)`` of a fine-tuned checkpoint; ``vocab`` replaces a vocabulary path that moved."""
    import argparse

    from fairseq import checkpoint_utils, utils

    from .errors import InputError

    utils.import_user_module(argparse.Namespace(user_dir=PACKAGE))
    if not os.path.isfile(path):
        raise InputError(path, "checkpoint not found")
    overrides = {"vocab": vocab} if vocab else {}
    models, _, task = checkpoint_utils.load_model_ensemble_and_task([path], arg_overrides=overrides)
    device = "cuda" if torch.cuda.is_available() and not cpu else "cpu"
    model = models[0].eval().to(device)
    return model, task, device


def run_batches(model, dataset, batch_size: int, device, desc: str, **net_input) -> Iterator[Tuple[list, dict]]:
    """``(indices, model outputs)`` per batch of ``dataset`` in its own order; ``net_input`` adds model inputs."""
    with torch.inference_mode():
        for lo in tqdm(range(0, len(dataset), batch_size), desc=desc, unit="batch"):
            indices = list(range(lo, min(lo + batch_size, len(dataset))))
            batch = dataset.collater(indices)
            inputs = {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch["net_input"].items()}
            yield indices, model(**inputs, **net_input)
