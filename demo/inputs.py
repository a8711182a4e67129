"""What the demo accepts as text: one rule for every tab, one line when it is refused."""

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
