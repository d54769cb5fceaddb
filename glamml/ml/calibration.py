"""Temperature scaling for naive Bayes scores.

Naive Bayes treats overlapping character n-grams as independent evidence, so its raw
log-likelihood differences grow with text length and its probabilities are close to 0 or 1.
The probability we report is ``softmax(loglik / (T * n**g) + b * log prior)``, where ``n`` is
the number of known n-grams in the text, ``g`` (length exponent) and ``b`` (prior weight) are
hyperparameters chosen once on development data, and ``T`` is fitted on held-out labelled text
by minimising the negative log-likelihood.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize

LOG_T_BOUNDS = (-6.0, 9.0)


@dataclass
class Scores:
    """Raw model output for some texts: what the temperature is fitted on."""

    loglik: np.ndarray  # (n, C) naive Bayes log-likelihoods
    lengths: np.ndarray  # (n,) number of known n-grams per text
    log_prior: np.ndarray  # (C,) log class prior


def scaled_logits(
    scores: Scores, *, temperature: float, prior_weight: float, length_exponent: float
) -> np.ndarray:
    scale = temperature * np.maximum(scores.lengths, 1.0) ** length_exponent
    return scores.loglik / scale[:, None] + prior_weight * scores.log_prior[None, :]


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


def with_lapse(proba: np.ndarray, lapse: float) -> np.ndarray:
    """Mix a share ``lapse`` of the uniform distribution into each row of probabilities.

    However clear the text, a catalogue's language is now and then something else (a
    multilingual book, a slip): the lapse is how often, so no answer is ever quite 1.0. Being
    the same for every label, it keeps the order of the answers.
    """
    if lapse <= 0:
        return proba
    return proba * (1.0 - lapse) + lapse / proba.shape[1]


def negative_log_likelihood(
    parts: Sequence[tuple[Scores, np.ndarray]],
    *,
    temperature: float,
    prior_weight: float,
    length_exponent: float,
    lapse: float = 0.0,
) -> float:
    """Mean NLL of the target class indices over all parts (each part has its own classes)."""
    total, count = 0.0, 0
    for scores, targets in parts:
        logits = scaled_logits(
            scores,
            temperature=temperature,
            prior_weight=prior_weight,
            length_exponent=length_exponent,
        )
        logits -= logits.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(logits).sum(axis=1))
        log_p = logits[np.arange(len(targets)), targets] - log_norm
        if lapse > 0:
            n_classes = logits.shape[1]
            log_p = np.logaddexp(log_p + math.log1p(-lapse), math.log(lapse / n_classes))
        total += float(-np.sum(log_p))
        count += len(targets)
    return total / max(count, 1)


def fit_temperature(
    parts: Sequence[tuple[Scores, np.ndarray]],
    *,
    prior_weight: float,
    length_exponent: float,
    lapse: float = 0.0,
) -> float:
    """The temperature that minimises the NLL of held-out targets.

    ``parts`` may come from different models (cross-fitting folds): one temperature fits all.
    """
    if not any(len(targets) for _, targets in parts):
        raise ValueError("no examples to fit a temperature on")

    def objective(log_t: float) -> float:
        return negative_log_likelihood(
            parts,
            temperature=math.exp(log_t),
            prior_weight=prior_weight,
            length_exponent=length_exponent,
            lapse=lapse,
        )

    result = optimize.minimize_scalar(objective, bounds=LOG_T_BOUNDS, method="bounded")
    return float(math.exp(result.x))


def fit_scaling(
    parts: Sequence[tuple[Scores, np.ndarray]],
    *,
    part_weights: Sequence[float] | None = None,
    start: tuple[float, float, float] = (1.0, 0.5, 1.5),
    prior_weight: float | None = None,
) -> tuple[float, float, float, float]:
    """Temperature, length exponent, prior weight and lapse minimising the weighted held-out NLL.

    For the base model, whose out-of-fold scores come from several sources: ``part_weights``
    lets each source count as much as the others however many examples it has. Returns
    ``(temperature, length_exponent, prior_weight, lapse)``; the exponent is kept in [0, 1.5],
    the prior weight in [0, 3] and the lapse (see :func:`with_lapse`) in [0, 0.1]. A given
    ``prior_weight`` is kept as it is (1 is Bayes' rule: the prior counted once).
    """
    weights = [1.0] * len(parts) if part_weights is None else [float(w) for w in part_weights]
    if len(weights) != len(parts):
        raise ValueError("need one weight per part")
    if not any(len(targets) for _, targets in parts):
        raise ValueError("no examples to fit on")
    total = sum(w for w, (_, targets) in zip(weights, parts, strict=True) if len(targets))

    def objective(x: np.ndarray) -> float:
        log_t, exponent, prior, lapse = x
        loss = 0.0
        for weight, part in zip(weights, parts, strict=True):
            if len(part[1]):
                loss += weight * negative_log_likelihood(
                    [part],
                    temperature=math.exp(log_t),
                    prior_weight=prior,
                    length_exponent=exponent,
                    lapse=lapse,
                )
        return loss / total

    result = optimize.minimize(
        objective,
        np.array([math.log(start[0]), start[1], start[2], 0.01]),
        method="L-BFGS-B",
        bounds=[
            LOG_T_BOUNDS,
            (0.0, 1.5),
            (0.0, 3.0) if prior_weight is None else (prior_weight, prior_weight),
            (0.0, 0.1),
        ],
    )
    log_t, exponent, prior, lapse = (float(v) for v in result.x)
    return math.exp(log_t), exponent, prior, lapse
