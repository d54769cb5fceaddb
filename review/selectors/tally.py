"""What a cataloguer has decided in this sitting, for the tally beside the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import Count

from catalogue.models import Decision


@dataclass(frozen=True)
class Tally:
    accepted: int = 0
    corrected: int = 0
    rejected: int = 0

    @property
    def decided(self) -> int:
        return self.accepted + self.corrected + self.rejected


def reviewer_tally(*, reviewer: User, since: datetime) -> Tally:
    """The reviewer's standing decisions since ``since`` (undone ones do not count), one query."""
    counts = dict(
        Decision.objects.filter(reviewer=reviewer, created_at__gte=since, withdrawn_at=None)
        .order_by()
        .values_list("action")
        .annotate(n=Count("id"))
        .values_list("action", "n")
    )
    return Tally(
        accepted=counts.get(Decision.Action.ACCEPT, 0),
        corrected=counts.get(Decision.Action.CORRECT, 0),
        rejected=counts.get(Decision.Action.REJECT, 0),
    )
