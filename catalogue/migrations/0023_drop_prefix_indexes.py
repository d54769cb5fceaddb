"""Three indexes that the head of another index on the same table makes useless (issue 9).

A prediction batch writes every index of the predictions and values tables for each row. The
record's index on predictions is the head of the unique (record, field, model_version); the
field's, of (field, status, confidence); on values, the field's of (field, source,
is_current). Every query that could read one reads the longer index as well.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0022_prediction_collection_trigger_when"),
    ]

    operations = [
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
    ]
