"""scripts/build_langid_profiles.py builds the shipped model only with the ``build`` extra."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from glamml.ml.langid_build import BuildData
from glamml.ml.langid_build import data as build_data

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_langid_profiles.py"


@pytest.fixture
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_langid_profiles", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(script: ModuleType, tmp_path: Path) -> int:
    return script.main(
        [
            "--data-dir",
            str(tmp_path / "data"),
            "--output",
            str(tmp_path / "profiles.npz"),
            "--heldout-dir",
            str(tmp_path / "heldout"),
        ]
    )


def test_the_build_refuses_without_a_package_of_the_build_extra_and_says_how_to_install_it(
    script, monkeypatch, tmp_path, capsys
):
    pins = script.build_requirements()
    assert {"cutlet", "pypinyin", "uroman", "iuliia"} <= set(pins)

    def installed(name: str) -> str:
        if name == "cutlet":
            raise importlib.metadata.PackageNotFoundError(name)
        return pins[name]

    monkeypatch.setattr(script, "installed_version", installed)

    assert _run(script, tmp_path) == 2

    err = capsys.readouterr().err
    assert "cutlet is not installed" in err
    assert "pypinyin" not in err
    assert '.venv/bin/python -m pip install -e ".[build]"' in err
    # Refused before reading anything or writing anything.
    assert not (tmp_path / "profiles.npz").exists()
    assert not (tmp_path / "heldout").exists()


def test_the_build_refuses_a_version_other_than_the_pinned_one(
    script, monkeypatch, tmp_path, capsys
):
    pins = script.build_requirements()
    monkeypatch.setattr(
        script, "installed_version", lambda name: "0.0.1" if name == "uroman" else pins[name]
    )

    assert _run(script, tmp_path) == 2

    assert f"uroman is 0.0.1, not {pins['uroman']}" in capsys.readouterr().err


def test_a_romaniser_whose_library_is_missing_stops_the_build(monkeypatch):
    # Another failure of one library on one text only loses that text; a missing library would
    # lose every romanised text of the language.
    def missing(text: str) -> str:
        raise ModuleNotFoundError("No module named 'iuliia'")

    def broken(text: str) -> str:
        raise ValueError("cannot romanise this one")

    data = BuildData(
        shared={}, record_fields={}, catalogue=[], classics=[], native_scripts={"rus": "CYRILLIC"}
    )
    monkeypatch.setattr(build_data, "romaniser_for", lambda label, script: [broken])
    assert build_data.romanised_forms(data, "Слова и краски", "rus") == []
    monkeypatch.setattr(build_data, "romaniser_for", lambda label, script: [missing])
    with pytest.raises(ModuleNotFoundError, match="iuliia"):
        build_data.romanised_forms(data, "Война и мир", "rus")
