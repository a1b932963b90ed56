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
