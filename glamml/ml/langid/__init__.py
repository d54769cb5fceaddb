"""Language identification: a calibrated naive Bayes over character n-gram and word profiles.

- :mod:`glamml.ml.langid.features`: the text features (hashed n-grams and words, key tables,
  counting);
- :mod:`glamml.ml.langid.profiles`: the per-language counts and how examples add to them;
- :mod:`glamml.ml.langid.scoring`: the naive Bayes log-likelihoods of a batch, laid out for speed;
- :mod:`glamml.ml.langid.variants`: script variants (``rus-Latn`` beside ``rus``) as one answer;
- :mod:`glamml.ml.langid.model`: :class:`LanguageIdentifier`, training, calibration, persistence;
- :mod:`glamml.ml.langid.artefact`: its file (a plain npz with a format version) and the
  shipped base model's path.
"""

from __future__ import annotations

from glamml.ml.artefacts import ArtefactError
from glamml.ml.langid.artefact import BASE_MODEL_CHECKSUM_PATH, BASE_MODEL_PATH
from glamml.ml.langid.model import (
    UNDETERMINED,
    Hyperparameters,
    LanguageIdentifier,
)

__all__ = [
    "BASE_MODEL_CHECKSUM_PATH",
    "BASE_MODEL_PATH",
    "UNDETERMINED",
    "ArtefactError",
    "Hyperparameters",
    "LanguageIdentifier",
]
