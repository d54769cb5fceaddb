"""The language of a catalogue record, read from all its texts, with confidence that travels.

:class:`RecordLanguageModel` puts three things around the n-gram profiles of
:class:`~glamml.ml.langid.LanguageIdentifier`:

- **Script variants.** A language may have several profiles: its own script and its
  romanisation (class ``rus-Latn`` beside ``rus``), learnt from transliterated text. Variants
  of a language are one answer: their probabilities add up, weighted by their share of the
  language's prior.
- **Several texts per record.** Title, original-script title, place, publisher and notes are
  separate evidence. Each field's scaled log-likelihoods are added with its own weight
  (``w_f * loglik_f / (T * n_f**g)``, the title's weight 1), so that "Leipzig : Verlag von"
  says German under an English title while notes in the cataloguing language count for
  little. The weights are fitted on records of other sources than those scored (see
  ``glamml.ml.langid_build``).
- **Honest abstention.** Confidence is mixed with the uniform distribution by a share that
  grows as the evidence shrinks: ``lapse(e) = lapse + (1 - lapse) * exp(-e / evidence_scale)``,
  where ``e`` is the weighted number of known n-grams. A record with no letter at all is
  undetermined: ``("und", 0.0)``, never a confident ``und``. One short word or a shelfmark gets
  what its little evidence is worth.

The settings live in the model file's build information (``info["records"]``), so the
artefact stays one npz file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from glamml.ml.calibration import Scores
from glamml.ml.langid import UNDETERMINED, LanguageIdentifier
from glamml.ml.text import clean_text
from glamml.ml.topk import TopK, top_k_columns

# The fields read, in order; any other key of a record is ignored.
RECORD_FIELDS = ("title", "title_original_script", "place", "publisher", "notes")
ABSTAIN: tuple[str, float] = (UNDETERMINED, 0.0)
# Fewer letters than this in all the fields read ("MS 123", "Ja", "1984") is no language
# evidence to act on: the record is an abstention. Set by hand, not fitted: the calibration
# data (words of catalogue titles) says a two-letter word is often "of" or "la", which a
# shelfmark is not.
MIN_LETTERS = 3


@dataclass
class RawScores(Scores):
    letters: np.ndarray  # (n,) letters of each cleaned text


@dataclass(frozen=True)
class RecordSettings:
    temperature: float = 1.0
    length_exponent: float = 0.5
    prior_weight: float = 1.0
    lapse: float = 0.0
    evidence_scale: float = 0.0  # 0: no extra lapse for short texts
    field_weights: dict[str, float] = field(default_factory=lambda: {"title": 1.0})

    @classmethod
    def from_identifier(cls, identifier: LanguageIdentifier) -> RecordSettings:
        """The model file's own settings, or the identifier's calibration for an older file."""
        stored = identifier.info.get("records")
        if stored:
            return cls(**stored)
        hyper = identifier.hyper
        return cls(
            temperature=hyper.temperature,
            length_exponent=hyper.length_exponent,
            prior_weight=hyper.prior_weight,
            lapse=hyper.lapse,
        )

    def as_info(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FieldScores:
    """Per-language scaled log-likelihoods of one field for a batch of records."""

    per_label: np.ndarray  # (n, L) log-likelihood / (T n^g), variants folded
    lengths: np.ndarray  # (n,) known n-grams


class RecordLanguageModel:
    """A language identifier that reads whole records and may abstain."""

    def __init__(self, identifier: LanguageIdentifier, settings: RecordSettings) -> None:
        self.identifier = identifier
        self.settings = settings
        self.labels_: list[str] = identifier.labels_
        self._log_prior = identifier.label_log_prior

    # -- construction -----------------------------------------------------------------------------

    @classmethod
    def from_identifier(cls, identifier: LanguageIdentifier) -> RecordLanguageModel:
        return cls(identifier, RecordSettings.from_identifier(identifier))

    @classmethod
    def base(cls) -> RecordLanguageModel:
        return cls.from_identifier(LanguageIdentifier.base())

    def with_settings(self, settings: RecordSettings) -> RecordLanguageModel:
        return RecordLanguageModel(self.identifier, settings)

    def output_labels(self) -> list[str]:
        return list(self.labels_)

    # -- scoring ----------------------------------------------------------------------------------

    def raw_scores(self, texts: Sequence[str]) -> RawScores:
        """Naive Bayes log-likelihoods per profile class (the unscaled evidence of each text)."""
        cleaned = [clean_text(text) for text in texts]
        letters = np.array([len(text) - text.count(" ") for text in cleaned], dtype=np.int64)
        present = [i for i, text in enumerate(cleaned) if text]
        if len(present) == len(cleaned) and present:
            # The usual batch, every text with letters: no rows to fill in around it.
            scores = self.identifier._scores(cleaned)
            return RawScores(scores.loglik, scores.lengths, self._log_prior, letters)
        loglik = np.zeros((len(cleaned), len(self.identifier.classes_)))
        lengths = np.zeros(len(cleaned))
        if present:
            scores = self.identifier._scores([cleaned[i] for i in present])
            loglik[present] = scores.loglik
            lengths[present] = scores.lengths
        return RawScores(loglik, lengths, self._log_prior, letters)

    def fold_variants(self, scaled: np.ndarray) -> np.ndarray:
        """Per-profile scaled log-likelihoods → per-language (see the identifier's)."""
        return self.identifier.fold_variants(scaled)

    def field_scores(self, scores: Scores, settings: RecordSettings | None = None) -> FieldScores:
        settings = settings or self.settings
        scale = settings.temperature * np.maximum(scores.lengths, 1.0) ** settings.length_exponent
        per_label = self.fold_variants(scores.loglik / scale[:, None])
        per_label[scores.lengths == 0] = 0.0  # no evidence: no preference
        return FieldScores(per_label=per_label, lengths=scores.lengths)

    def combine(
        self,
        fields: Mapping[str, FieldScores],
        settings: RecordSettings | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities over :attr:`labels_` and the weighted evidence of each record."""
        settings = settings or self.settings
        first = next(iter(fields.values()))
        logits = settings.prior_weight * self._log_prior[None, :]
        evidence = np.zeros(len(first.lengths))
        for name, scores in fields.items():
            weight = settings.field_weights.get(name, 0.0)
            if weight <= 0:
                continue
            logits = logits + (scores.per_label if weight == 1.0 else weight * scores.per_label)
            evidence += weight * scores.lengths
        logits = np.broadcast_to(logits, (len(first.lengths), len(self.labels_))).copy()
        logits -= logits.max(axis=1, keepdims=True)
        proba = np.exp(logits)
        proba /= proba.sum(axis=1, keepdims=True)
        lapse = self._lapse(evidence, settings)
        proba = proba * (1.0 - lapse)[:, None] + (lapse / len(self.labels_))[:, None]
        return proba, evidence

    @staticmethod
    def _lapse(evidence: np.ndarray, settings: RecordSettings) -> np.ndarray:
        base = np.full(len(evidence), settings.lapse)
        if settings.evidence_scale > 0:
            short = np.exp(-evidence / settings.evidence_scale)
            base = base + (1.0 - base) * short
        return base

    # -- prediction -------------------------------------------------------------------------------

    def predict_record_proba(
        self, records: Sequence[Mapping[str, str | None]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities over :attr:`labels_` per record, and which records can be answered.

        A record is answered when its fields hold at least :data:`MIN_LETTERS` letters and at
        least one n-gram the model knows; the others are abstentions.
        """
        return self.predict_columns_proba(self._columns(records), len(records))

    def _columns(self, records: Sequence[Mapping[str, str | None]]) -> dict[str, list[str]]:
        """Each field read, as one text per record ("" where a record has none)."""
        return {
            name: [str(record.get(name) or "") for record in records]
            for name in RECORD_FIELDS
            if self.settings.field_weights.get(name, 0.0) > 0
        }

    def predict_columns_proba(
        self, columns: Mapping[str, Sequence[str]], n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict_record_proba` of ``n`` records given field by field: ``columns[name]``
        holds each record's text of that field ("" for none; a field not given is "" for all)."""
        fields: dict[str, FieldScores] = {}
        letters = np.zeros(n, dtype=np.int64)
        known = np.zeros(n, dtype=bool)
        for name in RECORD_FIELDS:
            if self.settings.field_weights.get(name, 0.0) <= 0:
                continue
            texts = columns.get(name) or [""] * n
            if not any(texts) and name != "title":
                continue
            raw = self.raw_scores(texts)
            fields[name] = self.field_scores(raw)
            letters += raw.letters
            known |= raw.lengths > 0
        if not fields:
            fields["title"] = self.field_scores(self.raw_scores([""] * n))
        proba, _ = self.combine(fields)
        return proba, known & (letters >= MIN_LETTERS)

    def predict_records_top_k(
        self, records: Sequence[Mapping[str, str | None]], k: int = 3
    ) -> list[list[tuple[str, float]]]:
        """The ``k`` most probable languages of each record, best first.

        A record with fewer than :data:`MIN_LETTERS` letters in the fields read, or none the
        model knows, gets ``[("und", 0.0)]``: an abstention, which no threshold applies.
        """
        return self.predict_records_top_k_arrays(records, k=k).as_lists()

    def predict_records_top_k_arrays(
        self, records: Sequence[Mapping[str, str | None]], k: int = 3
    ) -> TopK:
        """:meth:`predict_records_top_k` as arrays (an abstention's label is the last one)."""
        return self.predict_columns_top_k(self._columns(records), len(records), k=k)

    def predict_columns_top_k(
        self, columns: Mapping[str, Sequence[str]], n: int, k: int = 3
    ) -> TopK:
        """:meth:`predict_records_top_k_arrays` of records given field by field (see
        :meth:`predict_columns_proba`)."""
        if k < 1:
            raise ValueError("k must be at least 1")
        k_used = min(k, len(self.labels_))
        index = np.zeros((n, k_used), dtype=np.int64)
        proba_top = np.zeros((n, k_used))
        width = np.full(n, k_used, dtype=np.int64)
        for start in range(0, n, _CHUNK):
            rows = slice(start, min(start + _CHUNK, n))
            chunk = {name: texts[rows] for name, texts in columns.items()}
            proba, present = self.predict_columns_proba(chunk, rows.stop - start)
            top = top_k_columns(proba, k_used)
            chosen = np.take_along_axis(proba, top, axis=1)
            absent = ~present
            top[absent], chosen[absent] = 0, 0.0
            top[absent, 0] = len(self.labels_)  # ABSTAIN's label, after the model's labels
            index[rows], proba_top[rows] = top, chosen
            width[rows] = np.where(present, k_used, 1)
        return TopK([*self.labels_, ABSTAIN[0]], index, proba_top, width)

    def predict_records(
        self, records: Sequence[Mapping[str, str | None]]
    ) -> list[tuple[str, float]]:
        """Best language and its probability per record (``("und", 0.0)`` with no letters)."""
        return [top[0] for top in self.predict_records_top_k(records, k=1)]

    def predict_top_k(self, texts: Sequence[str], k: int = 3) -> list[list[tuple[str, float]]]:
        return self.predict_records_top_k([{"title": text} for text in texts], k=k)

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """Best language of each text read as a title (``("und", 0.0)`` with no letters)."""
        return self.predict_records([{"title": text} for text in texts])

    def params(self) -> dict[str, Any]:
        return {
            **self.identifier.params(),
            "records": self.settings.as_info(),
            "n_labels": len(self.labels_),
        }


_CHUNK = 4000
