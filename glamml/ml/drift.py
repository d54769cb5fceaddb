"""Statistics for watching a live model: how far its inputs and outputs have moved from the data
it was trained on, and how often it is right when people check what it applied.

Django-free: functions take counts, texts and numbers and return numbers or JSON-ready dicts.

**Distance.** Two distributions over the same categories (labels, confidence bands, length
bins, scripts) are compared by their *Jensen–Shannon distance* (base 2): 0 when they are the
same, 1 when they share nothing. It is symmetric and bounded, and it stays finite when a
category is empty on one side, which is the normal case here (a new collection brings labels
or scripts the training data never had). The population stability index (PSI) is infinite
there unless a small count is invented for the empty bins, and its value then depends on that
invention. For small shifts the two agree: PSI ≈ 8 · ln 2 · JS distance², so the JS distance
0.2 used as the default alert line is a PSI of about 0.22, close to the 0.25 commonly read as a
significant shift.

**Noise.** A sample of *n* records drawn from the very training distribution is still some way
from it by chance (about ``sqrt((k - 1) / (8 n ln 2))`` for *k* categories: 0.09 for 200
records over ten bins). Under that null hypothesis ``8 · n_eff · JSD`` (JSD in nats,
``n_eff = n · m / (n + m)`` for samples of *n* and *m*) follows a χ² distribution with *k* − 1
degrees of freedom, which gives a p-value. A shift counts as drift only when it is both large
(distance at or above the line) and clear (p-value below :data:`SIGNIFICANCE`).

**Live precision.** Spot checks are a random sample of applied values, so the share a person
confirmed is an unbiased estimate of precision; its 95 % interval is the Wilson score interval
(scipy's ``binomtest(...).proportion_ci(method="wilson")``), which behaves at 0 and n, where
the normal approximation does not.
"""

from __future__ import annotations

import base64
import math
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from glamml.ml.text import clean_text

# scipy.stats and scipy.spatial are imported inside the functions that test: importing them takes
# most of a second, which every Django process would otherwise pay at start-up.

# A shift must be this unlikely under "same distribution" to count (several scores are tested
# per collection per day, so the bar is well below the usual 0.05).
SIGNIFICANCE = 0.001
DEFAULT_DRIFT_THRESHOLD = 0.2
CONFIDENCE = 0.95

# Confidence bands: fine near the top, where thresholds are chosen and most predictions fall.
BAND_EDGES = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
# Characters of a record's text (titles run from a word to a paragraph).
LENGTH_EDGES = (0, 1, 11, 21, 41, 81, 161, 321)
# Share of a text's character trigrams the model never saw in training.
UNSEEN_EDGES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75)
NO_LETTERS = "none"


def _bin(value: float, edges: Sequence[float]) -> int:
    """Index of the bin ``[edges[i], edges[i + 1])`` holding ``value``; the last bin is open."""
    return max(0, int(np.searchsorted(edges, value, side="right")) - 1)


def band_index(confidence: float) -> int:
    """The confidence band of a probability; 1.0 falls in the top band."""
    return min(_bin(confidence, BAND_EDGES), len(BAND_EDGES) - 2)


def band_names() -> list[str]:
    return [f"{low:.2f}–{high:.2f}" for low, high in zip(BAND_EDGES, BAND_EDGES[1:], strict=False)]


def length_names() -> list[str]:
    names = []
    for low, high in zip(LENGTH_EDGES, [*LENGTH_EDGES[1:], None], strict=True):
        if high is None:
            names.append(f"{low}+")
        elif high - low == 1:
            names.append(str(low))
        else:
            names.append(f"{low}–{high - 1}")
    return names


def unseen_names() -> list[str]:
    names = []
    for low, high in zip(UNSEEN_EDGES, [*UNSEEN_EDGES[1:], None], strict=True):
        names.append(f"{low:.0%}+" if high is None else f"{low:.0%}–{high:.0%}")
    return names


def histogram(values: Iterable[float], edges: Sequence[float]) -> list[int]:
    """Counts per bin (the last bin open-ended)."""
    counts = [0] * len(edges)
    for value in values:
        counts[_bin(value, edges)] += 1
    return counts


def confidence_histogram(confidences: Iterable[float]) -> list[int]:
    counts = [0] * (len(BAND_EDGES) - 1)
    for confidence in confidences:
        counts[band_index(confidence)] += 1
    return counts


# -- scripts ---------------------------------------------------------------------------------

_SCRIPT_NAMES = {"CJK": "Han", "HIRAGANA": "Kana", "KATAKANA": "Kana", "HANGUL": "Hangul"}


@lru_cache(maxsize=8192)
def _script_of(char: str) -> str | None:
    """The script of a letter from its Unicode name ("CYRILLIC SMALL LETTER A" → Cyrillic)."""
    if unicodedata.category(char)[0] != "L":
        return None
    name = unicodedata.name(char, "")
    if not name:
        return "Other"
    first = name.split(" ", 1)[0]
    return _SCRIPT_NAMES.get(first, first.title())


