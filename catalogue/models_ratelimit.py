"""Rate limits on what the public may send (flags, confirmations).

Imported at the end of ``catalogue.models`` so that Django registers the tables with the
catalogue app; import it from there. ``catalogue.services.ratelimit`` is the only writer.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class RateLimitClient(models.Model):
    """One row per (hashed) client address that has sent something rate-limited.

    Its row lock makes "count this address's hits in the window, then add one" a single step,
    so concurrent requests from one address never get past a limit together.
    """

    client_hash = models.CharField(max_length=64, primary_key=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.client_hash[:12]


class RateLimitHit(models.Model):
    """One accepted request of one kind (``scope``) from one address, counted for its window."""

    scope = models.CharField(max_length=40)
    client_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["client_hash", "scope", "created_at"], name="ratelimit_hit_window")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.client_hash[:12]} {self.created_at:%Y-%m-%d %H:%M}"
