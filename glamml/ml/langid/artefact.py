"""The language identifier's file: its profiles as a plain npz (no pickles), format version 2.

The file holds the per-language n-gram counts as a sparse matrix (column indices delta-encoded,
counts as float32), the class names, the sorted vocabulary keys, each class's totals and prior
pseudo-counts, and a JSON header with the hyperparameters and build information. The same model
gives the same bytes (see :func:`glamml.ml.artefacts.write_npz_atomic`), which is what lets
``scripts/build_langid_profiles.py`` be checked against the shipped checksum.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from glamml.ml.artefacts import ArtefactError, read_npz, write_npz_atomic
from glamml.ml.langid.profiles import Profiles

__all__ = [
    "BASE_MODEL_CHECKSUM_PATH",
    "BASE_MODEL_PATH",
    "EVAL_SAMPLE_PATH",
    "FILE_SUFFIX",
    "FORMAT_VERSION",
    "INCONSISTENT",
    "StoredModel",
    "read_model",
    "write_model",
]

FORMAT_VERSION = 2  # 2: n-grams stored as 64-bit keys (1: as strings)
FILE_SUFFIX = ".npz"

_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
BASE_MODEL_PATH = _DATA_DIR / "langid_profiles.npz"
BASE_MODEL_CHECKSUM_PATH = _DATA_DIR / "langid_profiles.npz.sha256"
# Held-out records of the build's sources, small enough to ship: what the base model is measured on.
EVAL_SAMPLE_PATH = _DATA_DIR / "langid_eval_sample.csv"

INCONSISTENT = "Model file {path} is inconsistent: {reason}"

_REQUIRED_ARRAYS = (
    "format_version",
    "params",
    "classes",
    "vocab_keys",
    "counts_data",
    "counts_indices",
    "counts_indptr",
    "totals",
    "docs",
)


@dataclass(frozen=True)
class StoredModel:
    """What a language model file holds: the profiles and the settings to score them with."""

    profiles: Profiles
    hyper: dict[str, Any]  # the fields of glamml.ml.langid.model.Hyperparameters
    info: dict[str, Any]  # build and training information (JSON)


def _delta_encode(indices: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Column indices as gaps within each (sorted) row: they compress to half the size."""
    deltas = indices.astype(np.int64)
    deltas[1:] -= indices[:-1]
    starts = indptr[:-1][np.diff(indptr) > 0]
    deltas[starts] = indices[starts]
    return deltas.astype(np.uint32)


def _delta_decode(deltas: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    if len(deltas) != indptr[-1]:
        raise ValueError("counts_indices and counts_indptr disagree")
    running = np.cumsum(deltas, dtype=np.int64)
    lengths = np.diff(indptr)
    starts = indptr[:-1][lengths > 0]
    offsets = np.repeat(running[starts] - deltas[starts], lengths[lengths > 0])
    result: np.ndarray = running - offsets
    return result


def write_model(path: str | os.PathLike[str], model: StoredModel) -> str:
    """Write the model atomically as a deterministic npz; returns the file's sha256 hex."""
    profiles = model.profiles
    counts = profiles.counts.tocsr()
    counts.sort_indices()
    header = {"hyper": model.hyper, "info": model.info}
    arrays = {
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "params": np.array(json.dumps(header, sort_keys=True)),
        "classes": np.array(profiles.classes, dtype=str),
        "vocab_keys": profiles.keys,
        "counts_data": counts.data.astype(np.float32),
        "counts_indices": _delta_encode(counts.indices, counts.indptr),
        "counts_indptr": counts.indptr.astype(np.int64),
        "totals": profiles.totals,
        "docs": profiles.docs,
    }
    return write_npz_atomic(path, arrays)


def _check_format(path: str | os.PathLike[str], arrays: dict[str, np.ndarray]) -> None:
    missing = [name for name in _REQUIRED_ARRAYS if name not in arrays]
    if missing:
        raise ArtefactError(f"Model file {path} lacks {', '.join(missing)}")
    try:
        version = int(arrays["format_version"])
    except (TypeError, ValueError) as exc:
        raise ArtefactError(f"Model file {path} has an unreadable format version") from exc
    if version != FORMAT_VERSION:
        raise ArtefactError(
            f"Model file {path} has format version {version}; this code reads version "
            f"{FORMAT_VERSION}: retrain the model"
        )


def read_model(path: str | os.PathLike[str], *, checksum: str | None = None) -> StoredModel:
    """Read a file written by :func:`write_model`; :class:`ArtefactError` says what is wrong.

    A missing file, a failed checksum, a missing array, another format version or arrays that
    do not fit together are all refused.
    """
    arrays = read_npz(path, checksum=checksum)
    _check_format(path, arrays)
    try:
        header = json.loads(str(arrays["params"]))
        classes = [str(label) for label in arrays["classes"]]
        keys = np.asarray(arrays["vocab_keys"], dtype=np.uint64)
        counts = sparse.csr_matrix(
            (
                arrays["counts_data"].astype(np.float64),
                _delta_decode(arrays["counts_indices"], arrays["counts_indptr"]),
                arrays["counts_indptr"],
            ),
            shape=(len(classes), len(keys)),
        )
        profiles = Profiles(
            classes=classes, keys=keys, counts=counts, totals=arrays["totals"], docs=arrays["docs"]
        )
        return StoredModel(
            profiles=profiles, hyper=dict(header["hyper"]), info=dict(header.get("info", {}))
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtefactError(INCONSISTENT.format(path=path, reason=exc)) from exc
