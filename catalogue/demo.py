"""Setting up the demo: sample records, users, a trained model and routed predictions.

Everything here is safe to run again: records are updated in place, users keep their
passwords, and a model is trained only when there is none.
"""

from __future__ import annotations

import csv
import json
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.text import slugify

from catalogue.machine import ModelUnavailable, active_model_version, model_load
from catalogue.models import (
    Collection,
    DecisionPolicy,
    Field,
    Label,
    ModelVersion,
    Prediction,
    TrainingRun,
)
from catalogue.roles import cataloguer_group
from catalogue.services.applicability import field_set_collections
from catalogue.services.fields import field_create, field_ensure_language
from catalogue.services.imports import records_import
from catalogue.services.monitoring.alerts import monitoring_run
from catalogue.services.policy import label_rules_update, policy_update
from catalogue.services.training.runs import training_run_create
from glamml.ml.hashing import stable_fraction
from glamml.ml.presets import BL_GENRE

SAMPLE = Path(settings.BASE_DIR) / "data" / "sample" / "records.csv"
LABEL_SAMPLES = Path(settings.BASE_DIR) / "data" / "label-samples"

# Label fields the demo defines: (key, name, labels, text source, sample file, collection,
# collection name, licence). Labels are read from the sample itself.
LABEL_FIELDS = [
    (
        "genre",
        "Genre",
        list(BL_GENRE.text),
        "bl-genre.csv",
        "bl-books",
        "British Library 18th–19th century books",
        "CC0 1.0 (metadata); packaging CC BY 4.0, Living with Machines / British Library",
    ),
    (
        "object_type",
        "Object type",
        ["title", "description"],
        "tate-object-type.csv",
        "tate",
        "Tate collection (2014 snapshot)",
        "CC0 1.0, Tate",
    ),
]
# Classifier settings of the demo fields: genre's were measured by bench/genre.py.
MODEL_PARAMS = {"genre": BL_GENRE.params}
# Starting rules baselines for the demo fields (admins edit them in the app).
DEMO_RULES = LABEL_SAMPLES / "rules.json"
# Share of each label sample whose value the demo hides, so the model has records to predict.
HIDDEN_SHARE = 0.4

# source column value -> (slug, name, licence)
COLLECTIONS = {
    "British Library": (
        "bl-books",
        "British Library 18th–19th century books",
        "CC0 1.0 (metadata); packaging CC BY 4.0, Living with Machines / British Library",
    ),
    "FinGreyLit": (
        "fingreylit",
        "Finnish grey literature (FinGreyLit)",
        "CC0 1.0, National Library of Finland",
    ),
}


@dataclass
class DemoLogin:
    username: str
    password: str
    role: str


def _logins_file() -> Path:
    return Path(settings.GLAMML_DATA_DIR) / "demo-logins.json"


def demo_users() -> list[DemoLogin]:
    """An admin and a cataloguer; passwords are generated once and kept in the data directory."""
    path = _logins_file()
    saved = json.loads(path.read_text()) if path.exists() else {}
    User = get_user_model()
    logins = []
    for username, role in (("admin", "admin"), ("cataloguer", "cataloguer")):
        password = saved.get(username) or secrets.token_urlsafe(9)
        user, created = User.objects.get_or_create(username=username)
        if created or not user.check_password(password):
            user.set_password(password)
        user.is_staff = user.is_superuser = role == "admin"
        user.save()
        if role == "cataloguer":
            user.groups.add(cataloguer_group())
        saved[username] = password
        logins.append(DemoLogin(username, password, role))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(saved, indent=2))
    path.chmod(0o600)
    return logins


def _sampled(rows: list[dict[str, str]], limit: int | None) -> list[dict[str, str]]:
    """At most ``limit`` rows, the same ones every time, spread over the file (in its order)."""
    if limit is None or len(rows) <= limit:
        return rows
    rank = {r["identifier"]: stable_fraction(f"demo-rows:{r['identifier']}") for r in rows}
    kept = set(sorted(rank, key=rank.__getitem__)[:limit])
    return [r for r in rows if r["identifier"] in kept]


