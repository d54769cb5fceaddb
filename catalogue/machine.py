"""Where model artefacts live on disk, and loading them once per process.

An artefact that is missing, corrupt or of another format version is treated as absent:
callers get ``ModelUnavailable`` with a message that says which version and why.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from django.conf import settings

from catalogue.models import Field, ModelVersion
from glamml.ml.langid import ArtefactError, LanguageIdentifier
from glamml.ml.textclf import TextClassifier

NO_ACTIVE_MODEL = (
    "No active model for field {field!r}: run `python manage.py train --field {field}`."
)
ARTEFACT_UNUSABLE = "Model {version} for field {field!r} cannot be used: {reason}"

Model = LanguageIdentifier | TextClassifier

_cache: dict[str, Model] = {}
_cache_lock = threading.Lock()
# Set only inside scratch_model_dir(); per thread and task, so nothing else sees it.
_scratch_dir: ContextVar[Path | None] = ContextVar("glamml_scratch_model_dir", default=None)


class ModelUnavailable(Exception):
    pass


def model_dir() -> Path:
    return _scratch_dir.get() or Path(settings.GLAMML_MODEL_DIR)


@contextmanager
def scratch_model_dir(path: Path) -> Iterator[Path]:
    """Read and write artefacts under ``path`` for the code run inside (in this thread only).

    For work that is rolled back afterwards, such as a simulated review: its model versions
    never existed, so neither should their files in the data directory.
    """
    token = _scratch_dir.set(path)
    try:
        yield path
    finally:
        _scratch_dir.reset(token)


def artefact_path(*, field: Field, version: int) -> Path:
    """Where a new artefact goes, named by its model's format (``.npz`` or ``.skops``).

    Stored versions keep the path recorded when they were trained (older text classifiers were
    written as ``.npz``), so only new files get the suffix.
    """
    suffix = model_class(field=field).FILE_SUFFIX
    return model_dir() / field.key / f"v{version:04d}{suffix}"


def active_model_version(*, field: Field) -> ModelVersion:
    """The field's active version, its field the one given.

    Its model card, metrics, baselines and parameters (JSON, hundreds of kB for a language
    model) are read only if asked for: every prediction batch reads the active version to know
    which model to run, and decoding them was a large share of a batch's time.
    """
    version = (
        ModelVersion.objects.filter(field=field, status=ModelVersion.Status.ACTIVE)
        .defer(*ModelVersion.DOCUMENTS)
        .first()
    )
    if version is None:
        raise ModelUnavailable(NO_ACTIVE_MODEL.format(field=field.key))
    version.field = field
    return version


def model_class(*, field: Field) -> type[LanguageIdentifier] | type[TextClassifier]:
    return LanguageIdentifier if field.kind == Field.Kind.LANGUAGE else TextClassifier


def model_load(*, version: ModelVersion) -> Model:
    """The loaded model for ``version``, cached by checksum so workers load each file once."""
    with _cache_lock:
        cached = _cache.get(version.checksum)
        if cached is not None:
            return cached
        try:
            model = model_class(field=version.field).load(
                model_dir() / version.artefact, checksum=version.checksum
            )
        except ArtefactError as exc:
            raise ModelUnavailable(
                ARTEFACT_UNUSABLE.format(
                    version=version.version, field=version.field.key, reason=exc
                )
            ) from exc
        # Keep only the newest few: a worker should not grow with every retraining.
        if len(_cache) >= 3:
            _cache.pop(next(iter(_cache)))
        _cache[version.checksum] = model
        return model


def model_labels(model: Model) -> set[str]:
    """The labels a model can answer with.

    A language identifier answers languages (``labels_``); its ``classes_`` are profiles, and a
    language may have only a romanised one (``rus-Latn``). A classifier's classes are its labels.
    """
    labels = getattr(model, "labels_", None)
    return set(labels if labels is not None else model.classes_)


def model_cache_clear() -> None:
    with _cache_lock:
        _cache.clear()
