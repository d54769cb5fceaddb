"""The list pages' cheaper helpers give what the Django built-ins they stand for give:
``QuickSelect`` a ``forms.Select``'s HTML, ``clip`` ``truncatechars``, ``code_url`` ``reverse``."""

from __future__ import annotations

from uuid import uuid4

import pytest
from django import forms
from django.template.defaultfilters import truncatechars
from django.urls import clear_script_prefix, reverse, set_script_prefix
from django.utils.safestring import mark_safe

from catalogue.templatetags.catalogue_format import clip, code_url
from catalogue.widgets import QuickSelect
from tests.factories import CollectionFactory

CHOICES = [
    ("", "Any"),
    ("a&b", "A <b> & “quoted” 'single'"),
    (3, 3.5),
    ("safe", mark_safe("<em>kept</em>")),
    ("Group <g>", [("g1", "In a group"), ("g2", "Also")]),
]


def both(field: forms.Field, data: dict[str, object]) -> tuple[str, str]:
    """The field rendered with Django's ``Select`` and with ``QuickSelect``, in a bound form."""

    def rendered(widget: type[forms.Select]) -> str:
        field.widget = widget(attrs={"class": "x", "data-on": True, "data-off": False})
        form = type("F", (forms.Form,), {"choice": field})(data)
        form.is_valid()
        return str(form["choice"])

    return rendered(forms.Select), rendered(QuickSelect)


@pytest.mark.parametrize("value", ["", "a&b", "3", "g2", "not offered"])
def test_a_quick_select_is_the_html_of_a_select(value):
    django, quick = both(forms.ChoiceField(choices=CHOICES, required=True), {"choice": value})

    assert quick == django


@pytest.mark.django_db
@pytest.mark.parametrize("chosen", [None, "first"])
def test_a_quick_select_of_models_is_the_html_of_a_select(chosen):
    collections = [CollectionFactory(name=name) for name in ("A & B", "<C>")]
    field = forms.ModelChoiceField(
        queryset=type(collections[0]).objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="All",
    )
    data = {"choice": collections[0].slug} if chosen else {}

    django, quick = both(field, data)

    assert quick == django
    assert "A &amp; B" in quick


def test_a_quick_select_given_other_templates_renders_them():
    quick, django = QuickSelect(choices=[("a", "A")]), forms.Select(choices=[("a", "A")])
    for widget in (quick, django):
        widget.template_name = "django/forms/widgets/radio.html"

    assert quick.render("choice", "a") == django.render("choice", "a")
    assert quick.render("choice", "a").startswith("<div>")


@pytest.mark.parametrize("length", [0, 1, 2, 5, 10, 160])
@pytest.mark.parametrize(
    "text",
    [
        "",
        "short",
        "x" * 160,
        "x" * 161,
        "A title of a book, " * 20,
        "e\u0301" * 200,  # combining accents: the built-in's own count
        "Å" * 170,
        "\u212b" * 170,  # an angstrom sign, composed to Å first
        "\u0958" * 100,  # a letter NFC writes as two
        "ab\u0301" * 80,
    ],
)
def test_clip_is_truncatechars(text, length):
    assert clip(text, length) == truncatechars(text, length)


@pytest.mark.django_db
@pytest.mark.parametrize("prefix", ["/", "/glam/"])
def test_code_url_is_reverse_for_codes_and_slugs_also_under_a_script_prefix(prefix, field):
    collection = CollectionFactory(slug="bl-books_2")
    set_script_prefix(prefix)
    try:
        code = uuid4()
        assert code_url("catalogue:record", code) == reverse("catalogue:record", args=[code])
        slug = collection.slug
        assert code_url("catalogue:collection", slug) == reverse(
            "catalogue:collection", args=[slug]
        )
        assert code_url("review:field_rules", field.key) == reverse(
            "review:field_rules", args=[field.key]
        )
    finally:
        clear_script_prefix()


def test_code_url_reverses_an_argument_it_cannot_take_as_it_is():
    with pytest.raises(Exception, match="Reverse"):
        code_url("catalogue:collection", "not a slug")