def demo_load(*, sample: Path = SAMPLE, rows: int | None = None) -> dict[str, int]:
    """Import the bundled sample, one collection per source; return records per collection.

    ``rows`` keeps at most that many records of each collection (a quick demo, or a test).
    """
    field = field_ensure_language()
    with sample.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = [c for c in reader.fieldnames or [] if c != "source"]
        by_source: dict[str, list[dict[str, str]]] = {}
        for row in reader:
            by_source.setdefault(row["source"], []).append(row)
    counts = {}
    loaded = []
    with tempfile.TemporaryDirectory() as tmp:
        for source, all_rows in sorted(by_source.items()):
            part_rows = _sampled(all_rows, rows)
            slug, name, licence = COLLECTIONS.get(source, (slugify(source), source, ""))
            collection, _ = Collection.objects.get_or_create(
                slug=slug, defaults={"name": name, "licence": licence, "is_public": True}
            )
            part = Path(tmp) / f"{slug}.csv"
            with part.open("w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
                writer.writeheader()
                writer.writerows(part_rows)
            records_import(path=part, collection=collection, mapping={"language": "language"})
            counts[slug] = len(part_rows)
            loaded.append(collection)
    # The language of a book's title is catalogued; the language of an artwork's title (Tate,
    # loaded later) is not: the field applies to these collections only.
    field_set_collections(field=field, collections=loaded, changed_by=None)
    policy = DecisionPolicy.objects.get(field=field)
    if policy.mode != DecisionPolicy.Mode.THRESHOLD:
        policy_update(policy=policy, changed_by=None, mode=DecisionPolicy.Mode.THRESHOLD)
    return counts


def _active_model_usable(field: Field) -> bool:
    """An active version whose artefact loads (an older format or a lost file does not)."""
    try:
        model_load(version=active_model_version(field=field))
    except ModelUnavailable:
        return False
    return True


def demo_train() -> str:
    """Train the language model unless one is active; predictions follow in the same run."""
    field = field_ensure_language()
    if _active_model_usable(field):
        return "An active language model exists; not retraining (run `manage.py train`)."
    with transaction.atomic():
        run = training_run_create(field=field, trigger=TrainingRun.Trigger.DEMO)
    run.refresh_from_db()
    return f"Training run: {run.status}. {run.message}"


def _hidden(identifier: str) -> bool:
    """Whether the demo imports this record without its value (the same records every time)."""
    return stable_fraction(f"demo-hidden:{identifier}") < HIDDEN_SHARE


def _needs_training(field: Field) -> bool:
    """No model trained yet, or an active one whose artefact no longer loads."""
    if field.model_versions.filter(status=ModelVersion.Status.ACTIVE).exists():
        return not _active_model_usable(field)
    return not field.training_runs.exists()


def demo_label_fields(*, rows: int | None = None) -> dict[str, int]:
    """Define genre and object type, import their samples with some values hidden, train them.

    Safe to run again: fields and records are reused, and a field is trained again only if its
    active model no longer loads (a candidate the gate kept back stays so: train it again with
    ``manage.py train`` or from the dashboard). ``rows`` keeps at most that many records of
    each sample.
    """
    counts = {}
    for key, name, text_source, filename, slug, collection_name, licence in LABEL_FIELDS:
        path = LABEL_SAMPLES / filename
        with path.open(encoding="utf-8", newline="") as f:
            everything = list(csv.DictReader(f))
        sample = _sampled(everything, rows)
        # The vocabulary comes from the whole file, so that a later run on more rows finds every
        # label it imports (a field defined by `--rows 30` used to refuse the rest).
        labels = sorted({row[key] for row in everything if row[key]})
        collection, _ = Collection.objects.get_or_create(
            slug=slug, defaults={"name": collection_name, "licence": licence}
        )
        field = Field.objects.filter(key=key).first()
        if field is None:
            field = field_create(
                key=key,
                name=name,
                labels=[(code, code) for code in labels],
                text_source=text_source,
                mode=DecisionPolicy.Mode.THRESHOLD,
                collections=[collection],
                model_params=MODEL_PARAMS.get(key),
            )
            starting = json.loads(DEMO_RULES.read_text(encoding="utf-8")).get(key, {})
            rules = {
                code: "\n".join(patterns) for code, patterns in starting.items() if code in labels
            }
            label_rules_update(field=field, rules=rules, changed_by=None)
        else:
            # A demo database from before the vocabulary came from the whole file.
            Label.objects.bulk_create(
                [Label(field=field, code=code, name=code) for code in labels],
                ignore_conflicts=True,
            )
        with tempfile.TemporaryDirectory() as tmp:
            part = Path(tmp) / filename
            with part.open("w", encoding="utf-8", newline="") as out:
                writer = csv.DictWriter(out, fieldnames=list(sample[0]))
                writer.writeheader()
                for row in sample:
                    writer.writerow({**row, key: "" if _hidden(row["identifier"]) else row[key]})
            mapping = {key: key}
            if "language" in sample[0]:
                mapping["language"] = "language"
            records_import(path=part, collection=collection, mapping=mapping)
        counts[key] = len(sample)
        if _needs_training(field):
            with transaction.atomic():
                training_run_create(field=field, trigger=TrainingRun.Trigger.DEMO)
    return counts


def demo_monitor() -> dict[str, int]:
    """Take the first monitoring snapshot of every field (the periodic task does it after);
    returns each field's number of spot checks waiting in the queue."""
    waiting = {}
    for field in Field.objects.filter(policy__isnull=False).order_by("key"):
        monitoring_run(field=field)
        waiting[field.key] = field.spot_checks.filter(
            prediction__status=Prediction.Status.QUEUED
        ).count()
    return waiting
