"""A version's model card, rendered from the one document glamml.ml.cards builds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.template.loader import render_to_string

from glamml.ml.cards import ModelCard, model_card

BLANK_LINES = re.compile(r"\n{3,}")


def card_document(
    facts: Mapping[str, Any], monitoring: Mapping[str, Any] | None = None
) -> ModelCard | None:
    """The card of a version, or None for versions made before cards were kept.

    ``monitoring`` (catalogue's ``monitoring_card_facts``) says what watches it now.
    """
    return model_card(facts, monitoring) if facts else None


def model_card_markdown(
    facts: Mapping[str, Any], monitoring: Mapping[str, Any] | None = None
) -> str:
    """The card as a Markdown file: one blank line between blocks, a newline at the end."""
    text = render_to_string("review/model_card.md", {"card": model_card(facts, monitoring)})
    return BLANK_LINES.sub("\n\n", text).strip() + "\n"
