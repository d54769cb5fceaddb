"""One model card, two renderings: the Markdown download and the page say the same thing."""

from __future__ import annotations

import re

from django.template.loader import render_to_string

from glamml.ml.cards import model_card
from review.cards import model_card_markdown
from tests.ml.test_cards import SECTIONS, synthetic_card


def card_facts() -> dict:
    card = synthetic_card(accuracy=0.5, macro_f1=0.4)
    card["field"]["labels"] = ["Fiction", "Non-fiction", "Poetry"]
    card["version"] = 3
    card["routing"] = {"mode": "threshold", "threshold": 0.9}
    card["training_data"] = {"sources": ["British Library"], "fingerprint": "ab" * 32}
    return card


def page_html(facts: dict) -> str:
    return render_to_string("review/_model_card.html", {"card": model_card(facts)})


def test_the_markdown_card_has_every_section_in_order_and_ends_with_one_newline():
    markdown = model_card_markdown(card_facts())
    assert markdown.startswith("# Model card: Genre, version 3\n\n")
    positions = [markdown.index(f"\n## {title}\n\n") for title in SECTIONS]
    assert positions == sorted(positions)
    assert markdown.endswith(".\n") and not markdown.endswith("\n\n")
    assert "\n\n\n" not in markdown


def test_the_markdown_card_writes_tables_bold_and_code():
    markdown = model_card_markdown(card_facts())
    assert "|  | accuracy | macro-F1 | ECE | coverage |\n| --- | --- | --- | --- | --- |\n" in (
        markdown
    )
    assert "| **this model** | 0.500 | 0.400 | 0.250 | 100% |\n" in markdown
    assert "| Majority label | not run | – | – | – |\n" in markdown
    assert "The field optimises **macro-F1**; a model that does not beat" in markdown
    assert f"- Training-data fingerprint (sha256): `{'ab' * 32}`\n" in markdown
    assert "Decision mode: **threshold**. Predictions at or above" in markdown


def test_markdown_in_labels_cannot_break_the_tables():
    card = card_facts()
    card["metrics"]["per_label"] = {
        "a|b": {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1, "predicted": 1}
    }
    assert "| a\\|b | 1.000 | 1.000 | 1.000 | 1 |" in model_card_markdown(card)


def test_the_page_shows_the_same_card_as_html():
    html = page_html(card_facts())
    assert "<h2>Model card: Genre, version 3</h2>" in html
    assert re.findall(r"<h3>(.*?)</h3>", html) == SECTIONS
    assert '<th scope="row"><strong>this model</strong></th><td class="num">0.500</td>' in html
    assert f"<code>{'ab' * 32}</code>" in html
    assert "Decision mode: <strong>threshold</strong>." in html
    markdown = model_card_markdown(card_facts())
    # Every limitation is in both, as a list item.
    for line in re.findall(r"^- (Labels with .*)$", markdown, flags=re.M):
        assert f"<li>{line}</li>" in html


def test_markup_in_a_label_is_shown_as_text_on_the_page():
    card = card_facts()
    card["field"]["labels"] = ["<script>alert(1)</script>"]
    html = page_html(card)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
