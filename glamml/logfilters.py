"""Logging filters: keep the log for what needs a person's attention."""

from __future__ import annotations

import logging

# A refused or missing page is an ordinary answer, not a fault: log one line, no traceback.
QUIET_STATUSES = {403, 404}


class NoTracebackForRefusals(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) in QUIET_STATUSES:
            record.exc_info = None
            record.exc_text = None
        return True
