"""Where an OAI-PMH harvest comes from and how far it got.

Imported at the end of ``catalogue.models`` so that Django registers the table with the
catalogue app; import it from there.
"""

from __future__ import annotations

from django.db import models


class HarvestSource(models.Model):
    """An OAI-PMH repository harvested into a collection, and how far the last harvest got.

    A harvest stores each page of records together with the resumption token that follows it,
    so a harvest that fails part way resumes after the last page it stored. A finished harvest
    remembers the server's time when it began: the next one asks only for what changed since.
    """

    class Status(models.TextChoices):
        NEW = "new", "Never harvested"
        RUNNING = "running", "Running"
        FAILED = "failed", "Failed: run it again to resume"
        DONE = "done", "Up to date"

    collection = models.ForeignKey(
        "catalogue.Collection", on_delete=models.CASCADE, related_name="harvest_sources"
    )
    url = models.URLField(max_length=500)
    set_spec = models.CharField(max_length=200, blank=True)
    metadata_prefix = models.CharField(max_length=50, default="oai_dc")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    # Where an interrupted harvest goes on: the token after the last page stored.
    resumption_token = models.TextField(blank=True)
    # The from-date of the harvest under way (empty: everything).
    harvest_from = models.CharField(max_length=40, blank=True)
    # The server's responseDate at the first page of the harvest under way (kept across a
    # resume): when it finishes, this becomes harvested_until.
    harvest_started = models.CharField(max_length=40, blank=True)
    # The server's responseDate when the last complete harvest began: the next from-date.
    harvested_until = models.CharField(max_length=40, blank=True)
    records_harvested = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "url", "set_spec", "metadata_prefix"],
                name="one_harvest_source_per_collection_and_query",
            )
        ]

    def __str__(self) -> str:
        return f"{self.url} [{self.set_spec or '*'}] -> {self.collection.slug} ({self.status})"
