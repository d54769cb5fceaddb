"""The trigger that copies a record's collection onto a new prediction runs only when the
insert leaves it out (issue 9).

A prediction batch writes the collection itself; the trigger of migration 0021 still ran its
PL/pgSQL function for each of its rows, to find nothing to do. A ``WHEN`` condition is checked
without calling the function. Moving a prediction to another record keeps its own trigger.
SQLite's trigger had its ``WHEN`` already.
"""

from django.db import migrations

POSTGRES_FORWARD = [
    "DROP TRIGGER IF EXISTS prediction_collection ON catalogue_prediction",
    """CREATE TRIGGER prediction_collection BEFORE INSERT ON catalogue_prediction FOR EACH ROW
    WHEN (NEW.collection_id IS NULL) EXECUTE FUNCTION catalogue_prediction_collection()""",
    """CREATE TRIGGER prediction_record_changed BEFORE UPDATE OF record_id
    ON catalogue_prediction FOR EACH ROW EXECUTE FUNCTION catalogue_prediction_collection()""",
]
POSTGRES_BACKWARD = [
    "DROP TRIGGER IF EXISTS prediction_record_changed ON catalogue_prediction",
    "DROP TRIGGER IF EXISTS prediction_collection ON catalogue_prediction",
    """CREATE TRIGGER prediction_collection BEFORE INSERT OR UPDATE OF record_id
    ON catalogue_prediction FOR EACH ROW EXECUTE FUNCTION catalogue_prediction_collection()""",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0021_prediction_collection"),
    ]

    operations = [migrations.RunPython(_run(POSTGRES_FORWARD), _run(POSTGRES_BACKWARD))]
