"""Text clean-up shared by training and prediction: bounded, letters only, lower case."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

# Language is clear long before this; a 1 MB description is cut to a bounded prefix first,
# so that cost never depends on the input size.
MAX_CHARS = 1000

# Letters and combining marks (Devanagari vowel signs are marks, not letters) plus apostrophes
# inside words (l'homme, d'Italia) carry language; digits and punctuation do not.
_APOSTROPHES = frozenset("'\u2019\u02bc")

# ISBD: square brackets hold what the cataloguer supplied ("[With plates.]"), usually in the
# cataloguing language rather than the language of the item. They are left out when the rest has
# at least this many words; a shorter rest ("Brenda [A novel.]": often a name) says too little
# alone, and the note is then kept as evidence. Chosen on out-of-fold British Library titles with
# notes (3, 4 and 5 words tied, ahead of always dropping and never dropping; see docs/langid.md).
MIN_WORDS_WITHOUT_NOTES = 4
_BRACKETED = re.compile(r"\[[^\[\]]*\]")


class _LetterTable(dict[int, str]):
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


def is_latin_script(text: str) -> bool:
    """True when most of the text's letters are Latin (a romanised title, not the original)."""
    latin = other = 0
    for char in text[: MAX_CHARS * 2]:
        if char.isalpha():
            if unicodedata.name(char, "").startswith("LATIN"):
                latin += 1
            else:
                other += 1
    return latin > other


def has_letters(text: str) -> bool:
    """True when the text holds at least one letter (of any script)."""
    return any(unicodedata.category(char)[0] == "L" for char in text)


def clean_text(text: str | None) -> str:
    """Reduce a text to lower-case words of letters, bounded to :data:`MAX_CHARS` characters.

    Returns the empty string when there is no linguistic content (empty, whitespace, digits or
    punctuation only): such text is undetermined, not a guess. Text in square brackets (the
    cataloguer's notes) is left out when at least :data:`MIN_WORDS_WITHOUT_NOTES` words remain.
    """
    if not text:
        return ""
    text = text[: MAX_CHARS * 2]
    # This runs once per text in every prediction: the cheap test spares most texts the regex.
    if "[" in text:
        unbracketed = _BRACKETED.sub(" ", text)
        if unbracketed != text:
            rest = _letters(unbracketed)
            if len(rest.split(" ")) >= MIN_WORDS_WITHOUT_NOTES:
                return rest[:MAX_CHARS]
    letters = _letters(text)
    return letters[:MAX_CHARS]


def _letters(text: str) -> str:
    # split() and join() collapse runs of whitespace as a regex would, in half the time.
    letters = " ".join(text.translate(_TABLE).split()).strip(" '")
    if not letters:
        return ""
    # Fast path: a letter first (the usual case); otherwise look for one (marks alone are not).
    if letters[0].isalpha() or has_letters(letters):
        return letters
    return ""


def record_text(values: Mapping[str, object], columns: Sequence[str]) -> str:
    """The text a model reads from a record: the non-empty values of ``columns``, in order.

    The app and the experiments script read records through this one function, so a model
    scored outside the app sees the same text as the app's.
    """
    return " ".join(str(value) for column in columns if (value := values.get(column)))
