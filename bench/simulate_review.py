"""Benchmark: the simulated human loop for language, genre and object type, both orders.

Usage: .venv/bin/python bench/simulate_review.py [--budget 0.2] [--batch 50] [--fields genre,...]
       [--orders uncertainty,random] [--database-url URL] [--language-model PATH]

Fields: language, genre, object_type, and object_type_new_labels (object type from a seed
model that knows only three of its seven labels: how fast corrections teach the others; run
it in a process of its own, as it defines the object_type field too), and language_new_labels
(language on the titles of the largest catalogue-marc source, from a base model built without
that source and its commonest languages but English, ``NEW_LANGUAGE_MIN_TITLES``; the build
takes minutes and is kept at --language-model; run it without language, as both define the
language field).

Reads the British Library titles of ../shared/data (their held-out side) for language, and the
committed samples in data/label-samples/ for genre and object type. Each field starts from a
small seed: language from the shipped base model, genre and object type from a model trained on
the first 100 records of their sample. The rest is divided once, by a hash of each row
(`catalogue.simulation.split_rows`), into a POOL that is reviewed and a fixed TEST file that
never is; the curve is the model on TEST and the catalogue on POOL. Runs in a temporary SQLite
database, or in the empty database of --database-url; prints a Markdown table, and for the
*_new_labels fields a second one: the TEST F1 of each label the start lacks, start and end.
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
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from catalogue.simulation import Simulation

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))
SEED_SIZE = 100
SEED_KNOWN_OBJECT_TYPES = {"on paper, unique", "on paper, print", "painting"}
# language_new_labels: POOL and TEST are the titles of the largest catalogue-marc source; the
# base model is built without that source and without every language other than English with
# at least this many of its titles (enough for a TEST of about 30 titles each at a 20% share).
# The rule was fixed before any run.
NEW_LANGUAGE_MIN_TITLES = 150
# Field → the labels its starting model lacks (the *_new_labels fields), for the second table.
LACKED: dict[str, set[str]] = {}


def setup(database_url: str | None = None) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="glamml-sim-"))
    os.environ["GLAMML_DATA_DIR"] = str(tmp)
    for name in ("DATABASE_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
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
    if seed_labels is not None:
        LACKED[f"{key}_new_labels"] = {r[key] for r in rows} - seed_labels
    rest = [(texts[i], rows[i][key]) for i in range(len(rows)) if i not in taken]
    return pool_and_test(key, rest, tmp)


def language_field(tmp: Path) -> tuple[Path, Path]:
    from glamml.ml.corpora import is_evaluation_text, read_bl

    titles = [
        (e.text, e.label) for e in read_bl(DATA_DIR) if e.split == "test" and is_evaluation_text(e)
    ]
    return _language_field_from_base(titles, tmp, "language")


def _language_field_from_base(
    rows: list[tuple[str, str]], tmp: Path, key: str
) -> tuple[Path, Path]:
    from catalogue.models import TrainingRun
    from catalogue.services.fields import field_ensure_language
    from catalogue.services.policy import policy_update
    from catalogue.services.training.runs import training_run_execute

    field = field_ensure_language()
    # Every prediction waits for a person, as for the label fields: otherwise the threshold
    # policy applies nearly all titles and leaves too few to review for a curve.
    policy_update(policy=field.policy, changed_by=None, mode="review")
    run = training_run_execute(run=TrainingRun.objects.create(field=field))
    assert run.status == "succeeded", run.message
    return pool_and_test(key, rows, tmp)


def new_language_plan() -> tuple[str, set[str], list[tuple[str, str]]]:
    """The source, the languages the base model is built without, and the source's titles."""
    from collections import Counter

    from glamml.ml.catalogue_corpora import read_catalogue_marc
    from glamml.ml.languages import SPECIAL_CODES, UnknownLanguageError, normalise_language

    records = read_catalogue_marc(DATA_DIR)
    source = Counter(r.source for r in records).most_common(1)[0][0]
    rows = []
    for record in records:
        if record.source != source or not record.title:
            continue
        try:
            label = normalise_language(record.label)
        except UnknownLanguageError:
            continue  # a collective code: no language to answer
        if label not in SPECIAL_CODES:
            rows.append((record.title, label))
    counts = Counter(label for _, label in rows)
    left_out = {
        label for label, n in counts.items() if label != "eng" and n >= NEW_LANGUAGE_MIN_TITLES
    }
    return source, left_out, rows


