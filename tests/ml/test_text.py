"""The text a model reads from a record."""

from __future__ import annotations

from glamml.ml.text import record_text


def test_a_records_text_is_its_non_empty_values_in_the_order_asked():
    row = {"title": "Les misérables", "description": "", "medium": "Oil paint", "date": "1862"}
    assert record_text(row, ["medium", "title", "description"]) == "Oil paint Les misérables"


def test_missing_columns_add_nothing():
    assert record_text({"title": "Faust"}, ["title", "subtitle"]) == "Faust"
    assert record_text({}, ["title"]) == ""
