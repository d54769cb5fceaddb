"""A version's model card, rendered from the one document glamml.ml.cards builds."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.template.loader import render_to_string

from catalogue.models import ModelVersion
from glamml.ml.cards import ModelCard, model_card

BLANK_LINES = re.compile(r"\n{3,}")


def version_card_facts(version: ModelVersion) -> dict[str, Any]:
    """The facts stored with the version, with the field's routing as it is now.

    The card is frozen when the version is made, but how its predictions are routed is the
    field's policy today: the card says what the version page and the dashboard say.
    """
    if not version.card:
        return {}
    policy = version.field.policy
    routing = {**(version.card.get("routing") or {}), "mode": policy.mode}
    routing["threshold"] = policy.threshold
    return {**version.card, "routing": routing}


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
