"""Baselines every model is measured against, on the same held-out records.

- :class:`StratifiedBaseline`: guesses labels in proportion to their share of the training data.
- :class:`MajorityBaseline`: always the most frequent training label.
- :class:`RulesBaseline`: per-label regular expressions that an admin edits; the first label
  (in the order given) with a matching pattern wins, and no match means the rules abstain.

All share :meth:`Baseline.predict_top_k`, so evaluation treats them like a model. An abstention
is an empty list: it counts as wrong and as not covered.
"""

from __future__ import annotations

import re
import re._parser as re_parser  # the parser re itself uses; sre_parse is its deprecated name
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

# scikit-learn is imported where a baseline is fitted: importing it takes about a second, which
# every Django process would otherwise pay at start-up.
if TYPE_CHECKING:
    from sklearn.dummy import DummyClassifier

__all__ = [
    "MAX_RULE_TEXT_CHARS",
    "Baseline",
    "MajorityBaseline",
    "RulesBaseline",
    "RulesError",
    "StratifiedBaseline",
    "validate_rules",
]

# Rules see at most this much of a text: admins' patterns should not be able to run for long.
MAX_RULE_TEXT_CHARS = 5_000


@runtime_checkable
class Baseline(Protocol):
    name: str

    def fit(self, texts: list[str], labels: list[str]) -> Baseline: ...

    def predict_top_k(self, texts: list[str], k: int = 1) -> list[list[tuple[str, float]]]: ...


def _shares(labels: list[str]) -> list[tuple[str, float]]:
    """Labels with their share of ``labels``, most frequent first (ties by label)."""
    if not labels:
        raise ValueError("a baseline needs at least one training label")
    counts = Counter(labels)
    return sorted(
        ((label, n / len(labels)) for label, n in counts.items()), key=lambda x: (-x[1], x[0])
    )


class MajorityBaseline:
    """The most frequent training label for every text, with its training share as confidence."""

    name = "majority"

    def __init__(self) -> None:
        self.ranking_: list[tuple[str, float]] = []

    def fit(self, texts: list[str], labels: list[str]) -> MajorityBaseline:
        self.ranking_ = _shares(list(labels))
        return self

    def predict_top_k(self, texts: list[str], k: int = 1) -> list[list[tuple[str, float]]]:
        if k < 1:
            raise ValueError("k must be at least 1")
        return [list(self.ranking_[:k]) for _ in texts]


class StratifiedBaseline:
    """Random labels drawn in proportion to the training labels (scikit-learn's stratified dummy).

    The drawn label comes first, with its training share as confidence: a random guess of label
    ``l`` is right about as often as ``l`` occurs. Further labels follow by share. Deterministic
    for a ``seed`` and a number of texts.
    """

    name = "stratified"

    def __init__(self, *, seed: int = 0) -> None:
        self.seed = seed
        self.ranking_: list[tuple[str, float]] = []
        self._dummy: DummyClassifier | None = None

    def fit(self, texts: list[str], labels: list[str]) -> StratifiedBaseline:
        from sklearn.dummy import DummyClassifier

        self.ranking_ = _shares(list(labels))
        self._dummy = DummyClassifier(strategy="stratified", random_state=self.seed)
        self._dummy.fit(np.zeros((len(labels), 1)), np.asarray(labels))
        return self

    def predict_top_k(self, texts: list[str], k: int = 1) -> list[list[tuple[str, float]]]:
        if k < 1:
            raise ValueError("k must be at least 1")
        if self._dummy is None:
            raise RuntimeError("call fit() first")
        if not texts:
            return []
        drawn = self._dummy.predict(np.zeros((len(texts), 1)))
        share = dict(self.ranking_)
        results = []
        for label in drawn:
            first = (str(label), share[str(label)])
            rest = [item for item in self.ranking_ if item[0] != first[0]]
            results.append([first, *rest][:k])
        return results


