from __future__ import annotations

import pytest

from glamml.ml.benchmark import LabelledDataError, benchmark, read_labelled_csv


def test_labels_in_any_form_are_read_as_iso639_3(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "label,text\nde,Geschichte\nger,Geschichte\ndeu,Geschichte\nGerman,Geschichte\n",
        encoding="utf-8",
    )
    texts, labels = read_labelled_csv(path)
    assert labels == ["deu"] * 4 and texts == ["Geschichte"] * 4


def test_a_text_with_a_line_break_keeps_the_line_numbers_right(tmp_path):
    path = tmp_path / "multiline.csv"
    path.write_text('text,label\n"Storia\ndi Roma",it\nHistoire,xx-nonsense\n', encoding="utf-8")
    with pytest.raises(LabelledDataError, match="line 4, column 'label'.*'xx-nonsense'"):
        read_labelled_csv(path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text,label\nStoria,\n", "line 2, column 'label': empty label"),
        ("text,label\n", "no labelled rows"),
        ("title,label\nStoria,it\n", "no column 'text'"),
    ],
)
def test_bad_files_are_refused_with_the_reason(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LabelledDataError, match=message):
        read_labelled_csv(path)


def test_benchmark_reports_the_metrics_the_evaluate_command_prints(base_model):
    texts = ["Storia della letteratura italiana", "Suomen kansan historia", "1234"]
    result = benchmark(base_model, texts, ["ita", "fin", "eng"])
    assert result["n"] == 3
    assert result["accuracy"] == pytest.approx(2 / 3)  # "1234" is undetermined, not English
    assert result["per_label"]["eng"] == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "support": 1,
    }
    assert result["macro_f1"] == pytest.approx(2 / 3)
    assert set(result["coverage_at_precision"]) == {"0.95", "0.99"}
    assert result["texts_per_second"] > 0
