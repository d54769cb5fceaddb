"""Model cards: one document per model version, built as data from what training measured.

The card is written for a collections admin deciding whether to trust a model, and for other
institutions judging it: what it is for, what it learnt from, how it does against the baselines
on the same held-out records, where it is weak, how far its confidences can be taken at face
value, and how its predictions reach records. Limitations are derived from the numbers, not
written by hand.

:func:`model_card` returns the document: sections of paragraphs, lists and tables whose text
is final (numbers formatted, sentences written). The app renders that one document to HTML for
its pages and to Markdown for download, so the two never say different things.
"""

from __future__ import annotations

from glamml.ml.cards.document import Bullets, ModelCard, Paragraph, Row, Section, Table, Text
from glamml.ml.cards.limitations import known_limitations
from glamml.ml.cards.sections import model_card

__all__ = [
    "Bullets",
    "ModelCard",
    "Paragraph",
    "Row",
    "Section",
    "Table",
    "Text",
    "known_limitations",
    "model_card",
]
