"""Settings measured for a field on real data, shared by the app and the benchmark that chose them.

``BL_GENRE``: genre of British Library books, chosen by ``bench/genre.py`` by cross-validation
inside the training part of ``data/label-samples/bl-genre.csv`` (the held-out part played no
part; see docs/benchmarks.md). The demo's genre field reads and trains with them, so the app
predicts what the benchmark reports: the record's title, its description (imprint, extent)
and the British Library shelfmark, a logistic regression with C = 3, calibrated by temperature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldSettings:
    text: tuple[str, ...]  # the record's values the model reads, in order
    params: dict[str, Any] = field(default_factory=dict)  # TextClassifier parameters


BL_GENRE = FieldSettings(
    text=("title", "description", "shelfmark"), params={"C": 3.0, "calibration": "temperature"}
)
