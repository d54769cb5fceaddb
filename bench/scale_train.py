"""Scale benchmark, part ``train``: a training run of the language field on the catalogue's
labelled records (the imported languages, 30% of the generated records), in this process:
its time and this process's peak memory (the training worker's, as it runs one run)."""

from __future__ import annotations

from scale_common import Bench, Figure, peak_rss_mb, timed
from scale_import import records_ensure


def run(bench: Bench) -> list[Figure]:
    from catalogue.models import TrainingRun
    from catalogue.selectors import settled_values
    from catalogue.services.fields import field_ensure_language
    from catalogue.services.training.runs import training_run_execute

    records_ensure(bench)
    field = field_ensure_language()
    labelled = settled_values(field=field).count()
    before = peak_rss_mb()
    run = TrainingRun.objects.create(field=field, trigger=TrainingRun.Trigger.COMMAND)
    with timed() as t:
        run = training_run_execute(run=run)
    return [
        Figure(
            "train",
            f"training run on {labelled:,} labelled records ({run.status})",
            t[0],
            "s",
            note=run.message[:120].replace("|", "/"),
        ),
        Figure(
            "train",
            "training process peak memory",
            peak_rss_mb(),
            "MB",
            note=f"{before:.0f} MB before",
        ),
    ]
