"""What the demo accepts as text: one rule for every tab, one line when it is refused."""

import math
import unicodedata

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
