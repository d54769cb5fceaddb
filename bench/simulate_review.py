"""Benchmark: the simulated human loop for language, genre and object type, both orders.

Usage: .venv/bin/python bench/simulate_review.py [--budget 0.2] [--batch 50] [--fields genre,...]

Fields: language, genre, object_type, and object_type_new_labels (object type from a seed
model that knows only three of its seven labels: how fast corrections teach the others; run
it in a process of its own, as it defines the object_type field too).

Reads the British Library titles of ../shared/data (their held-out side) for language, and the
committed samples in data/label-samples/ for genre and object type. Each field starts from a
small seed: language from the shipped base model, genre and object type from a model trained on
the first 100 records of their sample. The rest is divided once, by a hash of each row
(`catalogue.simulation.split_rows`), into a POOL that is reviewed and a fixed TEST file that
never is; the curve is the model on TEST and the catalogue on POOL. Runs in a temporary SQLite
database; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))
SEED_SIZE = 100
SEED_KNOWN_OBJECT_TYPES = {"on paper, unique", "on paper, print", "painting"}


def setup() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="glamml-sim-"))
    os.environ["GLAMML_DATA_DIR"] = str(tmp)
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glamml.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def pool_and_test(key: str, rows: list[tuple[str, str]], tmp: Path) -> tuple[Path, Path]:
    """The rows as a POOL file and a fixed TEST file, divided by a hash of each row."""
    from catalogue.simulation import split_rows

    pool, test = split_rows(rows)
    header = ["text", "label"]
    return (
        write_csv(tmp / f"{key}-pool.csv", header, [list(r) for r in pool]),
        write_csv(tmp / f"{key}-test.csv", header, [list(r) for r in test]),
    )


def label_field(
    key: str, name: str, sample: str, tmp: Path, seed_labels: set[str] | None = None
) -> tuple[Path, Path]:
    """Define the field, train it on the first records of its sample; the rest as POOL, TEST.

    With ``seed_labels``, the seed is the first records with one of those labels, so the
    starting model lacks every other label and only reviewed corrections can teach them.
    """
    from catalogue.models import Collection, TrainingRun
    from catalogue.services.fields import field_create
    from catalogue.services.imports import records_import
    from catalogue.services.training.runs import training_run_execute

    with (ROOT / "data" / "label-samples" / sample).open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    field = field_create(
        key=key,
        name=name,
        labels=[(c, c) for c in sorted({r[key] for r in rows})],
        text_source=["title"],
    )
    # One text column: the simulation puts the text in the title.
    texts = [" ; ".join(x for x in (r["title"], r.get("description", "")) if x) for r in rows]
    seeded = [i for i, r in enumerate(rows) if seed_labels is None or r[key] in seed_labels]
    seeded = seeded[:SEED_SIZE]
    seed = write_csv(
        tmp / f"{key}-seed.csv",
        ["identifier", "title", key],
        [[rows[i]["identifier"], texts[i], rows[i][key]] for i in seeded],
    )
    collection = Collection.objects.create(slug=f"{key}-seed", name=f"{name} seed")
    records_import(path=seed, collection=collection, mapping={key: key})
    run = training_run_execute(run=TrainingRun.objects.create(field=field))
    assert run.status == "succeeded", run.message
    taken = set(seeded)
    rest = [(texts[i], rows[i][key]) for i in range(len(rows)) if i not in taken]
    return pool_and_test(key, rest, tmp)


def language_field(tmp: Path) -> tuple[Path, Path]:
    from catalogue.models import TrainingRun
    from catalogue.services.fields import field_ensure_language
    from catalogue.services.policy import policy_update
    from catalogue.services.training.runs import training_run_execute
    from glamml.ml.corpora import is_evaluation_text, read_bl

    titles = [
        (e.text, e.label) for e in read_bl(DATA_DIR) if e.split == "test" and is_evaluation_text(e)
    ]
    field = field_ensure_language()
    # Every prediction waits for a person, as for the label fields: otherwise the threshold
    # policy applies nearly all titles and leaves too few to review for a curve.
    policy_update(policy=field.policy, changed_by=None, mode="review")
    run = training_run_execute(run=TrainingRun.objects.create(field=field))
    assert run.status == "succeeded", run.message
    return pool_and_test("language", titles, tmp)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=0.2)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--fields", default="language,genre,object_type")
    args = parser.parse_args()
    setup()
    from catalogue.services.fields import field_get
    from catalogue.simulation import simulate_review

    tmp = Path(tempfile.mkdtemp(prefix="glamml-sim-data-"))
    builders = {
        "language": lambda: language_field(tmp),
        "genre": lambda: label_field("genre", "Genre", "bl-genre.csv", tmp),
        "object_type": lambda: label_field(
            "object_type", "Object type", "tate-object-type.csv", tmp
        ),
        # The starting model knows only the three commonest object types (works on paper,
        # unique and print, and paintings); sculpture, installation, relief and block for
        # printing are labels it lacks. Run it without object_type: both define that field.
        "object_type_new_labels": lambda: label_field(
            "object_type", "Object type", "tate-object-type.csv", tmp, SEED_KNOWN_OBJECT_TYPES
        ),
    }
    datasets = {key: builders[key]() for key in args.fields.split(",")}
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"budget {args.budget} of POOL, batch {args.batch}; model on TEST, catalogue on POOL")
    print()
    print(
        "| field | order | POOL | TEST | reviewed | TEST accuracy start → end "
        "| TEST macro-F1 start → end | curve (reviewed: TEST macro-F1) "
        "| POOL catalogue accuracy start → end | seconds |"
    )
    print("| --- | --- | ---: | ---: | ---: | --- | --- | --- | --- | ---: |")
    for key, (pool, test) in datasets.items():
        for order in ("uncertainty", "random"):
            t0 = time.perf_counter()
            result = simulate_review(
                field=field_get(key=key.removesuffix("_new_labels")),
                path=pool,
                test_path=test,
                budget=args.budget,
                batch=args.batch,
                order=order,
            )
            seconds = time.perf_counter() - t0
            start, end = result.curve[0], result.final
            curve = ", ".join(f"{p.reviewed}: {p.macro_f1:.3f}" for p in result.curve)
            print(
                f"| {key} | {order} | {result.n} | {result.n_test} | {result.reviewed} "
                f"| {start.accuracy:.3f} → {end.accuracy:.3f} "
                f"| {start.macro_f1:.3f} → {end.macro_f1:.3f} | {curve} "
                f"| {start.catalogue_accuracy:.3f} → {end.catalogue_accuracy:.3f} "
                f"| {seconds:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
