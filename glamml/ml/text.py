"""Text clean-up shared by training and prediction: bounded, letters only, lower case."""

from __future__ import annotations

import re
import unicodedata

# Language is clear long before this; a 1 MB description is cut to a bounded prefix first,
# so that cost never depends on the input size.
MAX_CHARS = 1000

# Letters and combining marks (Devanagari vowel signs are marks, not letters) plus apostrophes
# inside words (l'homme, d'Italia) carry language; digits and punctuation do not.
_APOSTROPHES = frozenset("'\u2019\u02bc")

# ISBD: square brackets hold what the cataloguer supplied ("[With plates.]"), usually in the
# cataloguing language rather than the language of the item.
_BRACKETED = re.compile(r"\[[^\[\]]*\]")
_SPACES = re.compile(r"\s+")


class _LetterTable(dict):
    """``str.translate`` table: letters and marks lower-cased, everything else a space.

    Filled lazily, one entry per distinct character seen, so the table stays small and lookups
    run in C after the first sight of a character.
    """

    def __missing__(self, codepoint: int) -> str:
        char = chr(codepoint)
        category = unicodedata.category(char)
        if category[0] in "LM":
            value = char.lower()
        elif char in _APOSTROPHES:
            value = "'"
        else:
            value = " "
        self[codepoint] = value
        return value


_TABLE = _LetterTable()


def has_letters(text: str) -> bool:
    """True when the text holds at least one letter (of any script)."""
    return any(unicodedata.category(char)[0] == "L" for char in text)


def clean_text(text: str | None) -> str:
    """Reduce a text to lower-case words of letters, bounded to :data:`MAX_CHARS` characters.

    Returns the empty string when there is no linguistic content (empty, whitespace, digits or
    punctuation only): such text is undetermined, not a guess.
    """
    if not text:
        return ""
    text = text[: MAX_CHARS * 2]
    unbracketed = _BRACKETED.sub(" ", text)
    if unbracketed != text and has_letters(unbracketed):
        text = unbracketed
    letters = text.translate(_TABLE)
    letters = _SPACES.sub(" ", letters).strip(" '")
    if not has_letters(letters):
        return ""
    return letters[:MAX_CHARS]