class RulesError(ValueError):
    """The rules cannot be used; ``errors`` holds one human-readable message per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def validate_rules(
    rules: Any, *, field: str = "label", labels: list[str] | None = None
) -> list[str]:
    """Human-readable problems with ``{label: [pattern, ...]}`` rules; empty when they are fine.

    Each message names the label and the pattern, for example ``genre 'Fiction': pattern
    '(novel' is not a valid regular expression: missing ), unterminated subpattern at position
    0``. ``field`` is the word messages start with; with ``labels`` (the field's vocabulary),
    a rule for a label outside it is a problem too.
    """
    if not isinstance(rules, Mapping):
        return [f"rules must map each {field} to a list of patterns, got {type(rules).__name__}"]
    errors = []
    for label, patterns in rules.items():
        if not isinstance(label, str) or not label.strip():
            errors.append(f"{field} {label!r}: a rule needs a non-empty {field}")
            continue
        if labels is not None and label not in labels:
            errors.append(f"{field} {label!r}: not one of the field's labels")
        if isinstance(patterns, str) or not isinstance(patterns, list | tuple):
            errors.append(f"{field} {label!r}: patterns must be a list of regular expressions")
            continue
        for pattern in patterns:
            if not isinstance(pattern, str):
                errors.append(f"{field} {label!r}: pattern {pattern!r} is not text")
            elif not pattern.strip():
                errors.append(
                    f"{field} {label!r}: pattern {pattern!r} is empty, "
                    "so it would match every record"
                )
            else:
                try:
                    compiled = re.compile(pattern, re.IGNORECASE)
                except re.error as exc:
                    errors.append(
                        f"{field} {label!r}: pattern {pattern!r} is not a valid regular "
                        f"expression: {exc}"
                    )
                    continue
                if compiled.search(""):
                    errors.append(
                        f"{field} {label!r}: pattern {pattern!r} matches empty text, "
                        "so it would match every record"
                    )
                elif nested_repeat(pattern):
                    errors.append(
                        f"{field} {label!r}: pattern {pattern!r} repeats a part that itself "
                        "repeats without limit, which can take years on a title that almost "
                        "matches; repeat the inner part only"
                    )
    return errors


# Possessive repeats and atomic groups never backtrack, so nesting them is harmless.
_BACKTRACKING_REPEATS = (re_parser.MAX_REPEAT, re_parser.MIN_REPEAT)


def nested_repeat(pattern: str) -> bool:
    """Whether ``pattern`` repeats, without limit, a part that itself repeats without limit.

    Such a pattern backtracks exponentially on a near-miss: Python's ``re`` has no time limit,
    so one rule could hold a worker for ever. Read from the parsed pattern, so ``(a+)+``,
    ``(?:x*y?)*`` and ``(\\w+\\s?)+$`` are found whatever their spelling.
    """
    return _nested(re_parser.parse(pattern, re.IGNORECASE), inside_repeat=False)


def _nested(items: Any, *, inside_repeat: bool) -> bool:
    for op, arg in items:
        if op in _BACKTRACKING_REPEATS:
            _low, high, inner = arg
            unbounded = high == re_parser.MAXREPEAT
            if unbounded and inside_repeat:
                return True
            parts, inside = [inner], inside_repeat or unbounded
        else:
            parts, inside = _groups(op, arg), inside_repeat
        if any(_nested(part, inside_repeat=inside) for part in parts):
            return True
    return False


def _groups(op: Any, arg: Any) -> list[Any]:
    """The sub-patterns of a group, a lookaround or an alternation; none for anything else."""
    if op == re_parser.SUBPATTERN:
        return [arg[-1]]
    if op in (re_parser.ASSERT, re_parser.ASSERT_NOT):
        return [arg[1]]
    if op == re_parser.BRANCH:
        return list(arg[1])
    return []


class RulesBaseline:
    """Per-label regular expressions (``re.search``, case-insensitive); first label wins.

    A text no pattern matches gets no prediction (``[]``): the rules abstain. With no rules at
    all, every text is an abstention. Invalid rules raise :class:`RulesError`.
    """

    name = "rules"

    def __init__(self, rules: dict[str, list[str]] | None = None) -> None:
        rules = dict(rules or {})
        errors = validate_rules(rules)
        if errors:
            raise RulesError(errors)
        self.rules = {label: list(patterns) for label, patterns in rules.items()}
        self._compiled = [
            (label, [re.compile(p, re.IGNORECASE) for p in patterns])
            for label, patterns in self.rules.items()
        ]

    @property
    def n_rules(self) -> int:
        return sum(len(patterns) for patterns in self.rules.values())

    def fit(self, texts: list[str], labels: list[str]) -> RulesBaseline:
        """Rules are written, not learnt: nothing to do."""
        return self

    def match(self, text: str) -> str | None:
        """The first label with a pattern found in ``text``, or None."""
        head = text[:MAX_RULE_TEXT_CHARS]
        for label, patterns in self._compiled:
            if any(pattern.search(head) for pattern in patterns):
                return label
        return None

    def predict_top_k(self, texts: list[str], k: int = 1) -> list[list[tuple[str, float]]]:
        if k < 1:
            raise ValueError("k must be at least 1")
        results: list[list[tuple[str, float]]] = []
        for text in texts:
            label = self.match(text)
            results.append([] if label is None else [(label, 1.0)])
        return results
