"""Predictions on text sent by another system, returned at once and never stored."""

from __future__ import annotations

from dataclasses import dataclass

from catalogue.machine import active_model_version, model_load
from catalogue.models import Field
from catalogue.selectors import label_names


@dataclass
class Guess:
    label: str
    name: str
    confidence: float


@dataclass
class InstantPrediction:
    version: int
    guesses: list[list[Guess]]


def texts_predict(*, field: Field, texts: list[str], k: int = 3) -> InstantPrediction:
    """The ``k`` likeliest labels for each text from the field's active model, best first.

    Raises ``ModelUnavailable`` when the field has no usable active model. Nothing is written:
    no record, no prediction, no label added to the vocabulary.
    """
    version = active_model_version(field=field)
    top_k = model_load(version=version).predict_top_k(texts, k=k)
    names = label_names(field=field, codes={code for alts in top_k for code, _ in alts})
    return InstantPrediction(
        version=version.version,
        guesses=[[Guess(code, names.get(code, code), p) for code, p in alts] for alts in top_k],
    )
