"""The language identifier's file: its profiles as a plain npz (no pickles), format version 3.

The file holds the per-language n-gram counts as a sparse matrix stored by n-gram (for each
n-gram of the sorted vocabulary, how many profiles have it, which ones as gaps, and their
counts), the vocabulary's 40-bit keys as gaps, each class's totals and prior pseudo-counts,
the class names, and a JSON header with the hyperparameters and build information. Integer
arrays are stored as byte planes (all first bytes, then all second bytes...): the gaps are
small numbers, so their high planes are nearly all zero and zlib shrinks them to little.
Counts are stored exactly: as integers when they all are (a build's are), else as float32.
Format 2 (64-bit keys, counts by profile) is still read: its keys are cut to 40 bits, as
:func:`glamml.ml.langid.features.short_keys` does, and n-grams whose keys then fall together
are added up. The same model gives the same bytes (see
:func:`glamml.ml.artefacts.write_npz_atomic`), which is what lets
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
from glamml.ml.langid.features import KEY_SHIFT, short_keys
from glamml.ml.langid.profiles import Profiles, sum_by_class_and_key

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

# 3: 40-bit keys, counts by n-gram, byte planes; 2: 64-bit keys, counts by profile (still
# read); 1: n-grams as strings (refused)
FORMAT_VERSION = 3
_READABLE_VERSIONS = (2, 3)
FILE_SUFFIX = ".npz"

_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
BASE_MODEL_PATH = _DATA_DIR / "langid_profiles.npz"
BASE_MODEL_CHECKSUM_PATH = _DATA_DIR / "langid_profiles.npz.sha256"
# Held-out records of the build's sources, small enough to ship: what the base model is measured on.
EVAL_SAMPLE_PATH = _DATA_DIR / "langid_eval_sample.csv"

INCONSISTENT = "Model file {path} is inconsistent: {reason}"

_REQUIRED_ARRAYS = {
    2: (
        "params",
        "classes",
        "vocab_keys",
        "counts_data",
        "counts_indices",
        "counts_indptr",
        "totals",
        "docs",
    ),
    3: (
        "params",
        "classes",
        "key_gaps",
        "profiles_per_key",
        "profile_gaps",
        "counts",
        "counts_dtype",
        "totals",
        "docs",
    ),
}


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


def _planes(values: np.ndarray) -> np.ndarray:
    """Unsigned integers as byte planes: row k holds the k-th byte of every value."""
    values = np.ascontiguousarray(values.astype(values.dtype.newbyteorder("<")))
    return values.view(np.uint8).reshape(len(values), values.itemsize).T.copy()


def _from_planes(planes: np.ndarray, dtype: type[np.unsignedinteger]) -> np.ndarray:
    planes = np.asarray(planes, dtype=np.uint8)
    width = np.dtype(dtype).itemsize
    if planes.ndim != 2 or planes.shape[0] != width:
        raise ValueError(f"byte planes of shape {planes.shape}, expected {width} rows")
    little = np.ascontiguousarray(planes.T).view(np.dtype(dtype).newbyteorder("<")).ravel()
    return little.astype(dtype)


def write_model(path: str | os.PathLike[str], model: StoredModel) -> str:
    """Write the model atomically as a deterministic npz; returns the file's sha256 hex."""
    profiles = model.profiles
    by_key = profiles.counts.tocsc()
    by_key.sort_indices()
    short = np.asarray(profiles.keys, dtype=np.uint64) >> np.uint64(KEY_SHIFT)
    key_gaps = np.diff(short, prepend=np.uint64(0))
    data = by_key.data
    whole = bool(len(data) == 0 or (np.all(data == np.round(data)) and data.min() >= 0))
    whole = whole and bool(len(data) == 0 or data.max() < 2**32)
    counts = _planes(data.astype(np.uint32)) if whole else data.astype(np.float32)
    header = {"hyper": model.hyper, "info": model.info}
    arrays = {
        "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
        "params": np.array(json.dumps(header, sort_keys=True)),
        "classes": np.array(profiles.classes, dtype=str),
        "key_gaps": _planes(key_gaps),
        "profiles_per_key": _planes(np.diff(by_key.indptr).astype(np.uint32)),
        "profile_gaps": _planes(_delta_encode(by_key.indices, by_key.indptr)),
        "counts": counts,
        "counts_dtype": np.array("uint32" if whole else "float32"),
        "totals": profiles.totals,
        "docs": profiles.docs,
    }
    return write_npz_atomic(path, arrays)