def language_new_labels_field(tmp: Path, model_path: Path) -> tuple[Path, Path]:
    """The language field from a base model that lacks the commonest languages of POOL and TEST.

    The model is built by ``glamml.ml.langid_build`` without the source and those languages
    (kept at ``model_path`` and reused while its build says the same), and stands in for the
    shipped base model in this process.
    """
    from glamml.ml import langid
    from glamml.ml.artefacts import sha256_file, write_checksum_file
    from glamml.ml.langid import LanguageIdentifier

    source, left_out, rows = new_language_plan()
    sys.stderr.write(f"POOL and TEST: {source}; base model without {sorted(left_out)}\n")
    wanted = {"excluded_sources": [source], "excluded_languages": sorted(left_out)}
    built = None
    if model_path.exists():
        info = LanguageIdentifier.load(model_path).info.get("build", {})
        if all(info.get(key) == value for key, value in wanted.items()):
            built = model_path
    if built is None:
        from glamml.ml.langid_build import build_base_model, read_build_data

        t0 = time.perf_counter()
        data = read_build_data(DATA_DIR, cache=ROOT / "var" / "cache" / "romanised.json")
        model = build_base_model(data, exclude_sources={source}, exclude_languages=left_out)
        model_path.parent.mkdir(parents=True, exist_ok=True)
        model.identifier.save(model_path)
        sys.stderr.write(f"built {model_path.name} in {time.perf_counter() - t0:.0f} s\n")
    lacks = left_out & set(LanguageIdentifier.load(model_path).labels_)
    assert not lacks, f"the base model still has {sorted(lacks)}"
    checksum = tmp / "base.sha256"
    write_checksum_file(checksum, sha256_file(model_path), model_path.name)
    langid.artefact.BASE_MODEL_PATH = model_path
    langid.artefact.BASE_MODEL_CHECKSUM_PATH = checksum
    LACKED["language_new_labels"] = left_out
    return _language_field_from_base(rows, tmp, "language_new_labels")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=0.2)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--fields", default="language,genre,object_type")
    parser.add_argument(
        "--language-model",
        type=Path,
        default=ROOT / "var" / "bench" / "langid-new-labels.npz",
        help="language_new_labels: where its base model is kept (built when missing)",
    )
    parser.add_argument("--orders", default="uncertainty,random")
    parser.add_argument(
        "--database-url",
        help="an empty database to migrate and run in (default: a temporary SQLite file)",
    )
    args = parser.parse_args()
    setup(args.database_url)
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
        "language_new_labels": lambda: language_new_labels_field(tmp, args.language_model),
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
    lacked_rows = []
    for key, (pool, test) in datasets.items():
        for order in args.orders.split(","):
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
            if key in LACKED:
                lacked_rows.append(lacked_row(key, order, result))
    if lacked_rows:
        print()
        print(
            "| field | order | TEST labels | TEST F1 of each label the start lacks, start → end "
            "| mean TEST F1 of the other labels, start → end |"
        )
        print("| --- | --- | ---: | --- | --- |")
        print("\n".join(lacked_rows))


def lacked_row(key: str, order: str, result: Simulation) -> str:
    """Where macro-F1 moved: the labels the starting model lacks, and the rest on average."""
    start, end = result.curve[0].f1_by_label, result.final.f1_by_label
    lacked = sorted(LACKED[key] & set(start))
    others = [label for label in start if label not in LACKED[key]]

    def mean(f1: dict[str, float]) -> float:
        return sum(f1[label] for label in others) / max(len(others), 1)

    each = ", ".join(f"{label} {start[label]:.3f} → {end[label]:.3f}" for label in lacked)
    return (
        f"| {key} | {order} | {len(start)} | {each} "
        f"| {mean(start):.3f} → {mean(end):.3f} ({len(others)} labels) |"
    )


if __name__ == "__main__":
    main()
