"""What a model version's live data is compared with: the labelled records it learnt from.

Stored when a version is trained (the exact training and held-out records); for a version made
before monitoring existed it is built on first use from the field's labelled records and its
frozen split as they are then, and says so (``profile["built"]``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from django.db import transaction

from catalogue.machine import Model, model_load
from catalogue.models import DriftReference, Field, ModelVersion, Record, SplitAssignment
from catalogue.services.training.examples import training_examples
from catalogue.services.training.splits import Sides, split_sides
from glamml.ml.drift import (
    UnseenFunction,
    reference_profile,
    trigram_vocabulary,
    unseen_shares,
    vocabulary_decode,
    vocabulary_encode,
)
from glamml.ml.examples import Example

AT_TRAINING = "at training"
AFTER_TRAINING = "from the labelled records when monitoring first saw the version"


def model_unseen(model: Model) -> UnseenFunction | None:
    """The model's own count of features it never saw, when it keeps one (the language model
    knows every n-gram of its profiles, not only of the catalogue's records)."""
    known = getattr(model, "known_ngram_share", None)
    if not callable(known):
        return None

    def unseen(texts: Sequence[str]) -> list[float]:
        return [1.0 - share for share in known(list(texts))]

    return unseen


def _vocabulary_unseen(vocabulary_text: str) -> UnseenFunction | None:
    if not vocabulary_text:
        return None
    vocabulary = vocabulary_decode(vocabulary_text)

    def unseen(texts: Sequence[str]) -> list[float]:
        return unseen_shares(texts, vocabulary)

    return unseen


def drift_reference_store(
    *, version: ModelVersion, sides: Sides, model: Model, built: str = AT_TRAINING
) -> list[DriftReference]:
    """Profile the version's training and held-out records, for the field and per collection."""
    own = model_unseen(model)
    vocabulary = "" if own else vocabulary_encode(trigram_vocabulary(e.text for e in sides.train))
    unseen = own or _vocabulary_unseen(vocabulary)
    predictions = dict(
        zip(
            [e.key for e in sides.test],
            model.predict([e.text for e in sides.test]) if sides.test else [],
            strict=True,
        )
    )
    collection_of = dict(
        Record.objects.filter(id__in=[e.key for e in (*sides.train, *sides.test)]).values_list(
            "id", "collection_id"
        )
    )
    groups: dict[int | None, Sides] = {None: sides}
    by_collection: dict[int, tuple[list[Example[int]], list[Example[int]]]] = defaultdict(
        lambda: ([], [])
    )
    for side, examples in ((0, sides.train), (1, sides.test)):
        for e in examples:
            by_collection[collection_of[e.key]][side].append(e)
    for collection, (train, test) in by_collection.items():
        groups[collection] = Sides(train=train, test=test)
    rows = []
    for collection_id, group in groups.items():
        profile = reference_profile(
            train_texts=[e.text for e in group.train],
            train_labels=[e.label for e in group.train],
            test_texts=[e.text for e in group.test],
            test_predictions=[predictions[e.key] for e in group.test],
            unseen=unseen,
        )
        profile["built"] = built
        rows.append(
            DriftReference(
                model_version=version,
                collection_id=collection_id,
                profile=profile,
                vocabulary=vocabulary if collection_id is None else "",
            )
        )
    return DriftReference.objects.bulk_create(rows, ignore_conflicts=True)


def drift_references(*, version: ModelVersion) -> dict[int | None, DriftReference]:
    """The version's references by collection id (``None``: the whole field), built if missing."""
    references = {r.collection_id: r for r in DriftReference.objects.filter(model_version=version)}
    if None in references:
        return references
    field: Field = version.field
    examples = training_examples(field=field)
    assigned = dict(SplitAssignment.objects.filter(field=field).values_list("record_id", "side"))
    with transaction.atomic():
        drift_reference_store(
            version=version,
            sides=split_sides(examples=examples, sides=assigned),
            model=model_load(version=version),
            built=AFTER_TRAINING,
        )
    return {r.collection_id: r for r in DriftReference.objects.filter(model_version=version)}


def unseen_function(
    *, version: ModelVersion, references: dict[int | None, DriftReference]
) -> UnseenFunction | None:
    """How live texts are scored for features the version never saw (as its reference was)."""
    own = model_unseen(model_load(version=version))
    if own is not None:
        return own
    field_reference = references.get(None)
    return _vocabulary_unseen(field_reference.vocabulary) if field_reference else None