def _check_format(path: str | os.PathLike[str], arrays: dict[str, np.ndarray]) -> int:
    if "format_version" not in arrays:
        raise ArtefactError(f"Model file {path} lacks format_version")
    try:
        version = int(arrays["format_version"])
    except (TypeError, ValueError) as exc:
        raise ArtefactError(f"Model file {path} has an unreadable format version") from exc
    if version not in _READABLE_VERSIONS:
        raise ArtefactError(
            f"Model file {path} has format version {version}; this code reads versions "
            f"{', '.join(map(str, _READABLE_VERSIONS))}: retrain the model"
        )
    missing = [name for name in _REQUIRED_ARRAYS[version] if name not in arrays]
    if missing:
        raise ArtefactError(f"Model file {path} lacks {', '.join(missing)}")
    return version


def _counts_v3(arrays: dict[str, np.ndarray], n_classes: int) -> tuple[np.ndarray, Any]:
    keys = np.cumsum(_from_planes(arrays["key_gaps"], np.uint64), dtype=np.uint64)
    keys = (keys << np.uint64(KEY_SHIFT)) | np.uint64(1)
    per_key = _from_planes(arrays["profiles_per_key"], np.uint32)
    if len(per_key) != len(keys):
        raise ValueError("profiles_per_key and key_gaps disagree")
    indptr = np.concatenate([[0], np.cumsum(per_key, dtype=np.int64)])
    rows = _delta_decode(_from_planes(arrays["profile_gaps"], np.uint32), indptr)
    dtype = str(arrays["counts_dtype"])
    if dtype == "uint32":
        data = _from_planes(arrays["counts"], np.uint32).astype(np.float64)
    elif dtype == "float32":
        data = np.asarray(arrays["counts"], dtype=np.float64)
    else:
        raise ValueError(f"counts_dtype {dtype!r}")
    if len(data) != len(rows):
        raise ValueError("counts and profile_gaps disagree")
    counts = sparse.csc_matrix((data, rows, indptr), shape=(n_classes, len(keys))).tocsr()
    counts.sort_indices()
    return keys, counts


def _counts_v2(arrays: dict[str, np.ndarray], n_classes: int) -> tuple[np.ndarray, Any]:
    """A format 2 file's counts, its 64-bit keys cut to the 40 bits the features now have."""
    long_keys = np.asarray(arrays["vocab_keys"], dtype=np.uint64)
    counts = sparse.csr_matrix(
        (
            arrays["counts_data"].astype(np.float64),
            _delta_decode(arrays["counts_indices"], arrays["counts_indptr"]),
            arrays["counts_indptr"],
        ),
        shape=(n_classes, len(long_keys)),
    ).tocoo()
    rows, keys, values = sum_by_class_and_key(
        counts.row.astype(np.int64), short_keys(long_keys)[counts.col], counts.data
    )
    vocab, columns = np.unique(keys, return_inverse=True)
    matrix = sparse.csr_matrix((values, (rows, columns.ravel())), shape=(n_classes, len(vocab)))
    matrix.sort_indices()
    return vocab, matrix


def read_model(path: str | os.PathLike[str], *, checksum: str | None = None) -> StoredModel:
    """Read a file written by :func:`write_model` (or format 2's); :class:`ArtefactError`
    says what is wrong.

    A missing file, a failed checksum, a missing array, another format version or arrays that
    do not fit together are all refused.
    """
    arrays = read_npz(path, checksum=checksum)
    version = _check_format(path, arrays)
    try:
        header = json.loads(str(arrays["params"]))
        classes = [str(label) for label in arrays["classes"]]
        read_counts = _counts_v3 if version == 3 else _counts_v2
        keys, counts = read_counts(arrays, len(classes))
        profiles = Profiles(
            classes=classes, keys=keys, counts=counts, totals=arrays["totals"], docs=arrays["docs"]
        )
        return StoredModel(
            profiles=profiles, hyper=dict(header["hyper"]), info=dict(header.get("info", {}))
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ArtefactError(INCONSISTENT.format(path=path, reason=exc)) from exc
