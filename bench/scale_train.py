"""Scale benchmark, part ``train``: a training run on ``DECISIONS`` human decisions, in this
process: its time and this process's peak memory (the training worker's, as it runs one run).

The decisions are made in SQL, unmeasured, on a second language field (``language_decided``,
reading the title as ``language`` does): the values a person's accept or correction leaves
(``source = human``), with the catalogue's own language of the first ``DECISIONS`` records
that have one. Training reads values, not the decision rows, so none are made. On a
catalogue with fewer labelled records, all of them.
"""

from __future__ import annotations

from scale_common import Bench, Figure, peak_rss_mb, timed
from scale_import import records_ensure

DECISIONS = 100_000
DECIDED = "language_decided"


def decisions_ensure(limit: int) -> int:
    """The decided field with up to ``limit`` human values; how many it has."""
    from django.conf import settings
    from django.db import connection, transaction

    from catalogue.models import DecisionPolicy, Field, FieldValue
    from catalogue.services.fields import field_ensure_language

    language = field_ensure_language()
    field, created = Field.objects.get_or_create(
        key=DECIDED,
        defaults={
            "name": "Language (decided)",
            "kind": Field.Kind.LANGUAGE,
            "text_source": ["title"],
        },
    )
    DecisionPolicy.objects.get_or_create(
        field=field,
        defaults={"mode": "threshold", "threshold": settings.GLAMML_DEFAULT_THRESHOLD},
    )
    if created:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {FieldValue._meta.db_table} (record_id, field_id, label, source,
                    action, policy, is_current, created_at)
                SELECT record_id, %s, label, 'human', 'accepted', '', true, now()
                FROM {FieldValue._meta.db_table}
                WHERE field_id = %s AND is_current AND source = 'import' AND label <> ''
                ORDER BY record_id LIMIT %s
                """,
                [field.id, language.id, limit],
            )
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {FieldValue._meta.db_table}")
    return FieldValue.objects.filter(field=field, source="human", is_current=True).count()


def run(bench: Bench) -> list[Figure]:
    from catalogue.models import Field, TrainingRun
    from catalogue.services.training.runs import training_run_execute

    records_ensure(bench)
    decided = decisions_ensure(DECISIONS)
    field = Field.objects.get(key=DECIDED)
    before = peak_rss_mb()
    run = TrainingRun.objects.create(field=field, trigger=TrainingRun.Trigger.COMMAND)
    with timed() as t:
        run = training_run_execute(run=run)
    return [
        Figure(
            "train",
            f"training run on {decided:,} human decisions ({run.status})",
            t[0],
            "s",
            baseline="target 60 s",
            ratio=t[0] / 60,
            note=run.message[:120].replace("|", "/"),
        ),
        Figure(
            "train",
            "training process peak memory",
            peak_rss_mb(),
            "MB",
            baseline="target 1,536 MB",
            ratio=peak_rss_mb() / 1536,
            note=f"{before:.0f} MB before",
        ),
    ]
