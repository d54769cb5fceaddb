"""Three indexes that the head of another index on the same table makes useless (issue 9).

A prediction batch writes every index of the predictions and values tables for each row. The
record's index on predictions is the head of the unique (record, field, model_version); the
field's, of (field, status, confidence); on values, the field's of (field, source,
is_current). Every query that could read one reads the longer index as well.

On SQLite, changing a column rebuilds its table: the triggers of 0021 that keep a prediction's
collection are dropped first (one names the predictions table, which the rebuild renames, and a
dropped table takes its own triggers with it) and made again afterwards.
"""

from importlib import import_module

import django.db.models.deletion
from django.db import migrations, models

triggers = import_module("catalogue.migrations.0021_prediction_collection")


def _sqlite(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "sqlite":
            for sql in statements:
                schema_editor.execute(sql)

    return run


SQLITE_DROP = [f"DROP TRIGGER IF EXISTS {name}" for name in triggers.SQLITE_DROP]


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0022_prediction_collection_trigger_when"),
    ]

    operations = [
        migrations.RunPython(_sqlite(SQLITE_DROP), _sqlite(triggers.SQLITE_TRIGGERS)),
        migrations.AlterField(
            model_name="fieldvalue",
            name="field",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="values",
                to="catalogue.field",
            ),
        ),
        migrations.AlterField(
            model_name="prediction",
            name="field",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="predictions",
                to="catalogue.field",
            ),
        ),
        migrations.AlterField(
            model_name="prediction",
            name="record",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="predictions",
                to="catalogue.record",
            ),
        ),
        migrations.RunPython(_sqlite(triggers.SQLITE_TRIGGERS), _sqlite(SQLITE_DROP)),
    ]
