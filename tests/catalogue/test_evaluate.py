from __future__ import annotations

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