def dominant_script(text: str) -> str:
    """The script most of a text's letters are written in; ``"none"`` when it has no letters.

    One answer per record (not a share of letters): records, not letters, are the independent
    draws the significance test counts.
    """
    # Each distinct character is looked up once, with its count (Counter counts in C).
    counts: Counter[str] = Counter()
    for char, count in Counter(text).items():
        script = _script_of(char)
        if script is not None:
            counts[script] += count
    if not counts:
        return NO_LETTERS
    return max(sorted(counts), key=lambda script: counts[script])


# -- trigrams the model never saw ------------------------------------------------------------


@lru_cache(maxsize=65536)
def _word_keys(word: str) -> tuple[int, ...]:
    """crc32 of a word's character trigrams (padded with a space each side); words recur."""
    padded = f" {word} "
    return tuple(zlib.crc32(padded[i : i + 3].encode()) for i in range(len(padded) - 2))


def _trigram_keys(text: str) -> np.ndarray:
    """crc32 of the character trigrams of a text's words, in order."""
    keys = [key for word in clean_text(text).split(" ") if word for key in _word_keys(word)]
    return np.asarray(keys, dtype=np.uint32)


def trigram_vocabulary(texts: Iterable[str]) -> np.ndarray:
    """Sorted unique trigram keys of the texts: what a model trained on them has seen."""
    parts = [_trigram_keys(text) for text in texts]
    if not parts:
        return np.zeros(0, dtype=np.uint32)
    return np.unique(np.concatenate(parts))


def unseen_shares(texts: Sequence[str], vocabulary: np.ndarray) -> list[float]:
    """Per text, the share of its trigrams not in ``vocabulary``; 0 for a text with none."""
    parts = [_trigram_keys(text) for text in texts]
    if not parts:
        return []
    # One look-up for all the texts' keys (np.isin takes the vocabulary's unique values again on
    # each call), then each text's count of keys seen: the same integers, divided as np.mean
    # divides them.
    sizes = np.array([len(part) for part in parts], dtype=np.int64)
    seen = np.isin(np.concatenate(parts), vocabulary)
    owners = np.repeat(np.arange(len(parts)), sizes)
    seen_counts = np.bincount(owners, weights=seen, minlength=len(parts))
    return [
        float(1.0 - seen_count / size) if size else 0.0
        for seen_count, size in zip(seen_counts, sizes, strict=True)
    ]


def vocabulary_encode(vocabulary: np.ndarray) -> str:
    """A compact text form for a JSON column: the sorted keys' gaps, compressed, in base64."""
    gaps = np.diff(np.asarray(vocabulary, dtype=np.uint32), prepend=np.uint32(0))
    return base64.b64encode(zlib.compress(gaps.astype("<u4").tobytes(), 9)).decode("ascii")


def vocabulary_decode(encoded: str) -> np.ndarray:
    raw = zlib.decompress(base64.b64decode(encoded))
    return np.cumsum(np.frombuffer(raw, dtype="<u4"), dtype=np.uint32)


# -- input statistics ------------------------------------------------------------------------

UnseenFunction = Callable[[Sequence[str]], list[float]]


def input_stats(texts: Sequence[str], *, unseen: UnseenFunction | None) -> dict[str, Any]:
    """Length, script and unseen-trigram histograms of a sample of texts (JSON-ready).

    ``unseen`` gives each text's share of features the model never saw; without it the
    unseen histogram is left out.
    """
    stats: dict[str, Any] = {
        "n": len(texts),
        "length": histogram((len(text) for text in texts), LENGTH_EDGES),
        "scripts": dict(Counter(dominant_script(text) for text in texts)),
    }
    if unseen is not None and texts:
        shares = unseen(texts)
        stats["unseen"] = histogram(shares, UNSEEN_EDGES)
        stats["unseen_sum"] = float(sum(shares))
    return stats


def merge_counts(parts: Iterable[Any]) -> Any:
    """Add up counts shaped alike: numbers, lists of numbers (bins), dicts of those."""
    total: Any = None
    for part in parts:
        if part is None:
            continue
        if total is None:
            total = _copy(part)
        elif isinstance(part, Mapping):
            for key, value in part.items():
                total[key] = merge_counts([total.get(key), value])
        elif isinstance(part, list):
            width = max(len(total), len(part))
            total = [
                (total[i] if i < len(total) else 0) + (part[i] if i < len(part) else 0)
                for i in range(width)
            ]
        else:
            total = total + part
    return total


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return list(value)
    return value


# -- distances -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shift:
    """How far an observed distribution is from a reference, and whether chance explains it."""

    distance: float  # Jensen–Shannon distance, base 2, in [0, 1]
    p_value: float  # chance of a distance this large between samples of one distribution
    n: int
    n_reference: int

    def crosses(self, *, threshold: float, min_records: int) -> bool:
        """Large, clear and measured on enough records on both sides."""
        return (
            self.n >= min_records
            and self.n_reference >= min_records
            and self.distance >= threshold
            and self.p_value < SIGNIFICANCE
        )

    def as_dict(self) -> dict[str, float | int]:
        return {
            "distance": round(self.distance, 4),
            "p_value": float(f"{self.p_value:.3g}"),
            "n": self.n,
            "n_reference": self.n_reference,
        }


