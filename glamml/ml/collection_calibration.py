"""Calibration of one collection: what a model's confidence has meant in it so far.

A model calibrated on its training data is not calibrated in every catalogue: titles coded by
the language of the item, a collection's own romanisation, its share of hard records all move
what 0.95 means. Each collection therefore keeps its own evidence, pairs of (the model's raw
confidence, whether the answer was right), from values its catalogue imported and from
cataloguers' accept and correct decisions, counted in bands of raw confidence.

In each band the evidence gives a ratio: answers that were right over answers the raw
confidences promised (their sum). The calibrated confidence of a new answer is its raw
confidence times its band's ratio, shrunk towards a conservative prior ratio by
:data:`PRIOR_WEIGHT` pseudo-answers::

    ratio_b = (right_b + PRIOR_WEIGHT * PRIOR_RATIO) / (promised_b + PRIOR_WEIGHT)

A collection with no evidence reads every confidence as ``PRIOR_RATIO`` of itself: a raw 0.999
becomes 0.899, under the default threshold of 0.9, so a new collection's values go to people
until its evidence says the model is right there. Evidence that the model is right raises the
ratio towards 1 (or above, if it was under-confident); corrections lower it. Within a band the
order of answers is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# Lower edges of the bands of raw confidence; the last band runs to 1 inclusive.
BAND_EDGES = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99)
# How many answers' worth of belief the prior holds in each band: chosen on validation sources
# (other institutions' catalogues, each scored by a model built without it) by
# bench/calibration_prior.py, 5 of 1-50 (the lowest mean ECE); it was 20, set by hand.
PRIOR_WEIGHT = 5.0
# What a confidence is taken to mean with no evidence: 90% of itself (the app's default; its
# setting GLAMML_NEW_COLLECTION_RATIO may set another).
PRIOR_RATIO = 0.9

_EDGES = np.array(BAND_EDGES)

Bands = list[list[float]]  # per band: [answers, right, promised (sum of raw confidences)]


def band_of(confidence: float) -> int:
    """The index of the band that holds a raw confidence."""
    band = 0
    for index, edge in enumerate(BAND_EDGES):
        if confidence >= edge:
            band = index
    return band


def empty_bands() -> Bands:
    return [[0, 0, 0.0] for _ in BAND_EDGES]


def count_evidence(evidence: Iterable[tuple[float, bool]]) -> Bands:
    """Bands counted from (raw confidence, right) pairs."""
    bands = empty_bands()
    for confidence, right in evidence:
        band = bands[band_of(confidence)]
        band[0] += 1
        band[1] += int(right)
        band[2] += float(confidence)
    return bands


def add_bands(*parts: Sequence[Sequence[float]]) -> Bands:
    total = empty_bands()
    for part in parts:
        for band, counts in zip(total, part, strict=False):
            for i, value in enumerate(counts[:3]):
                band[i] += value
    return total


@dataclass(frozen=True)
class CollectionCalibrator:
    """Calibrated confidences for one collection, from its evidence bands."""

    bands: Bands
    prior_ratio: float = PRIOR_RATIO
    prior_weight: float = PRIOR_WEIGHT

    @classmethod
    def conservative(cls, prior_ratio: float = PRIOR_RATIO) -> CollectionCalibrator:
        """A collection with no evidence yet."""
        return cls(empty_bands(), prior_ratio)

    @property
    def n(self) -> int:
        return int(sum(band[0] for band in self.bands))

    def ratio(self, band: int) -> float:
        _, right, promised = self.bands[band][:3]
        return (right + self.prior_weight * self.prior_ratio) / (promised + self.prior_weight)

    def calibrate(self, confidence: float) -> float:
        """The confidence this collection's evidence supports for a raw ``confidence``."""
        if confidence <= 0.0:
            return 0.0
        return min(1.0, confidence * self.ratio(band_of(confidence)))

    def calibrate_many(self, confidences: np.ndarray) -> np.ndarray:
        """:meth:`calibrate` of each raw confidence in an array of any shape, bit for bit.

        For a prediction batch: one array operation instead of a call per answer. The band
        ratios are the same Python floats, and a float64 product is the same IEEE product.
        """
        raw = np.asarray(confidences, dtype=np.float64)
        ratios = np.array([self.ratio(band) for band in range(len(BAND_EDGES))])
        # The last edge at or under each confidence; under the first edge, band 0 (band_of).
        bands = np.maximum(np.searchsorted(_EDGES, raw, side="right") - 1, 0)
        scaled = raw * ratios[bands]
        # min(1.0, x) keeps 1.0 unless x < 1.0 (a NaN too), as np.minimum would not.
        return np.where(raw <= 0.0, 0.0, np.where(scaled < 1.0, scaled, 1.0))

    def calibrate_alternatives(
        self, alternatives: Sequence[tuple[str, float]]
    ) -> list[tuple[str, float]]:
        """Each alternative's confidence calibrated; the order of the best is kept."""
        return [(label, self.calibrate(p)) for label, p in alternatives]

    def recalibrate(
        self, raw_confidence: float, alternatives: Sequence[Sequence[object]]
    ) -> list[tuple[str, float]]:
        """Stored alternatives, calibrated by earlier evidence, read with this evidence.

        Only the best answer's raw confidence is stored, so the best is calibrated anew and
        the others keep their proportion to it (the order is kept).
        """
        if not alternatives:
            return []
        best = self.calibrate(raw_confidence)
        before = float(str(alternatives[0][1]))
        scale = best / before if before > 0 else 0.0
        return [(str(label), float(str(p)) * scale) for label, p, *_ in alternatives]

    def summary(self) -> list[dict[str, float]]:
        """Per band: its lower edge, the evidence in it, the share right and the ratio used."""
        rows = []
        for index, (answers, right, _promised) in enumerate(band[:3] for band in self.bands):
            rows.append(
                {
                    "from": BAND_EDGES[index],
                    "answers": int(answers),
                    "right": int(right),
                    "precision": right / answers if answers else float("nan"),
                    "ratio": self.ratio(index),
                }
            )
        return rows
