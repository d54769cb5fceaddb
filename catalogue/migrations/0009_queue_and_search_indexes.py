"""Indexes that keep the review queue and the search fast at any size (issue 9).

Partial indexes on the waiting predictions, one per queue order, for all fields and for one;
on PostgreSQL also trigram indexes (pg_trgm) on the upper-cased title and identifier, which
serve the searches' ``icontains`` (``UPPER(title) LIKE UPPER('%the%')``) as they are written.
SQLite has no trigram index: a SQLite catalogue is small and scans.
"""

from django.db import migrations, models

# The expressions are those Django writes for ``icontains`` on PostgreSQL (UPPER(col::text)),
# so the planner matches them.
TRIGRAM_INDEXES = {
    "record_title_trgm": "UPPER(title::text)",
    "record_identifier_trgm": "UPPER(identifier::text)",
}


def add_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # A trusted extension: the database's owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX {name} ON catalogue_record USING gin (({expression}) gin_trgm_ops)"
        )


def remove_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0008_api_token"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="prediction",
            index=models.Index(
                condition=models.Q(("status", "queued")),
                fields=["-flagged", "confidence", "id"],
                name="prediction_waiting_conf",
            ),
        ),
        migrations.AddIndex(
            model_name="prediction",
            index=models.Index(
                condition=models.Q(("status", "queued")),
                fields=["field", "-flagged", "confidence", "id"],
                name="prediction_waiting_f_conf",
            ),
        ),
        migrations.AddIndex(
            model_name="prediction",
            index=models.Index(
                condition=models.Q(("status", "queued")),
                fields=["-flagged", "margin", "confidence", "id"],
                name="prediction_waiting_margin",
            ),
        ),
        migrations.AddIndex(
            model_name="prediction",
            index=models.Index(
                condition=models.Q(("status", "queued")),
                fields=["field", "-flagged", "margin", "confidence", "id"],
                name="prediction_waiting_f_margin",
            ),
        ),
        migrations.AddIndex(
            model_name="prediction",
            index=models.Index(
                condition=models.Q(("status", "queued")),
                fields=["-flagged", "audit_rank", "id"],
                name="prediction_waiting_audit",
            ),
        ),
        migrations.AddIndex(
            model_name="prediction",
            index=models.Index(
                condition=models.Q(("status", "queued")),
                fields=["field", "-flagged", "audit_rank", "id"],
                name="prediction_waiting_f_audit",
            ),
        ),
        migrations.RunPython(add_trigram_indexes, remove_trigram_indexes),
    ]
