"""The text classifier's settings: their defaults and the check that names a wrong one."""

from __future__ import annotations

from typing import Any

__all__ = ["CALIBRATED_BY", "CALIBRATION_METHODS", "DEFAULT_PARAMS", "ParamError", "check_params"]

DEFAULT_PARAMS: dict[str, Any] = {
    "word_ngrams": [1, 2],  # word n-gram range; None leaves words out
    "char_ngrams": [2, 5],  # character n-gram range within words; None leaves them out
    "max_features": 50_000,  # per kind of feature, most frequent first
    "min_df": 1,
    "C": 10.0,  # inverse regularisation strength of the logistic regression
    "class_weight": "balanced",  # or None
    "calibration": "temperature+bias",  # or "temperature" or "none"
    "folds": 5,  # cross-fitting folds for the calibration
    "max_chars": 5_000,  # longer texts are cut (a record's text, not a book)
    "seed": 0,
}
CALIBRATION_METHODS = ("temperature+bias", "temperature", "none")
CALIBRATED_BY = {
    "temperature+bias": "bias-corrected temperature scaling",
    "temperature": "temperature scaling",
    "none": "nothing (raw probabilities)",
}


class ParamError(ValueError):
    """A classifier setting is wrong; ``param`` names it (``None``: a combination of them)."""

    def __init__(self, param: str | None, message: str) -> None:
        super().__init__(message)
        self.param = param


def _ngram_range(value: Any, name: str) -> tuple[int, int] | None:
    if value is None:
        return None
    try:
        low, high = (int(part) for part in value)
    except (TypeError, ValueError):
        raise ParamError(name, f"{name} must be [min, max] or None, got {value!r}") from None
    if not 1 <= low <= high:
        raise ParamError(name, f"{name} must satisfy 1 <= min <= max, got {value!r}")
    return low, high


def _number(value: Any, name: str, kind: type[int] | type[float]) -> Any:
    # bool is an int to Python, never a count or a strength to a person.
    if isinstance(value, bool):
        raise ParamError(name, f"{name} must be a number, got {value!r}")
    try:
        number = kind(value)
    except (TypeError, ValueError, OverflowError):
        what = "a whole number" if kind is int else "a number"
        raise ParamError(name, f"{name} must be {what}, got {value!r}") from None
    if kind is int and number != float(value):
        raise ParamError(name, f"{name} must be a whole number, got {value!r}")
    return number


def check_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """``params`` over the defaults, checked; raises :class:`ParamError` naming what is wrong."""
    given = dict(params or {})
    unknown = sorted(set(given) - set(DEFAULT_PARAMS))
    if unknown:
        known = ", ".join(sorted(DEFAULT_PARAMS))
        raise ParamError(unknown[0], f"unknown parameter(s) {', '.join(unknown)}; known: {known}")
    merged = {**DEFAULT_PARAMS, **given}
    word = _ngram_range(merged["word_ngrams"], "word_ngrams")
    char = _ngram_range(merged["char_ngrams"], "char_ngrams")
    if word is None and char is None:
        raise ParamError(None, "word_ngrams and char_ngrams cannot both be None")
    merged["word_ngrams"] = list(word) if word else None
    merged["char_ngrams"] = list(char) if char else None
    merged["C"] = _number(merged["C"], "C", float)
    if not (merged["C"] > 0 and merged["C"] < float("inf")):
        raise ParamError("C", f"C must be a positive finite number, got {merged['C']!r}")
    if merged["class_weight"] not in ("balanced", None):
        raise ParamError(
            "class_weight",
            f"class_weight must be 'balanced' or None, got {merged['class_weight']!r}",
        )
    if merged["calibration"] not in CALIBRATION_METHODS:
        raise ParamError(
            "calibration",
            f"calibration must be one of {', '.join(CALIBRATION_METHODS)}, "
            f"got {merged['calibration']!r}",
        )
    for name, minimum in (("max_features", 1), ("min_df", 1), ("folds", 2), ("max_chars", 1)):
        if merged[name] is None and name == "max_features":
            continue
        merged[name] = _number(merged[name], name, int)
        if merged[name] < minimum:
            raise ParamError(name, f"{name} must be at least {minimum}, got {merged[name]!r}")
    merged["seed"] = _number(merged["seed"], "seed", int)
    return merged
