from __future__ import annotations

import pytest
from django.urls import reverse

from catalogue.models import DecisionPolicy, Field, Label, PolicyChange
from catalogue.services.fields import FIELD_EXISTS
from catalogue.services.policy import BAD_RULES
from tests.factories import LabelFactory, ModelVersionFactory
from tests.review.conftest import HTMX

FIELD_CREATE = reverse("review:field_create")


def rules_url(key: str = "genre") -> str:
    return reverse("review:field_rules", args=[key])


def rules_name(code: str) -> str:
    return f"rules-{Label.objects.get(field__key='genre', code=code).pk}"


def rules_data(fiction: str = "", non_fiction: str = "") -> dict[str, str]:
    return {rules_name("Fiction"): fiction, rules_name("Non-fiction"): non_fiction}


# --- the rules baseline -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_rules_editor_shows_the_labels_with_rules_and_the_latest_scores(staff_client, genre):
    genre.labels.filter(code="Fiction").update(rules=r"\bnovel\b")
    ModelVersionFactory(
        field=genre,
        metrics={"accuracy": 0.91, "macro_f1": 0.8771},
        baselines={
            "stratified": {"accuracy": 0.5, "macro_f1": 0.48},
            "majority": {"accuracy": 0.8, "macro_f1": 0.44},
            "rules": {"accuracy": 0.7, "macro_f1": 0.6543},
        },
    )

    response = staff_client.get(rules_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<textarea") == 1  # Non-fiction has no rules: it is added by search
    assert "\\bnovel\\b</textarea>" in html
    assert '<option value="Non-fiction">' in html
    assert html.count("Save rules") == 2  # at the top and the bottom
    assert "0.654" in html and "0.877" in html


@pytest.mark.django_db
def test_saving_rules_logs_the_change_per_label(staff_client, admin_user, genre):
    response = staff_client.post(rules_url(), rules_data(fiction="\\bnovel\\b\n  \n\\btales?\\b"))

    assert response.status_code == 302
    assert response.url == rules_url()
    fiction = Label.objects.get(field=genre, code="Fiction")
    assert fiction.rules == "\\bnovel\\b\n\\btales?\\b"
    change = PolicyChange.objects.get()
    assert (change.attribute, change.old_value, change.new_value, change.changed_by) == (
        "rules:Fiction",
        "",
        "\\bnovel\\b\n\\btales?\\b",
        admin_user,
    )
    page = staff_client.get(response.url).content.decode()
    assert "Saved the rules for Fiction." in page
    assert "rules for Fiction added (2 patterns)" in page
    assert "rules:Fiction" not in page


@pytest.mark.django_db
def test_saving_rules_with_htmx_returns_the_form(staff_client, genre):
    response = staff_client.post(rules_url(), rules_data(non_fiction="history"), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<form method="post"')
    assert "Saved the rules for Non-fiction." in html
    assert Label.objects.get(field=genre, code="Non-fiction").rules == "history"


@pytest.mark.django_db
def test_saving_one_labels_rules_leaves_the_labels_not_sent_alone(staff_client, genre):
    genre.labels.filter(code="Fiction").update(rules="novel")

    response = staff_client.post(rules_url(), {rules_name("Non-fiction"): "history"})

    assert response.status_code == 302
    assert Label.objects.get(field=genre, code="Fiction").rules == "novel"
    assert Label.objects.get(field=genre, code="Non-fiction").rules == "history"
    assert [c.attribute for c in PolicyChange.objects.all()] == ["rules:Non-fiction"]


@pytest.mark.django_db
def test_a_catastrophic_pattern_is_refused_and_nothing_is_saved(staff_client, genre):
    response = staff_client.post(rules_url(), rules_data(fiction="(a+)+$", non_fiction="history"))

    assert response.status_code == 422
    assert "repeats a part that itself repeats" in response.content.decode()
    assert set(Label.objects.filter(field=genre).values_list("rules", flat=True)) == {""}


@pytest.mark.django_db
def test_an_invalid_pattern_is_refused_with_the_services_message(staff_client, genre):
    genre.labels.filter(code="Fiction").update(rules="novel")
    data = rules_data(fiction="romance", non_fiction="history\n(unclosed")

    response = staff_client.post(rules_url(), data)

    assert response.status_code == 422
    expected = BAD_RULES.format(
        problems="genre 'Non-fiction': pattern '(unclosed' is not a valid regular expression: "
        "missing ), unterminated subpattern at position 0"
    )
    assert response.context["form"].non_field_errors() == [expected]
    assert "(unclosed" in response.content.decode()  # what was typed is kept
    assert dict(genre.labels.values_list("code", "rules")) == {
        "Fiction": "novel",
        "Non-fiction": "",
    }
    assert not PolicyChange.objects.exists()
    partial = staff_client.post(rules_url(), data, **HTMX)
    assert partial.status_code == 422
    assert partial.content.decode().lstrip().startswith('<form method="post"')
    assert "pattern &#x27;(unclosed&#x27; is not a valid" in partial.content.decode()


@pytest.mark.django_db
def test_the_rules_editor_is_for_admins_only(client, visitor, cataloguer, admin_user, genre):
    assert client.get(rules_url()).status_code == 302
    client.force_login(visitor)
    assert client.get(rules_url()).status_code == 403
    client.force_login(cataloguer)
    assert client.get(rules_url()).status_code == 403
    assert client.post(rules_url(), rules_data(fiction="x")).status_code == 403
    assert client.post(rules_url(), {"label_search": "Fiction", "add": "1"}).status_code == 403
    client.force_login(admin_user)
    assert client.get(rules_url("no-such-field")).status_code == 404
    assert not PolicyChange.objects.exists()


@pytest.mark.django_db
def test_a_label_is_added_by_search_keeping_what_was_typed_and_nothing_is_saved(
    staff_client, genre
):
    genre.labels.filter(code="Fiction").update(rules="novel")
    data = {rules_name("Fiction"): "novel\nromance", "label_search": "non-FICTION", "add": "1"}

    response = staff_client.post(rules_url(), data)

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<textarea") == 2
    assert "novel\nromance</textarea>" in html  # the unsaved edit is still there
    assert f'name="{rules_name("Non-fiction")}"' in html
    assert "Added Non-fiction: write its patterns" in html
    assert Label.objects.get(field=genre, code="Fiction").rules == "novel"
    assert not PolicyChange.objects.exists()


@pytest.mark.django_db
def test_adding_a_label_the_field_does_not_have_says_so(staff_client, genre):
    response = staff_client.post(rules_url(), {"label_search": "Poetry", "add": "1"}, **HTMX)

    assert response.status_code == 422
    assert "Genre has no label “Poetry”" in response.content.decode()
    assert "<textarea" not in response.content.decode()


@pytest.mark.django_db
def test_a_field_with_hundreds_of_labels_shows_only_those_with_rules(staff_client, field):
    for i in range(300):
        LabelFactory(field=field, code=f"x{i:03d}", name=f"Language {i}")
    field.labels.filter(code="x007").update(rules="^der ")

    html = staff_client.get(rules_url(field.key)).content.decode()

    assert html.count("<textarea") == 1
    total = field.labels.count()
    assert total >= 300
    assert f"1 of {total} labels has rules here" in html
    assert html.count("<option value=") == total - 1  # the others, to add by search
    assert '<option value="Language 8 (x008)">' in html


@pytest.mark.django_db
def test_the_change_log_says_which_labels_rules_changed_with_the_diff_on_demand(
    staff_client, genre
):
    genre.labels.filter(code="Non-fiction").update(rules="history\nbiography")
    staff_client.post(rules_url(), {rules_name("Non-fiction"): "history\nmemoir\n\\bessays?\\b"})

    html = staff_client.get(rules_url()).content.decode()

    summary = html.split("<summary>", 1)[1].split("</summary>", 1)[0]
    assert summary.endswith("rules for Non-fiction changed (3 patterns)")
    diff = html.split('<ul class="rule-diff"', 1)[1].split("</ul>", 1)[0]
    assert "removed</span> <code>biography</code>" in diff
    assert "added</span> <code>memoir</code>" in diff
    assert "added</span> <code>\\bessays?\\b</code>" in diff
    assert "kept</span> <code>history</code>" in diff


# --- defining a field ---------------------------------------------------------------------------


def definition(**changes: object) -> dict[str, object]:
    data = {
        "key": "object_type",
        "name": "Object type",
        "description": "What kind of object a work is.",
        "labels": "painting = Painting\nprint = Print\n\nsculpture",
        "text_source": ["title", "description"],
        "extra_columns": "medium, ",
        "metric": "accuracy",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.django_db
def test_an_admin_defines_a_field_in_review_mode(staff_client):
    response = staff_client.post(FIELD_CREATE, definition())

    assert response.status_code == 302
    assert response.url == f"{reverse('review:dashboard')}#field-object_type"
    field = Field.objects.get(key="object_type")
    assert (field.name, field.kind, field.metric) == ("Object type", "label", "accuracy")
    assert field.text_source == ["title", "description", "medium"]
    assert dict(field.labels.values_list("code", "name")) == {
        "painting": "Painting",
        "print": "Print",
        "sculpture": "sculpture",
    }
    assert field.policy.mode == DecisionPolicy.Mode.REVIEW
    dashboard = staff_client.get(response.url).content.decode()
    assert "--map object_type=COLUMN" in dashboard
    assert 'id="field-object_type"' in dashboard


@pytest.mark.django_db
def test_a_duplicate_key_is_refused_with_the_services_message(staff_client, genre):
    response = staff_client.post(FIELD_CREATE, definition(key="genre"))

    assert response.status_code == 422
    assert response.context["form"].non_field_errors() == [FIELD_EXISTS.format(key="genre")]
    assert Field.objects.filter(key="genre").get().name == "Genre"


@pytest.mark.django_db
def test_a_field_needs_two_labels_and_something_to_read(staff_client):
    response = staff_client.post(
        FIELD_CREATE, definition(labels="painting", text_source=[], extra_columns="")
    )

    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors["text_source"] == [
        "Choose at least one part of the record for the model to read."
    ]
    assert not Field.objects.filter(key="object_type").exists()
    response = staff_client.post(FIELD_CREATE, definition(labels="painting"))
    assert "needs at least two labels" in response.content.decode()
    assert not Field.objects.filter(key="object_type").exists()


@pytest.mark.django_db
def test_defining_a_field_is_for_admins_only(client, cataloguer):
    assert client.get(FIELD_CREATE).status_code == 302
    client.force_login(cataloguer)
    assert client.get(FIELD_CREATE).status_code == 403
    assert client.post(FIELD_CREATE, definition()).status_code == 403
    assert not Field.objects.filter(key="object_type").exists()


@pytest.mark.django_db
def test_the_definition_form_shows_every_control(staff_client):
    response = staff_client.get(FIELD_CREATE)

    assert response.status_code == 200
    html = response.content.decode()
    for name in ("key", "name", "description", "labels", "text_source", "extra_columns", "metric"):
        assert f'name="{name}"' in html, name


@pytest.mark.django_db
def test_the_dashboards_change_log_names_a_rules_edit_instead_of_printing_the_patterns(
    staff_client, genre
):
    staff_client.post(rules_url(), {rules_name("Fiction"): "novel\nromance\n\\btales?\\b"})

    html = staff_client.get(reverse("review:dashboard")).content.decode()

    log = html.split('id="changes-genre-title"', 1)[1].split("</ul>", 1)[0]
    assert "rules for Fiction added (3 patterns)</summary>" in log
    assert "rules:Fiction" not in log


# --- a label field's model settings --------------------------------------------------------------


def params_url(key: str = "genre") -> str:
    return reverse("review:field_model_params", args=[key])


def params_data(**changes: str) -> dict[str, str]:
    """The form as it comes with every setting at its default, with ``changes``."""
    data = {
        "word_ngrams": "1-2",
        "char_ngrams": "2-5",
        "max_features": "50000",
        "min_df": "1",
        "C": "10",
        "class_weight": "balanced",
        "calibration": "temperature+bias",
        "folds": "5",
        "max_chars": "5000",
        "seed": "0",
    }
    return {**data, **changes}


@pytest.mark.django_db
def test_the_settings_page_shows_the_fields_settings_and_what_the_active_version_used(
    staff_client, genre
):
    genre.model_params = {"C": 3.0, "char_ngrams": None}
    genre.save()
    ModelVersionFactory(field=genre, version=4, params={"C": 10.0, "char_ngrams": [2, 5]})

    response = staff_client.get(params_url())

    assert response.status_code == 200
    form = response.context["form"]
    assert (form["C"].value(), form["char_ngrams"].value(), form["folds"].value()) == (
        "3",
        "none",
        5,
    )
    html = response.content.decode()
    assert "v4 was trained with <code>2-5</code>" in html
    assert "Default: <code>10</code>" in html


@pytest.mark.django_db
def test_saving_settings_keeps_only_those_off_their_default_and_logs_the_change(
    staff_client, admin_user, genre
):
    response = staff_client.post(params_url(), params_data(C="3", word_ngrams="1", seed=""))

    assert response.status_code == 302
    genre.refresh_from_db()
    assert genre.model_params == {"C": 3.0, "word_ngrams": [1, 1]}
    change = PolicyChange.objects.get()
    assert (change.attribute, change.old_value, change.new_value, change.changed_by) == (
        "model_params",
        {},
        {"C": 3.0, "word_ngrams": [1, 1]},
        admin_user,
    )
    page = staff_client.get(response.url).content.decode()
    assert "Saved the model settings of Genre: C 3.0, word_ngrams [1, 1]." in page

    # Saved again unchanged: nothing new is logged.
    staff_client.post(params_url(), params_data(C="3", word_ngrams="1-1"))
    assert PolicyChange.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "named", "message"),
    [
        ({"C": "0"}, "C", "C must be a positive finite number, got 0.0"),
        ({"C": "strong"}, "C", "C must be a number, got 'strong'"),
        ({"folds": "1"}, "folds", "folds must be at least 2, got 1"),
        ({"folds": "2.5"}, "folds", "folds must be a whole number, got '2.5'"),
        ({"char_ngrams": "5-2"}, "char_ngrams", "char_ngrams must satisfy 1 <= min <= max"),
        ({"word_ngrams": "one"}, "word_ngrams", "word_ngrams must be MIN-MAX"),
        ({"calibration": "isotonic"}, "calibration", "Select a valid choice."),
    ],
)
def test_a_bad_setting_is_refused_naming_it_and_nothing_is_saved(
    staff_client, genre, changes, named, message
):
    response = staff_client.post(params_url(), params_data(**changes))

    assert response.status_code == 422
    form = response.context["form"]
    assert list(form.errors) == [named]
    assert message in form.errors[named][0]
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert any(p.startswith(named) and message in p for p in form.problems())
    assert 'aria-invalid="true"' in html
    genre.refresh_from_db()
    assert genre.model_params == {}
    assert not PolicyChange.objects.exists()


@pytest.mark.django_db
def test_every_bad_setting_is_named_at_once(staff_client, genre):
    response = staff_client.post(params_url(), params_data(C="0", folds="two", min_df="0"))

    assert response.status_code == 422
    assert sorted(response.context["form"].errors) == ["C", "folds", "min_df"]


@pytest.mark.django_db
def test_leaving_out_both_kinds_of_n_grams_is_refused_naming_both(staff_client, genre):
    response = staff_client.post(params_url(), params_data(word_ngrams="none", char_ngrams="none"))

    assert response.status_code == 422
    assert response.context["form"].problems() == [
        "word_ngrams and char_ngrams cannot both be None"
    ]
    genre.refresh_from_db()
    assert genre.model_params == {}


@pytest.mark.django_db
def test_a_cataloguer_may_not_see_or_change_the_settings(cataloguer_client, genre):
    assert cataloguer_client.get(params_url()).status_code == 403
    assert cataloguer_client.post(params_url(), params_data(C="3")).status_code == 403
    genre.refresh_from_db()
    assert genre.model_params == {}


@pytest.mark.django_db
def test_the_language_field_has_no_settings_to_set_here(staff_client):
    from tests.factories import language_field

    field = language_field()

    page = staff_client.get(params_url(field.key))
    assert page.status_code == 200
    assert "fitted when its profiles are built" in page.content.decode()
    assert "form" not in page.context or page.context["form"] is None
    assert staff_client.post(params_url(field.key), params_data(C="3")).status_code == 400
    field.refresh_from_db()
    assert field.model_params == {}
