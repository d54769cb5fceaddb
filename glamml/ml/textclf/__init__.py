"""A calibrated text classifier for any single-label catalogue field (genre, object type, ...).

- :mod:`glamml.ml.textclf.model`: :class:`TextClassifier` and its training;
- :mod:`glamml.ml.textclf.params`: its settings, their defaults and their check;
- :mod:`glamml.ml.textclf.artefact`: its file (skops, with a format version).
"""

from __future__ import annotations

from glamml.ml.artefacts import ArtefactError
from glamml.ml.textclf.model import (
    DEFAULT_PARAMS,
    ParamError,
    TextClassifier,
    TrainingDataError,
    check_params,
)

__all__ = [
    "DEFAULT_PARAMS",
    "ArtefactError",
    "ParamError",
    "TextClassifier",
    "TrainingDataError",
    "check_params",
]
