from __future__ import annotations

import csv
from pathlib import Path

import pytest

from glamml.ml.langid import LanguageIdentifier

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def read_fixture(name: str) -> tuple[list[str], list[str]]:
    with (FIXTURES / name).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [row["text"] for row in rows], [row["label"] for row in rows]


@pytest.fixture(scope="session")
def base_model() -> LanguageIdentifier:
    """The shipped model, loaded once: tests must not change it (its methods return copies)."""
    return LanguageIdentifier.base()


@pytest.fixture(scope="session")
def catalogue_titles() -> tuple[list[str], list[str]]:
    return read_fixture("catalogue_titles.csv")


@pytest.fixture(scope="session")
def tatoeba_sentences() -> tuple[list[str], list[str]]:
    return read_fixture("tatoeba_sentences.csv")


@pytest.fixture(scope="session")
def ancient_greek_titles() -> tuple[list[str], list[str]]:
    return read_fixture("ancient_greek_titles.csv")


@pytest.fixture(scope="session")
def label_samples() -> dict[str, tuple[list[str], list[str]]]:
    """The small fixture cut from data/label-samples: 100 BL genre and 100 Tate object-type rows."""
    samples: dict[str, tuple[list[str], list[str]]] = {}
    with (FIXTURES / "label_samples.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            texts, labels = samples.setdefault(row["sample"], ([], []))
            texts.append(row["text"])
            labels.append(row["label"])
    return samples
