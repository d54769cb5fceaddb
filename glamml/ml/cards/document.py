"""The model card as a document: sections of paragraphs, lists and tables, with final text.

Renderers (the app's HTML and Markdown templates) only lay it out: every sentence is written and
every number formatted here, so the two renderings cannot say different things.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

NONE = "–"


@dataclass(frozen=True)
class Text:
    """A run of text: ``style`` is ``""`` (plain), ``"strong"`` or ``"code"``."""

    text: str
    style: str = ""


Inline = tuple[Text, ...]


@dataclass(frozen=True)
class Paragraph:
    parts: Inline
    kind: ClassVar[str] = "paragraph"


@dataclass(frozen=True)
class Bullets:
    items: tuple[Inline, ...]
    kind: ClassVar[str] = "bullets"


@dataclass(frozen=True)
class Row:
    """A table row: its name (the row header), its cells, and whether it is the one to notice."""

    name: str
    cells: tuple[str, ...]
    strong: bool = False


@dataclass(frozen=True)
class Table:
    """``header`` names every column, the row names' column first."""

    header: tuple[str, ...]
    rows: tuple[Row, ...]
    kind: ClassVar[str] = "table"


Block = Paragraph | Bullets | Table


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class ModelCard:
    title: str
    intro: tuple[Block, ...]
    sections: tuple[Section, ...]


def plain(*sentences: str) -> Paragraph:
    """A paragraph of plain text."""
    return Paragraph((Text(" ".join(sentences)),))


def number(value: Any, digits: int = 3) -> str:
    """A figure as the card shows it: thousands separated, ``digits`` decimals, ``–`` if none."""
    if isinstance(value, bool) or value is None:
        return NONE
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def joined(labels: Sequence[Any]) -> str:
    """Labels in a sentence. Semicolons, because labels hold commas ("on paper, print")."""
    return "; ".join(str(label) for label in labels)
