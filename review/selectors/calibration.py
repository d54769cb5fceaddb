"""Reads for the dashboard: each collection's live calibration and the evidence it rests on."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from catalogue.models import Collection, CollectionCalibration, ModelVersion
from catalogue.services.calibration import calibrator_of
from glamml.ml.collection_calibration import BAND_EDGES

# The raw confidences the dashboard shows each collection's reading of.
SHOWN_CONFIDENCES = (0.9, 0.95, 0.99)
# Evidence at or above this raw confidence is what decides whether values are applied.
TOP_FROM = 0.9


@dataclass(frozen=True)
class CalibrationRow:
    collection: Collection
    imported_version: int | None
    n_imported: int
    n_accepted: int
    n_corrected: int
    # (raw confidence, what this collection reads it as), per SHOWN_CONFIDENCES.
    reads: list[tuple[float, float]]
    top_answers: int
    top_right: int

    @property
    def n_evidence(self) -> int:
        return self.n_imported + self.n_accepted + self.n_corrected

    @property
    def top_precision(self) -> float | None:
        return self.top_right / self.top_answers if self.top_answers else None


def _row(calibration: CollectionCalibration) -> CalibrationRow:
    calibrator = calibrator_of(calibration)
    top = [
        band for edge, band in zip(BAND_EDGES, calibrator.bands, strict=True) if edge >= TOP_FROM
    ]
    version = calibration.imported_version
    return CalibrationRow(
        collection=calibration.collection,
        imported_version=version.version if version is not None else None,
        n_imported=calibration.n_imported,
        n_accepted=calibration.n_accepted,
        n_corrected=calibration.n_corrected,
        reads=[(raw, calibrator.calibrate(raw)) for raw in SHOWN_CONFIDENCES],
        top_answers=int(sum(band[0] for band in top)),
        top_right=int(sum(band[1] for band in top)),
    )


def calibrations_by_field(*, field_ids: Iterable[int]) -> dict[int, list[CalibrationRow]]:
    """Per field, a row for every collection it has predicted in, by collection name (1 query)."""
    rows: dict[int, list[CalibrationRow]] = defaultdict(list)
    calibrations = (
        CollectionCalibration.objects.filter(field_id__in=list(field_ids))
        .select_related("collection", "imported_version")
        # Only the version's number is shown: its card, metrics and parameters are large JSON
        # (about 50 kB a version) that would be decoded on every dashboard load.
        .defer(*ModelVersion.documents_through("imported_version"))
        .order_by("collection__name", "collection_id")
    )
    for calibration in calibrations:
        rows[calibration.field_id].append(_row(calibration))
    return dict(rows)


def conservative_reads() -> list[tuple[float, float]]:
    """What a collection with no evidence reads each shown confidence as."""
    calibrator = calibrator_of(None)
    return [(raw, calibrator.calibrate(raw)) for raw in SHOWN_CONFIDENCES]
