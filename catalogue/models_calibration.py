"""Each collection's calibration of a field's confidence. Imported at the end of
``catalogue.models`` so that Django registers the table with the catalogue app; import it from
there. See :mod:`glamml.ml.collection_calibration` for what the bands mean.
"""

from __future__ import annotations

from django.db import models


class CollectionCalibration(models.Model):
    """The evidence a collection holds on what a field's model confidence means in it."""

    field = models.ForeignKey(
        "catalogue.Field", on_delete=models.CASCADE, related_name="collection_calibrations"
    )
    collection = models.ForeignKey(
        "catalogue.Collection", on_delete=models.CASCADE, related_name="calibrations"
    )
    # Evidence from the catalogue's own values, measured with this model version on records the
    # version was not trained on; re-measured when another version predicts in the collection.
    imported_version = models.ForeignKey(
        "catalogue.ModelVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported = models.JSONField(default=list)  # bands: [[answers, right, promised], ...]
    # Evidence from cataloguers' decisions (accepted: right; corrected or rejected: wrong).
    decided = models.JSONField(default=list)
    n_imported = models.PositiveIntegerField(default=0)
    n_accepted = models.PositiveIntegerField(default=0)
    n_corrected = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["field", "collection"], name="one_calibration_per_collection"
            )
        ]

    def __str__(self) -> str:
        return f"{self.field_id}/{self.collection_id}: {self.n_evidence} answers"

    @property
    def n_evidence(self) -> int:
        return self.n_imported + self.n_accepted + self.n_corrected
