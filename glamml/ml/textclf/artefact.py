"""The text classifier's file: skops (no pickle), written atomically, with a format version.

The file holds plain arrays (each vectoriser's vocabulary and IDF weights, the coefficients) and
JSON-like values, no scikit-learn object, so it stays small and its layout is ours, not
scikit-learn's. Loading checks the sha256, loads only types skops trusts and refuses another
format version, each with :class:`~glamml.ml.artefacts.ArtefactError` and the reason.
"""

from __future__ import annotations

import os
import zipfile
from typing import Any, BinaryIO

from glamml.ml.artefacts import ArtefactError, check_artefact, write_atomic

__all__ = ["FILE_SUFFIX", "FORMAT_VERSION", "read_state", "write_state"]

FORMAT_VERSION = 1
FILE_SUFFIX = ".skops"

# What reading a damaged skops file raises (a skops type error is handled before these).
_READ_ERRORS = (OSError, ValueError, KeyError, TypeError, AttributeError, zipfile.BadZipFile)


def write_state(path: str | os.PathLike[str], state: dict[str, Any]) -> str:
    """Write a model's state with its format version, atomically; returns the file's sha256."""
    import skops.io as sio  # imported when used: it takes 1.5 s of CPU in every process

    payload = sio.dumps(
        {"format_version": FORMAT_VERSION, **state}, compression=zipfile.ZIP_DEFLATED
    )

    def write(handle: BinaryIO) -> None:
        handle.write(payload)

    return write_atomic(path, write)


def read_state(path: str | os.PathLike[str], *, checksum: str | None = None) -> dict[str, Any]:
    """The state :func:`write_state` wrote, after checking the file and its format version."""
    import skops.io as sio  # imported when used: it takes 1.5 s of CPU in every process

    source = check_artefact(path, checksum=checksum)
    try:
        state = sio.load(source)
    except sio.exceptions.UntrustedTypesFoundException as exc:
        raise ArtefactError(
            f"Model file {source} holds types this code does not load: {exc}"
        ) from exc
    except _READ_ERRORS as exc:
        raise ArtefactError(f"Model file {source} is corrupt or not a skops file: {exc}") from exc
    if not isinstance(state, dict) or "format_version" not in state:
        raise ArtefactError(f"Model file {source} is not a glamml text classifier")
    version = state["format_version"]
    if version != FORMAT_VERSION:
        raise ArtefactError(
            f"Model file {source} has format version {version}; this code reads version "
            f"{FORMAT_VERSION}: retrain the model"
        )
    return state
