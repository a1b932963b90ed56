"""Generated vocabularies and corpora in UER-py's formats, shared by the ``test_uer_*`` tests."""
import random
from pathlib import Path
from shared_data import SHARED_DATA

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = [f"w{i}" for i in range(40)]
CLUE_DIR = SHARED_DATA / "uer"


def write_vocab(path, specials=SPECIALS, words=WORDS):
    path = Path(path)
    path.write_text("\n".join(list(specials) + list(words)) + "\n", encoding="utf-8")
    return path


def sentence(rng, length=None):
    """Words in runs that repeat (w3 w4 w5 ...), so that a tiny model can learn something quickly."""
    start, length = rng.randrange(len(WORDS)), length or rng.randint(4, 12)
    return " ".join(WORDS[(start + i) % len(WORDS)] for i in range(length))


def write_corpus(path, target, n_docs=40, seed=0):
    """bert/albert: sentences with blank lines between documents; cls: label<TAB>text; else one doc a line."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n_docs):
        if target in ("bert", "albert"):
            lines.extend(sentence(rng) for _ in range(rng.randint(2, 5)))
            lines.append("")
        elif target == "cls":
            label = rng.randrange(2)
            lines.append(f"{label}\t{' '.join(WORDS[label * 20 + rng.randrange(20)] for _ in range(8))}")
        else:
            lines.append(" ".join(sentence(rng) for _ in range(3)))
    path = Path(path)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
