"""Reading whole-file JSON objects (configs, vocabularies) with errors that name the file."""
import json
import os

from ..errors import InputError


def read_json_object(path, what: str) -> dict:
    """The JSON object in ``path``; a missing file, malformed JSON or another JSON type is an InputError."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except FileNotFoundError:
        raise InputError(path, f"{what} not found")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(path, f"malformed JSON ({e})")
    if not isinstance(value, dict):
        raise InputError(path, f"expected a JSON object ({what}), got {type(value).__name__}")
    return value


def read_json_records(path):
    """``(line, object)`` for every record of a JSON array file (Open Entity, TACRED) or a JSON-lines file.

    Array items are decoded one at a time so that an error, and every record, names its line."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, "file not found")
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise InputError(path, f"not UTF-8 text ({e})")
    decoder = json.JSONDecoder()
    records, position = [], len(text) - len(text.lstrip())
    array = text.startswith("[", position)
    position += array
    while True:
        while position < len(text) and (text[position].isspace() or (array and text[position] == ",")):
            position += 1
        line = text.count("\n", 0, position) + 1
        if position == len(text) or (array and text[position] == "]"):
            break
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as e:
            raise InputError(path, f"malformed JSON ({e.msg})", line=text.count("\n", 0, e.pos) + 1)
        if not isinstance(value, dict):
            raise InputError(path, f"expected a JSON object, got {type(value).__name__}", line=line)
        records.append((line, value))
    if array and not text.startswith("]", position):
        raise InputError(path, "the JSON array is not closed", line=line)
    return records


def read_label_lines(path) -> list:
    """Labels in id order, one a line (blank lines ignored; a repeated label is an error)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(path, "label file not found")
    labels = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            label = line.strip()
            if label and label in labels:
                raise InputError(path, f"label {label!r} is listed twice", line=number)
            if label:
                labels.append(label)
    if not labels:
        raise InputError(path, "no labels")
    return labels


def typed_field(obj: dict, key: str, kind: type, path, line: int):
    """``obj[key]``, which must be a ``kind`` (a bool is not an int); else an InputError naming the field."""
    if key not in obj:
        raise InputError(path, "missing", line=line, field=key)
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InputError(path, f"expected {kind.__name__}, got {type(value).__name__}", line=line, field=key)
    return value
