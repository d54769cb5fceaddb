"""Language identification: a multinomial naive Bayes over character n-gram and word profiles.

The model is nothing but counts: for each language, how often each character n-gram (1-4
letters, with word-boundary markers) and each whole word occurred in its training text, weighted
by source. N-grams are kept as 40-bit hashes of their letters, extracted for a whole batch with
array arithmetic and looked up in an open-addressing table, which is what makes prediction fast.
That makes the model compact to ship (``data/langid_profiles.npz``, built by
``scripts/build_langid_profiles.py``), cheap to re-train (in-domain examples are added to the
counts, new labels become new rows) and easy to inspect. Naive Bayes scores are far too sure of
themselves because overlapping n-grams are not independent, so probabilities come from a
calibration fitted on held-out labelled text: ``softmax(loglik / (T * n**g) + b * log prior)``,
where ``n`` is the number of known n-grams in the text, mixed with a small share (the lapse) of
the uniform distribution, since a catalogue's language is now and then not the title's.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, ClassVar

import numpy as np
from scipy import sparse

import glamml.ml.langid.artefact as artefact
from glamml.ml.artefacts import ArtefactError, read_checksum_file
from glamml.ml.calibration import Scores, fit_temperature, scaled_logits, softmax, with_lapse
from glamml.ml.langid.profiles import Profiles, UsableExamples
from glamml.ml.langid.scoring import ScoringTables
from glamml.ml.langid.variants import ROMANISED, VARIANT_SEPARATOR, VariantLayout, variant_label
from glamml.ml.languages import normalise_language
from glamml.ml.text import MAX_CHARS, clean_text, is_latin_script

__all__ = [
    "ROMANISED",
    "UNDETERMINED",
    "VARIANT_SEPARATOR",
    "Hyperparameters",
    "LanguageIdentifier",
    "variant_label",
]

UNDETERMINED = "und"


@dataclass(frozen=True)
class Hyperparameters:
    """Chosen on development data carved out of the training parts (see docs/langid.md)."""

    ngram_min: int = 1
    ngram_max: int = 4
    word_features: bool = True  # whole words count as features beside their n-grams
    alpha: float = 0.1  # additive smoothing per n-gram, in (weighted) counts
    smoothing_vocab: int = 100_000  # vocabulary size assumed by the smoothing denominator
    prior_weight: float = 1.5  # b: how much the class prior counts after the temperature
    length_exponent: float = 0.5  # g: the temperature grows with text length as n**g
    temperature: float = 1.0  # T, fitted by calibrate()
    lapse: float = 0.0  # share of the uniform distribution mixed in (see calibration.with_lapse)
    in_domain_weight: float = 3.0  # default n-gram weight of examples given to fit_incremental
    max_chars: int = MAX_CHARS


# Texts scored at once by predict_top_k: bounds the memory of the score matrix.
_PREDICT_CHUNK = 4000


class LanguageIdentifier:
    """Per-language character n-gram counts scored as multinomial naive Bayes, calibrated.

    ``classes_`` are the profiles (``rus``, ``rus-Latn``); ``labels_`` the languages the model
    answers, each one once. A language's profiles are one answer: each profile's likelihood
    counts by its share of the language's prior, so probabilities are over ``labels_``.
    """

    FORMAT_VERSION: ClassVar[int] = artefact.FORMAT_VERSION
    FILE_SUFFIX: ClassVar[str] = artefact.FILE_SUFFIX  # a plain npz of arrays, no pickles

    def __init__(
        self,
        profiles: Profiles,
        *,
        hyper: Hyperparameters | None = None,
        info: dict[str, Any] | None = None,
    ) -> None:
        """Raises ``ValueError`` when the profiles do not fit together."""
        self.classes_: list[str] = list(profiles.classes)
        self._class_set = frozenset(self.classes_)
        self._keys = np.asarray(profiles.keys, dtype=np.uint64)
        if len(self._keys) > 1 and not np.all(self._keys[1:] > self._keys[:-1]):
            raise ValueError("n-gram keys must be sorted and distinct")
        counts = sparse.csr_matrix(profiles.counts, dtype=np.float64)
        n_classes, n_vocab = len(self.classes_), len(self._keys)
        if counts.shape != (n_classes, n_vocab):
            raise ValueError(f"counts have shape {counts.shape}, expected {(n_classes, n_vocab)}")
        if len(profiles.totals) != n_classes or len(profiles.docs) != n_classes:
            raise ValueError("totals and docs need one value per class")
        self._counts = counts
        self._totals = np.asarray(profiles.totals, dtype=np.float64)
        self._docs = np.asarray(profiles.docs, dtype=np.float64)
        self.hyper = hyper or Hyperparameters()
        self.info: dict[str, Any] = dict(info or {})
        self._prepare()

    def _prepare(self) -> None:
        hyper = self.hyper
        self._tables = ScoringTables(
            self._keys,
            self._counts,
            self._totals,
            self._docs,
            alpha=hyper.alpha,
            smoothing_vocab=hyper.smoothing_vocab,
            ngrams=(hyper.ngram_min, hyper.ngram_max, hyper.word_features),
        )
        self._log_prior = self._tables.log_prior
        self.variants = VariantLayout(self.classes_, self._docs)
        self.labels_: list[str] = self.variants.labels
        self._has_variants = self.variants.has_variants

    def fold_variants(self, scaled: np.ndarray) -> np.ndarray:
        """Per-profile scaled log-likelihoods → per-language (``labels_``), profiles mixed
        by their share of their language's prior."""
        return self.variants.fold(scaled)

    @property
    def label_log_prior(self) -> np.ndarray:
        """Log prior of each of ``labels_`` (its profiles' pseudo-counts added up)."""
        return self.variants.log_label_prior

    def profile_for(self, text: str, label: str) -> str:
        """The profile an example of ``label`` teaches: the romanised one for Latin-script text
        of a language that has one, else the language's own."""
        romanised = f"{label}{VARIANT_SEPARATOR}{ROMANISED}"
        if romanised in self._class_set and is_latin_script(text):
            return romanised
        return label

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def base(cls) -> LanguageIdentifier:
        """The default model built from the shipped profiles, after verifying their checksum."""
        checksum = read_checksum_file(artefact.BASE_MODEL_CHECKSUM_PATH)
        return cls.load(artefact.BASE_MODEL_PATH, checksum=checksum)

    @classmethod
    def from_examples(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        weights: Sequence[float] | None = None,
        hyper: Hyperparameters | None = None,
        top_n: int | None = None,
        prior_total: float | None = None,
        info: dict[str, Any] | None = None,
    ) -> LanguageIdentifier:
        """Build a model from scratch; with ``top_n`` each profile keeps its most frequent n-grams.

        Truncated profiles keep their full totals, so the smoothing still knows how much text
        each language was built from. The class prior comes from the weighted number of
        examples per language; ``prior_total`` rescales those pseudo-counts to that sum, which
        sets how many in-domain examples (one pseudo-count each) it takes to move the prior.
        """
        empty = cls(Profiles.empty(), hyper=hyper, info=info)
        model = empty._add_examples(texts, labels, weights=weights)
        if top_n is not None:
            model = cls(model._profiles().truncated(top_n), hyper=model.hyper, info=model.info)
        if prior_total is not None and model._docs.sum() > 0:
            model._docs = model._docs * (prior_total / model._docs.sum())
            model._prepare()
        model.info = dict(info or {})
        return model

    def _add_examples(
        self,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        weights: Sequence[float] | None = None,
        default_weight: float = 1.0,
        prior_weight: float | None = None,
    ) -> LanguageIdentifier:
        """A new model: these counts plus the usable examples' (see :meth:`fit_incremental`)."""
        if len(texts) != len(labels):
            raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
        if weights is not None and len(weights) != len(texts):
            raise ValueError(f"got {len(texts)} texts but {len(weights)} weights")
        usable = UsableExamples(self.classes_)
        romanised_profiles = self._has_variants
        for position, (text, raw_label) in enumerate(zip(texts, labels, strict=True)):
            weight = default_weight if weights is None else float(weights[position])
            profile = None
            if romanised_profiles:
                profile = self.profile_for(text, normalise_language(raw_label))
            usable.add(text, raw_label, weight, prior_weight, profile=profile)
        hyper = self.hyper
        profiles = self._profiles().with_examples(
            usable, ngram_min=hyper.ngram_min, ngram_max=hyper.ngram_max, words=hyper.word_features
        )
        info = dict(self.info)
        info["n_in_domain_examples"] = int(info.get("n_in_domain_examples", 0)) + len(usable.texts)
        return LanguageIdentifier(profiles, hyper=hyper, info=info)

    def _profiles(self) -> Profiles:
        return Profiles(
            classes=self.classes_,
            keys=self._keys,
            counts=self._counts,
            totals=self._totals,
            docs=self._docs,
        )

    def fit_incremental(
        self, texts: list[str], labels: list[str], *, weight: float | None = None
    ) -> LanguageIdentifier:
        """A new model: this model's counts plus the given labelled in-domain examples.

        Each example's n-grams count ``weight`` times (default ``hyper.in_domain_weight``:
        catalogue records are worth more than general text), and each example adds one to its
        label's prior pseudo-count, so the prior moves towards the catalogue's own language
        mix as examples accumulate. Labels are normalised to ISO 639-3
        (``UnknownLanguageError`` for unknown ones); labels the model does not know become new
        classes; ``und``/``mul``/``zxx`` labels and texts without letters are skipped. The
        calibration temperature is kept; call :meth:`calibrate` on held-out examples after.
        Does not change ``self``; call it on :meth:`base` to avoid counting examples twice.
        """
        chosen = self.hyper.in_domain_weight if weight is None else float(weight)
        if not chosen > 0:
            raise ValueError(f"weight must be positive, got {weight!r}")
        return self._add_examples(texts, labels, default_weight=chosen, prior_weight=1.0)

    # -- scoring ----------------------------------------------------------------------------------

    def _scores(self, cleaned: Sequence[str]) -> Scores:
        """Log-likelihoods of cleaned texts, every one with letters (see :mod:`.scoring`)."""
        return self._tables.scores(cleaned)

    def _logits(self, scores: Scores, temperature: float | None = None) -> np.ndarray:
        """Per-language logits (over ``labels_``)."""
        temperature = self.hyper.temperature if temperature is None else temperature
        if not self._has_variants:
            return scaled_logits(
                scores,
                temperature=temperature,
                prior_weight=self.hyper.prior_weight,
                length_exponent=self.hyper.length_exponent,
            )
        scale = temperature * np.maximum(scores.lengths, 1.0) ** self.hyper.length_exponent
        folded = self.fold_variants(scores.loglik / scale[:, None])
        prior = self.variants.log_label_prior
        logits: np.ndarray = folded + self.hyper.prior_weight * prior[None, :]
        return logits

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        """Probabilities over ``labels_``, one row per text; rows sum to 1.

        Rows for undetermined text (no letters) are uniform: the model has nothing to go on,
        and :meth:`predict_top_k` answers ``und`` for them.
        """
        return self._proba_cleaned([clean_text(text) for text in texts])

    def _proba_cleaned(self, cleaned: Sequence[str]) -> np.ndarray:
        n_classes = len(self.labels_)
        determined = [i for i, text in enumerate(cleaned) if text]
        if n_classes and determined and len(determined) == len(cleaned):
            # The usual batch, every text with letters: no uniform rows to fill in around it.
            return with_lapse(softmax(self._logits(self._scores(cleaned))), self.hyper.lapse)
        proba = np.full((len(cleaned), n_classes), 1.0 / max(n_classes, 1))
        if determined and n_classes:
            scores = self._scores([cleaned[i] for i in determined])
            proba[determined] = with_lapse(softmax(self._logits(scores)), self.hyper.lapse)
        return proba

    def predict_top_k(self, texts: list[str], k: int = 3) -> list[list[tuple[str, float]]]:
        """The ``k`` most probable labels per text, best first.

        Text without letters gets ``[("und", 1.0)]``: undetermined, not a model guess.
        """
        if k < 1:
            raise ValueError("k must be at least 1")
        results: list[list[tuple[str, float]]] = []
        for start in range(0, len(texts), _PREDICT_CHUNK):
            results += self._top_k(texts[start : start + _PREDICT_CHUNK], k)
        return results

    def _top_k(self, texts: Sequence[str], k: int) -> list[list[tuple[str, float]]]:
        cleaned = [clean_text(text) for text in texts]
        proba = self._proba_cleaned(cleaned)
        k = min(k, len(self.labels_))
        results: list[list[tuple[str, float]]] = []
        if k == 0:
            return [[(UNDETERMINED, 1.0)] for _ in cleaned]
        if k == 1:  # predict(): the best label alone, no partition or sort
            best = proba.argmax(axis=1)
            confidence = proba[np.arange(len(cleaned)), best].tolist()
            classes = self.labels_
            return [
                [(classes[b], c)] if text else [(UNDETERMINED, 1.0)]
                for b, c, text in zip(best.tolist(), confidence, cleaned, strict=True)
            ]
        top = np.argpartition(-proba, k - 1, axis=1)[:, :k] if k < proba.shape[1] else None
        for row, text in enumerate(cleaned):
            if not text:
                results.append([(UNDETERMINED, 1.0)])
                continue
            candidates = top[row] if top is not None else np.arange(proba.shape[1])
            ordered = sorted(candidates, key=lambda c: (-proba[row, c], self.labels_[c]))
            results.append([(self.labels_[c], float(proba[row, c])) for c in ordered[:k]])
        return results

    def predict(self, texts: list[str]) -> list[tuple[str, float]]:
        """Best label and its probability per text (``("und", 1.0)`` when no letters)."""
        return [top[0] for top in self.predict_top_k(texts, k=1)]

    # -- calibration ------------------------------------------------------------------------------

    def calibration_scores(
        self, texts: Sequence[str], labels: Sequence[str]
    ) -> tuple[Scores, np.ndarray]:
        """Raw scores and target class indices of labelled texts the model can be scored on."""
        class_index = {label: i for i, label in enumerate(self.classes_)}
        kept_texts: list[str] = []
        targets: list[int] = []
        for text, raw_label in zip(texts, labels, strict=True):
            # With romanised profiles the target is the profile the text reads as (the fit
            # of the temperature then ignores the other profile's share: a close enough fit).
            label = self.profile_for(text, normalise_language(raw_label))
            cleaned = clean_text(text)
            if cleaned and label in class_index:
                kept_texts.append(cleaned)
                targets.append(class_index[label])
        if not kept_texts:
            raise ValueError("no labelled text with letters and a known label to calibrate on")
        return self._scores(kept_texts), np.asarray(targets)

    def calibrate(self, texts: list[str], labels: list[str]) -> LanguageIdentifier:
        """A copy with its temperature fitted on held-out labelled texts (never training text).

        Examples whose label is not one of ``labels_`` or whose text has no letters are left
        out. Raises ``ValueError`` when nothing is left.
        """
        if len(texts) != len(labels):
            raise ValueError(f"got {len(texts)} texts but {len(labels)} labels")
        scores, targets = self.calibration_scores(texts, labels)
        temperature = fit_temperature(
            [(scores, targets)],
            prior_weight=self.hyper.prior_weight,
            length_exponent=self.hyper.length_exponent,
            lapse=self.hyper.lapse,
        )
        return self.with_temperature(temperature)

    # Hyperparameters that change how counts are scored, not the counts themselves.
    _SCORING = frozenset(
        {
            "alpha",
            "smoothing_vocab",
            "prior_weight",
            "length_exponent",
            "temperature",
            "lapse",
            "in_domain_weight",
        }
    )

    def with_hyperparameters(self, **changes: float) -> LanguageIdentifier:
        """A copy that scores the same counts differently (for experiments and baselines)."""
        unknown = set(changes) - self._SCORING
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))} without retraining")
        copy = self._copy()
        values: dict[str, Any] = {**asdict(self.hyper), **changes}
        copy.hyper = Hyperparameters(**values)
        copy._prepare()
        return copy

    def with_temperature(
        self, temperature: float, *, prior_weight: float | None = None
    ) -> LanguageIdentifier:
        """A copy with another temperature (and prior weight, if given), for its own scores and
        for the whole-record reader (whose settings the file keeps in ``info["records"]``)."""
        if not temperature > 0:
            raise ValueError("temperature must be positive")
        if prior_weight is not None and not prior_weight >= 0:
            raise ValueError("prior weight must not be negative")
        weight = self.hyper.prior_weight if prior_weight is None else float(prior_weight)
        changes = {"temperature": float(temperature)}
        if prior_weight is not None:
            changes["prior_weight"] = weight
        copy = self._copy()
        copy.hyper = replace(self.hyper, temperature=float(temperature), prior_weight=weight)
        records = copy.info.get("records")
        if isinstance(records, dict):
            copy.info["records"] = {**records, **changes}
        return copy

    def _copy(self) -> LanguageIdentifier:
        copy = object.__new__(LanguageIdentifier)
        copy.__dict__.update(self.__dict__)
        copy.info = dict(self.info)
        return copy

    # -- persistence ------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> str:
        """Write the model atomically as an npz (no pickles); returns the file's sha256 hex."""
        stored = artefact.StoredModel(
            profiles=self._profiles(), hyper=asdict(self.hyper), info=self.info
        )
        return artefact.write_model(path, stored)

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, checksum: str | None = None
    ) -> LanguageIdentifier:
        """Read a model written by :meth:`save`; raises :class:`ArtefactError` with the reason."""
        stored = artefact.read_model(path, checksum=checksum)
        try:
            return cls(stored.profiles, hyper=Hyperparameters(**stored.hyper), info=stored.info)
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtefactError(artefact.INCONSISTENT.format(path=path, reason=exc)) from exc

    def params(self) -> dict[str, Any]:
        """JSON-serialisable description of the model (for the model card and the database)."""
        return {
            "model": "multinomial naive Bayes over character n-gram count profiles",
            "format_version": self.FORMAT_VERSION,
            "ngram_range": [self.hyper.ngram_min, self.hyper.ngram_max],
            "word_features": self.hyper.word_features,
            "word_boundaries": True,
            "max_chars": self.hyper.max_chars,
            "alpha": self.hyper.alpha,
            "smoothing_vocab": self.hyper.smoothing_vocab,
            "prior_weight": self.hyper.prior_weight,
            "length_exponent": self.hyper.length_exponent,
            "temperature": self.hyper.temperature,
            "lapse": self.hyper.lapse,
            "in_domain_weight": self.hyper.in_domain_weight,
            "n_classes": len(self.labels_),
            "classes": list(self.labels_),
            "profiles": list(self.classes_),
            "vocab_size": len(self._keys),
            "n_profile_entries": int(self._counts.nnz),
            "n_in_domain_examples": int(self.info.get("n_in_domain_examples", 0)),
            "build": self.info.get("build", {}),
        }

    def known_ngram_share(self, texts: list[str]) -> list[float]:
        """Share of each text's n-grams that the model has seen (for input drift); 0 when none."""
        return self._tables.known_share([clean_text(text) for text in texts])

    def __repr__(self) -> str:
        return (
            f"<LanguageIdentifier {len(self.labels_)} languages ({len(self.classes_)} profiles), "
            f"{len(self._keys)} n-grams, "
            f"T={self.hyper.temperature:.3g}>"
        )