def _as_counts(counts: Mapping[str, float] | Sequence[float]) -> dict[str, float]:
    if isinstance(counts, Mapping):
        return {str(key): float(value) for key, value in counts.items()}
    return {str(i): float(value) for i, value in enumerate(counts)}


def distribution_shift(
    observed: Mapping[str, float] | Sequence[float],
    reference: Mapping[str, float] | Sequence[float],
) -> Shift | None:
    """Jensen–Shannon distance between two count distributions, with its p-value.

    Counts are given per category (a dict) or per bin (a list, bins aligned). None when either
    side is empty.
    """
    from scipy.spatial.distance import jensenshannon
    from scipy.stats import chi2

    seen, ref = _as_counts(observed), _as_counts(reference)
    keys = sorted(key for key in set(seen) | set(ref) if seen.get(key, 0) or ref.get(key, 0))
    n, m = sum(seen.values()), sum(ref.values())
    if not keys or n <= 0 or m <= 0:
        return None
    p = np.array([seen.get(key, 0.0) for key in keys]) / n
    q = np.array([ref.get(key, 0.0) for key in keys]) / m
    distance = float(jensenshannon(p, q, base=2)) if len(keys) > 1 else 0.0
    distance = 0.0 if math.isnan(distance) else distance
    n_eff = n * m / (n + m)
    statistic = 8.0 * n_eff * math.log(2) * distance**2
    p_value = float(chi2.sf(statistic, len(keys) - 1)) if len(keys) > 1 else 1.0
    return Shift(distance=distance, p_value=p_value, n=int(n), n_reference=int(m))


# -- live precision --------------------------------------------------------------------------


@dataclass(frozen=True)
class Proportion:
    """A share with its Wilson score interval."""

    successes: int
    n: int
    low: float
    high: float

    @property
    def estimate(self) -> float:
        return self.successes / self.n if self.n else 0.0

    def excludes_above(self, value: float) -> bool:
        """True when the whole interval lies below ``value``."""
        return self.n > 0 and self.high < value

    def as_dict(self) -> dict[str, float | int]:
        return {
            "successes": self.successes,
            "n": self.n,
            "estimate": round(self.estimate, 4),
            "low": round(self.low, 4),
            "high": round(self.high, 4),
        }


def wilson_interval(successes: int, n: int, *, confidence: float = CONFIDENCE) -> Proportion:
    """The share ``successes / n`` with its Wilson score interval; (0, 1) when ``n`` is 0."""
    from scipy.stats import binomtest

    if n <= 0:
        return Proportion(successes=0, n=0, low=0.0, high=1.0)
    interval = binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return Proportion(successes=successes, n=n, low=float(interval.low), high=float(interval.high))


def precision_at_threshold(
    curve: Sequence[Mapping[str, float]], threshold: float
) -> tuple[float | None, float]:
    """Held-out precision and coverage of the predictions at or above ``threshold``.

    ``curve`` is an evaluation's precision/coverage curve, from the highest threshold down:
    the last point still at or above ``threshold`` describes what that threshold applies.
    """
    precision: float | None = None
    coverage = 0.0
    for point in curve:
        if point.get("threshold", 0.0) >= threshold:
            precision, coverage = point.get("precision"), point.get("coverage", 0.0)
    return precision, coverage


# -- the reference a version is compared with ------------------------------------------------


def reference_profile(
    *,
    train_texts: Sequence[str],
    train_labels: Sequence[str],
    test_texts: Sequence[str],
    test_predictions: Sequence[tuple[str, float]],
    unseen: UnseenFunction | None,
) -> dict[str, Any]:
    """What live data is compared with: the labelled records a version was trained and tested on.

    Predicted labels and confidences come from the version's predictions on its held-out
    records (like with like: live figures are predictions too); without held-out records the
    training labels stand in and there is no confidence reference. Text length and script come
    from every labelled text; unseen shares from the held-out texts only, since a model has
    seen every trigram of its own training texts.
    """
    texts = [*train_texts, *test_texts]
    profile = input_stats(texts, unseen=None)
    if test_predictions:
        profile["labels"] = dict(Counter(label for label, _ in test_predictions))
        profile["labels_from"] = "held-out predictions"
        profile["confidence"] = confidence_histogram(c for _, c in test_predictions)
    else:
        profile["labels"] = dict(Counter(train_labels))
        profile["labels_from"] = "training labels"
    if unseen is not None and test_texts:
        held_out = input_stats(test_texts, unseen=unseen)
        profile["unseen"] = held_out["unseen"]
        profile["unseen_sum"] = held_out["unseen_sum"]
        profile["unseen_n"] = len(test_texts)
    profile["n_train"] = len(train_texts)
    profile["n_test"] = len(test_texts)
    return profile
