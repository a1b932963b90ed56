"""Checkpoint files are complete or absent, and a bad one gets one clear error.

fairseq writes the first checkpoint of a save atomically (temp file, then rename) but creates the
others (``checkpoint_last.pt`` among them, whenever an epoch or interval checkpoint is written too)
with a plain file copy: a job killed during that copy leaves a truncated ``checkpoint_last.pt``, and
the next run dies inside ``torch.load`` with a zip-format message that names no file. Importing
the package applies three changes to fairseq, here and nowhere else:

* ``PathManager.copy`` of a local file copies to a temporary file beside the target, syncs it and
  renames it over the target;
* ``checkpoint_utils.load_checkpoint_to_cpu`` (resume, ``--restore-file``, evaluation, conversion,
  averaging) turns an unreadable file into :class:`~fairseq_plugins.errors.InputError` naming the
  file and listing the readable checkpoints beside it;
* ``Trainer.train_step`` adds the update number and the example ids of the batch to the
  ``FloatingPointError`` fairseq raises for NaN/inf gradients, so the batch can be found.

``--resume-fallback`` (``scripts/train.py``) resumes from the newest readable checkpoint when
``checkpoint_last.pt`` is unreadable, instead of stopping.
"""
import glob
import logging
import os
import pickle
import shutil
import zipfile
from typing import List, Optional

from fairseq import checkpoint_utils, trainer
from fairseq.file_io import PathManager

from .errors import InputError

logger = logging.getLogger(__name__)

_READ_ERRORS = (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile,
                AttributeError, KeyError)


def atomic_copy(src: str, dst: str) -> None:
    """Copy ``src`` to ``dst`` so that ``dst`` is never seen half-written."""
    tmp = f"{dst}.tmp-{os.getpid()}"
    try:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            shutil.copyfileobj(fin, fout, 16 << 20)
            fout.flush()
            os.fsync(fout.fileno())
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def is_readable_checkpoint(path: str) -> bool:
    """Cheap integrity check: the file is a complete torch zip archive whose entries pass their CRCs."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None
    except (OSError, zipfile.BadZipFile, ValueError):
        return False


def readable_checkpoints(save_dir: str, exclude: Optional[str] = None) -> List[str]:
    """Readable ``*.pt`` files of ``save_dir``, newest first (``crash.pt`` is never a resume point)."""
    excluded = os.path.abspath(exclude) if exclude else None
    paths = [p for p in glob.glob(os.path.join(save_dir, "*.pt"))
             if os.path.basename(p) != "crash.pt" and os.path.abspath(p) != excluded]
    paths.sort(key=os.path.getmtime, reverse=True)
    return [p for p in paths if is_readable_checkpoint(p)]


def _load_or_explain(original):
    def load_checkpoint_to_cpu(path, arg_overrides=None, load_on_all_ranks=False):
        try:
            return original(path, arg_overrides, load_on_all_ranks)
        except FileNotFoundError:
            raise InputError(path, "checkpoint not found") from None
        except _READ_ERRORS as e:
            if not zipfile.is_zipfile(path):
                reason = "is truncated or corrupt (no complete zip archive: cut short, or another kind of file)"
            elif "Weights only load failed" in str(e):
                unsupported = [line.strip() for line in str(e).splitlines() if "Unsupported global" in line]
                reason = ("holds objects that torch's weights-only loader refuses"
                          f"{' (' + unsupported[0] + ')' if unsupported else ''}; not a checkpoint this package wrote?")
            else:
                reason = f"is truncated or corrupt ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})"
            others = readable_checkpoints(os.path.dirname(os.path.abspath(path)), exclude=path)
            hint = (f"; readable checkpoints beside it, newest first: {', '.join(others[:3])} "
                    "(resume from one with --restore-file, or pass --resume-fallback to scripts/train.py)"
                    if others else "")
            raise InputError(path, f"cannot be loaded: the checkpoint {reason}{hint}") from e
    load_checkpoint_to_cpu.__wrapped__ = original
    return load_checkpoint_to_cpu


def _copy_atomically(original):
    def copy(src_path: str, dst_path: str, overwrite: bool = False) -> bool:
        if PathManager.path_requires_pathmanager(src_path) or PathManager.path_requires_pathmanager(dst_path):
            return original(src_path, dst_path, overwrite)
        if os.path.exists(dst_path) and not overwrite:
            return False
        atomic_copy(src_path, dst_path)
        return True
    copy.__wrapped__ = original
    return copy


def _batch_ids(samples) -> List[int]:
    ids = []
    for sample in samples or []:
        if isinstance(sample, dict) and sample.get("id") is not None:
            ids.extend(int(i) for i in sample["id"].reshape(-1).tolist())
    return ids


def _name_the_batch(original):
    def train_step(self, samples, raise_oom=False):
        try:
            return original(self, samples, raise_oom)
        except FloatingPointError as e:
            ids = _batch_ids(samples)
            raise FloatingPointError(
                f"{e} at update {self.get_num_updates() + 1}; example ids in the batch: {ids} "
                f"(the state before this update is in {os.path.join(self.cfg.checkpoint.save_dir, 'crash.pt')})"
            ) from e
    train_step.__wrapped__ = original
    return train_step


def resume_fallback(save_dir: str, restore_file: str) -> Optional[str]:
    """The checkpoint to resume from when ``restore_file`` (default ``checkpoint_last.pt``) is unreadable.

    Returns None when the file is readable or absent (fairseq's own behaviour applies), the newest
    readable checkpoint otherwise; raises InputError when there is none.
    """
    path = restore_file if os.path.isabs(restore_file) else os.path.join(save_dir, restore_file)
    if not os.path.exists(path) or is_readable_checkpoint(path):
        return None
    others = readable_checkpoints(save_dir, exclude=path)
    if not others:
        raise InputError(path, "is truncated or corrupt and no readable checkpoint is left beside it")
    logger.warning("%s is truncated or corrupt; resuming from %s instead", path, others[0])
    return others[0]


if not hasattr(checkpoint_utils.load_checkpoint_to_cpu, "__wrapped__"):
    checkpoint_utils.load_checkpoint_to_cpu = _load_or_explain(checkpoint_utils.load_checkpoint_to_cpu)
    PathManager.copy = staticmethod(_copy_atomically(PathManager.copy))
    trainer.Trainer.train_step = _name_the_batch(trainer.Trainer.train_step)
