"""A small generated SQuAD 2.0 data set in the official file layout, for the extractive-QA and NQ tests.

Format-faithful: ``version``, articles with ``title`` and ``paragraphs``, each with ``context``
and ``qas`` (``id``, ``question``, ``answers`` with ``text``/``answer_start``, ``is_impossible``;
unanswerable training questions carry ``plausible_answers`` as in the release; dev questions
have several, partly repeated, answers). Every context names a few countries and their
capitals; questions ask for a capital that is (answerable) or is not (unanswerable) named.
"""
import json
import random
from pathlib import Path

CAPITALS = {
    "France": "Paris", "Italy": "Rome", "Spain": "Madrid", "Japan": "Tokyo", "Egypt": "Cairo",
    "Peru": "Lima", "Kenya": "Nairobi", "Norway": "Oslo", "Chile": "Santiago", "Greece": "Athens",
    "Cuba": "Havana", "Poland": "Warsaw", "Austria": "Vienna", "Ireland": "Dublin", "Canada": "Ottawa",
    "Russia": "Moscow",
}


def squad_v2(num_paragraphs: int, seed: int, dev: bool = False, impossible_rate: float = 0.3) -> dict:
    rng = random.Random(seed)
    countries = sorted(CAPITALS)
    paragraphs = []
    for p in range(num_paragraphs):
        named = rng.sample(countries, 4)
        filler = rng.choice(["It is a long story.", "Many people travel there every year.", ""])
        context, starts = "", {}
        for country in named:
            sentence = f"The capital of {country} is {CAPITALS[country]}. "
            starts[country] = len(context) + sentence.index(CAPITALS[country])
            context += sentence + (filler + " " if filler else "")
        context = context.strip()
        qas = []
        for q, country in enumerate(rng.sample(named, 2)):
            answer = {"text": CAPITALS[country], "answer_start": starts[country]}
            answers = [answer, answer, {"text": f"{CAPITALS[country]}.", "answer_start": starts[country]}] if dev \
                else [answer]
            qas.append({"question": f"What is the capital of {country}?", "id": f"{seed}-{p}-{q}",
                        "answers": answers, "is_impossible": False})
        if rng.random() < impossible_rate:
            other = rng.choice([c for c in countries if c not in named])
            qa = {"question": f"What is the capital of {other}?", "id": f"{seed}-{p}-x", "answers": [],
                  "is_impossible": True}
            if not dev:
                qa["plausible_answers"] = [{"text": CAPITALS[named[0]], "answer_start": starts[named[0]]}]
            qas.append(qa)
        paragraphs.append({"context": context, "qas": qas})
    return {"version": "v2.0", "data": [{"title": "Capitals", "paragraphs": paragraphs}]}


def write_squad_v2(folder, train_paragraphs: int = 24, valid_paragraphs: int = 6) -> Path:
    """``folder/train.json`` and ``folder/dev.json``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.json").write_text(json.dumps(squad_v2(train_paragraphs, 1)), encoding="utf-8")
    (folder / "dev.json").write_text(json.dumps(squad_v2(valid_paragraphs, 2, dev=True)), encoding="utf-8")
    return folder
