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

from catalogue.models import Collection, DecisionPolicy, ModelVersion
from catalogue.roles import cataloguer_group
from catalogue.services.fields import field_ensure_language
from catalogue.services.imports import records_import
from catalogue.services.policy import policy_update
from catalogue.services.training import training_run_create

SAMPLE = Path(settings.BASE_DIR) / "data" / "sample" / "records.csv"

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


def demo_load(*, sample: Path = SAMPLE) -> dict[str, int]:
    """Import the bundled sample, one collection per source; return records per collection."""
    field = field_ensure_language()
    with sample.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = [c for c in reader.fieldnames or [] if c != "source"]
        by_source: dict[str, list[dict[str, str]]] = {}
        for row in reader:
            by_source.setdefault(row["source"], []).append(row)
    counts = {}
    with tempfile.TemporaryDirectory() as tmp:
        for source, rows in sorted(by_source.items()):
            slug, name, licence = COLLECTIONS.get(source, (slugify(source), source, ""))
            collection, _ = Collection.objects.get_or_create(
                slug=slug, defaults={"name": name, "licence": licence, "is_public": True}
            )
            part = Path(tmp) / f"{slug}.csv"
            with part.open("w", newline="", encoding="utf-8") as out:
                writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
                writer.writeheader()
                writer.writerows(rows)
            records_import(path=part, collection=collection, mapping={"language": "language"})
            counts[slug] = len(rows)
    policy = DecisionPolicy.objects.get(field=field)
    if policy.mode != DecisionPolicy.Mode.THRESHOLD:
        policy_update(policy=policy, changed_by=None, mode=DecisionPolicy.Mode.THRESHOLD)
    return counts


def demo_train() -> str:
    """Train the language model unless one is active; predictions follow in the same run."""
    field = field_ensure_language()
    if ModelVersion.objects.filter(field=field, status=ModelVersion.Status.ACTIVE).exists():
        return "An active language model exists; not retraining (run `manage.py train`)."
    with transaction.atomic():
        run = training_run_create(field=field)
    run.refresh_from_db()
    return f"Training run: {run.status}. {run.message}"
