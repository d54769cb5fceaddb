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


def negative_log_likelihood(
    parts: Sequence[tuple[Scores, np.ndarray]],
    *,
    temperature: float,
    prior_weight: float,
    length_exponent: float,
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
        total += float(np.sum(log_norm - logits[np.arange(len(targets)), targets]))
        count += len(targets)
    return total / max(count, 1)


def fit_temperature(
    parts: Sequence[tuple[Scores, np.ndarray]], *, prior_weight: float, length_exponent: float
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
        )

    result = optimize.minimize_scalar(objective, bounds=LOG_T_BOUNDS, method="bounded")
    return float(math.exp(result.x))
