"""What the demo accepts as text: one rule for every tab, one line when it is refused."""

import json
import math
import unicodedata
from pathlib import Path

from labs.cli import LabError


def check_text(text, what, limit):
    """``text`` if it is non-empty text of at most ``limit`` characters, else ``LabError``."""
    if not isinstance(text, str):
        raise LabError(f"{what} must be text, not {type(text).__name__}")
    if not text.strip():
        raise LabError(f"{what} is empty: type some text")
    if len(text) > limit:
        raise LabError(f"{what} is {len(text):,} characters long; give at most {limit:,}")
    odd = [character for character in text if character not in "\n\t"
           and unicodedata.category(character) in ("Cc", "Cs", "Cn")]
    if odd:
        raise LabError(f"{what} is not text: it holds {len(odd)} control or unassigned "
                       f"character(s) such as U+{ord(odd[0]):04X}; paste plain text")
    return text


SEED_RANGE = (0, 2**32 - 1)  # NumPy's and Keras's random seeds


def shown(number):
    return f"{number:,}" if float(number).is_integer() and abs(number) < 1e15 else f"{number:g}"


def number(value, what, low, high, whole=False):
    """A number box's ``value`` within [``low``, ``high``] (an int when ``whole``), else one
    ``LabError`` that names the box: emptied, not a number, out of range, not whole."""
    kind = "a whole number" if whole else "a number"
    if value is None or (isinstance(value, str) and not value.strip()):
        raise LabError(f"{what} is empty: give {kind} from {shown(low)} to {shown(high)}")
    try:
        result = float(value)
    except (TypeError, ValueError, OverflowError):
        raise LabError(f"{what} is not a number: give {kind} from {shown(low)} to "
                       f"{shown(high)}") from None
    if not math.isfinite(result) or not low <= result <= high:
        raise LabError(f"{what} must be from {shown(low)} to {shown(high)}, got "
                       f"{shown(result) if math.isfinite(result) else value}")
    if whole:
        if not result.is_integer():
            raise LabError(f"{what} must be a whole number, got {shown(result)}")
        return int(result)
    return result


def preset_problem(folder):
    """Why ``folder`` cannot be the GPT-2 tab's model, in the page's words, or None (read
    from its config.json: no model is loaded, nothing heavy imported)."""
    folder = Path(folder)
    if not folder.is_dir():
        return f"{folder}: no such folder"
    if not (folder / "config.json").is_file():
        return (f"{folder} holds no GPT-2 preset (no config.json): give a folder that make "
                f"gpt2 or python -m labs.gpt2 tiny-preset wrote")
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return f"{folder}/config.json cannot be read ({error})"
    if not isinstance(config, dict) or "GPT2" not in str(config.get("class_name", "")) \
            or not isinstance(config.get("config"), dict):
        name = config.get("class_name") if isinstance(config, dict) else None
        return f"{folder} is not a GPT-2 preset (its config.json describes {str(name)[:60]!r})"
    return None
