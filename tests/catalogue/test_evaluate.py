from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

FIXTURE = Path(__file__).resolve().parents[1] / "ml" / "fixtures" / "mixed_label_forms.csv"


def run_evaluate(capsys, *args: str) -> dict:
    call_command("evaluate", "--field", "language", *args, "--json")
    return json.loads(capsys.readouterr().out)


@pytest.mark.django_db
def test_it_prints_the_metrics_of_the_active_model_as_one_json_object(active_model, capsys):
    result = run_evaluate(
        capsys, "--data", str(FIXTURE), "--text-column", "title", "--label-column", "language"
    )
    assert result["n"] == 10
    # ISO 639-1, MARC, ISO 639-3 and English names all end up as ISO 639-3 labels.
    assert {"fra", "deu", "fin", "eng", "ita", "swe", "nld", "spa"} <= set(result["per_label"])
    assert result["per_label"]["deu"]["support"] == 2
    assert result["per_label"]["eng"]["support"] == 2
    assert result["accuracy"] >= 0.9
    assert 0.0 <= result["macro_f1"] <= 1.0
    assert 0.0 <= result["ece"] <= 1.0
    assert set(result["coverage_at_precision"]) == {"0.95", "0.99"}
    assert result["texts_per_second"] > 0
    assert set(result["per_label"]["fra"]) >= {"precision", "recall", "support"}


@pytest.mark.django_db
def test_it_names_the_line_and_label_it_does_not_know(active_model, tmp_path):
    data = tmp_path / "bad.csv"
    data.write_text("text,label\nStoria di Roma,it\nHistoire de France,frenchish\n")
    with pytest.raises(CommandError, match=r"bad.csv: line 3, column 'label'.*'frenchish'"):
        call_command("evaluate", "--field", "language", "--data", str(data), "--json")


@pytest.mark.django_db
def test_it_names_a_missing_column(active_model):
    with pytest.raises(CommandError, match=r"no column 'text' \(the header has title, language\)"):
        call_command("evaluate", "--field", "language", "--data", str(FIXTURE), "--json")


@pytest.mark.django_db
def test_it_refuses_a_file_that_is_not_utf8(active_model, tmp_path):
    data = tmp_path / "latin1.csv"
    data.write_bytes("text,label\nStoria di Roma,it\nHistoire de la cité,fr\n".encode("latin-1"))
    with pytest.raises(CommandError, match=r"latin1.csv: line 3 is not UTF-8"):
        call_command("evaluate", "--field", "language", "--data", str(data), "--json")


@pytest.mark.django_db
def test_it_says_how_to_get_a_model_when_there_is_none(field):
    with pytest.raises(CommandError, match="No active model for field 'language'"):
        call_command("evaluate", "--field", "language", "--data", str(FIXTURE), "--json")


@pytest.mark.django_db
def test_it_names_a_missing_file(active_model, tmp_path):
    with pytest.raises(CommandError, match="nowhere.csv: no such file"):
        call_command(
            "evaluate", "--field", "language", "--data", str(tmp_path / "nowhere.csv"), "--json"
        )


@pytest.mark.django_db
def test_a_collective_code_counts_as_an_error_and_is_counted(active_model, tmp_path, capsys):
    data = tmp_path / "mayan.csv"
    data.write_text(
        "text,label\nStoria di Roma,it\nPopol Vuh: las antiguas historias del Quiché,myn\n"
        "Chilam Balam de Chumayel,MYN\nHistoire de France,fre\n",
        encoding="utf-8",
    )
    result = run_evaluate(capsys, "--data", str(data))
    assert result["n"] == 4
    assert result["unpredictable"] == {"n": 2, "labels": {"myn": 2}}
    assert result["per_label"]["myn"]["recall"] == 0.0
    assert result["accuracy"] == pytest.approx(0.5)
    call_command("evaluate", "--field", "language", "--data", str(data))
    assert "2 row(s) have a label the model cannot output (myn 2): counted as errors." in (
        capsys.readouterr().out
    )


@pytest.mark.django_db
def test_a_language_file_is_read_as_records_with_place_and_publisher(
    active_model, tmp_path, capsys
):
    data = tmp_path / "records.csv"
    data.write_text(
        "text,label,place,publisher\n1848,ger,Leipzig,Verlag der Dykschen Buchhandlung\n",
        encoding="utf-8",
    )
    assert run_evaluate(capsys, "--data", str(data))["accuracy"] == 1.0


@pytest.mark.django_db
def test_a_label_field_is_evaluated_with_labels_read_by_its_vocabulary(
    genre, genre_records, tmp_path, capsys
):
    from catalogue.models import Label
    from tests.conftest import GENRE_SAMPLE, train

    assert train(genre).status == "succeeded"
    # A label of the vocabulary that no record has: the model cannot output it.
    Label.objects.create(field=genre, code="Poetry", name="Poetry")
    with GENRE_SAMPLE.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[1000:1100]  # not among the 300 trained on
    data = tmp_path / "genre.csv"
    with data.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "genre"])
        writer.writerows([r["title"], r["genre"].casefold()] for r in rows)  # names, any case
        writer.writerow(["Songs of innocence and of experience", "Poetry"])
    call_command(
        "evaluate", "--field", "genre", "--data", str(data), "--text-column", "title",
        "--label-column", "genre", "--json",
    )  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 101
    assert set(result["per_label"]) == {"Fiction", "Non-fiction", "Poetry"}
    assert result["unpredictable"] == {"n": 1, "labels": {"Poetry": 1}}
    assert result["macro_f1"] > 0.3


@pytest.mark.django_db
def test_a_label_outside_the_fields_vocabulary_is_named(genre, genre_records, tmp_path):
    from tests.conftest import train

    assert train(genre).status == "succeeded"
    data = tmp_path / "bad-genre.csv"
    data.write_text("title,genre\nEmma,Fiction\nOdes,Verse\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"line 3, column 'genre': unknown label 'Verse'"):
        call_command(
            "evaluate", "--field", "genre", "--data", str(data), "--text-column", "title",
            "--label-column", "genre",
        )  # fmt: skip
