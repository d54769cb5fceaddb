"""Each prediction carries its record's collection, so the queue of one collection is an index
range (issue 9).

Filtering the queue by collection joined the records: for a collection with few of the waiting
items the partial index was read until a page was found (about 1/share entries per page), and a
page asked for by number scanned the predictions table. With the collection on the prediction,
partial indexes ``(collection, -flagged, key…, id) WHERE status = 'queued'`` serve each order.

The database keeps the copy right: a trigger sets it from the record on every insert that does
not name it (whatever inserts, Django or set-wise SQL) and another follows a record that moves
to another collection.
The existing rows are filled by one ``UPDATE … FROM``, before the indexes are built.
"""

import django.db.models.deletion
from django.db import migrations, models

POSTGRES_TRIGGERS = [
    # An insert that names the collection (the set-wise insert of a prediction batch may: it
    # has the records at hand) skips the look-up, about 20 microseconds a row.
    """CREATE FUNCTION catalogue_prediction_collection() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' OR NEW.collection_id IS NULL THEN
            SELECT collection_id INTO NEW.collection_id FROM catalogue_record
            WHERE id = NEW.record_id;
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER prediction_collection BEFORE INSERT OR UPDATE OF record_id
    ON catalogue_prediction FOR EACH ROW EXECUTE FUNCTION catalogue_prediction_collection()""",
    """CREATE FUNCTION catalogue_record_moved() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE catalogue_prediction SET collection_id = NEW.collection_id
        WHERE record_id = NEW.id;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER record_moved AFTER UPDATE OF collection_id ON catalogue_record
    FOR EACH ROW WHEN (OLD.collection_id IS DISTINCT FROM NEW.collection_id)
    EXECUTE FUNCTION catalogue_record_moved()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS record_moved ON catalogue_record",
    "DROP FUNCTION IF EXISTS catalogue_record_moved()",
    "DROP TRIGGER IF EXISTS prediction_collection ON catalogue_prediction",
    "DROP FUNCTION IF EXISTS catalogue_prediction_collection()",
]
# SQLite's triggers cannot change the row being inserted: they update it just after.
SQLITE_TRIGGERS = [
    """CREATE TRIGGER prediction_collection AFTER INSERT ON catalogue_prediction FOR EACH ROW
    WHEN NEW.collection_id IS NULL BEGIN
        UPDATE catalogue_prediction SET collection_id =
            (SELECT collection_id FROM catalogue_record WHERE id = NEW.record_id)
        WHERE id = NEW.id;
    END""",
    """CREATE TRIGGER prediction_record_changed AFTER UPDATE OF record_id ON catalogue_prediction
    FOR EACH ROW BEGIN
        UPDATE catalogue_prediction SET collection_id =
            (SELECT collection_id FROM catalogue_record WHERE id = NEW.record_id)
        WHERE id = NEW.id;
    END""",
    """CREATE TRIGGER record_moved AFTER UPDATE OF collection_id ON catalogue_record FOR EACH ROW
    WHEN OLD.collection_id IS NOT NEW.collection_id BEGIN
        UPDATE catalogue_prediction SET collection_id = NEW.collection_id
        WHERE record_id = NEW.id;
    END""",
]
SQLITE_DROP = ["prediction_collection", "prediction_record_changed", "record_moved"]


def fill_and_keep(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    schema_editor.execute(
        "UPDATE catalogue_prediction AS p SET collection_id = r.collection_id "
        "FROM catalogue_record AS r WHERE r.id = p.record_id"
        if postgres
        else "UPDATE catalogue_prediction SET collection_id = (SELECT collection_id "
        "FROM catalogue_record WHERE catalogue_record.id = catalogue_prediction.record_id)"
    )
    for sql in POSTGRES_TRIGGERS if postgres else SQLITE_TRIGGERS:
        schema_editor.execute(sql)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        drops = POSTGRES_DROP
    else:
        drops = [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_DROP]
    for sql in drops:
        schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0020_harvest_started"),
    ]

    operations = [
        migrations.AddField(
            model_name="prediction",
            name="collection",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="catalogue.collection",
            ),
        ),
        migrations.RunPython(fill_and_keep, drop_triggers),
        *(
            migrations.AddIndex(
                model_name="prediction",
                index=models.Index(
                    condition=models.Q(("status", "queued")),
                    fields=["collection", "-flagged", *order],
                    name=f"prediction_waiting_c_{name}",
                ),
            )
            for name, order in (
                ("conf", ["confidence", "id"]),
                ("margin", ["margin", "confidence", "id"]),
                ("audit", ["audit_rank", "id"]),
            )
        ),
    ]
