"""Temperature scaling for naive Bayes scores.

Naive Bayes treats overlapping character n-grams as independent evidence, so its raw
log-likelihood differences grow with text length and its probabilities are close to 0 or 1.
The probability we report is ``softmax(loglik / (T * n**g) + b * log prior)``, where ``n`` is
the number of known n-grams in the text, ``g`` (length exponent) and ``b`` (prior weight) are
hyperparameters chosen once on development data, and ``T`` is fitted on held-out labelled text
by minimising the negative log-likelihood.

The text classifier's logits get ``softmax(z / T + b)``: one temperature and one bias per label
(:func:`fit_temperature_and_bias`), fitted on out-of-fold logits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# scipy.optimize is imported inside the fitting functions: importing it takes about 0.4 s, which
# every Django process (they all load the language model) would otherwise pay at start-up.

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
    logits: np.ndarray = scores.loglik / scale[:, None] + prior_weight * scores.log_prior[None, :]
    return logits


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted: np.ndarray = logits - logits.max(axis=1, keepdims=True)
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
    mixed: np.ndarray = proba * (1.0 - lapse) + lapse / proba.shape[1]
    return mixed


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
    from scipy import optimize

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
    from scipy import optimize

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


# -- bias-corrected temperature scaling, for the logits of a linear model (textclf) ------------

# Pull of the per-label biases towards 0 (a Gaussian prior), so a rare label's bias stays sane.
BIAS_PENALTY = 0.01

# One part of the out-of-fold scores: logits over a fold model's classes, the global index of
# each of those classes, and the global index of each example's true label.
LogitPart = tuple[np.ndarray, np.ndarray, np.ndarray]


def _calibration_loss(
    theta: np.ndarray, parts: Sequence[LogitPart], n_classes: int, fit_bias: bool
) -> tuple[float, np.ndarray]:
    """Mean NLL of ``softmax(z / T + b)`` plus the bias penalty, and its gradient."""
    log_t = theta[0]
    bias = theta[1:] if fit_bias else np.zeros(n_classes)
    temperature = math.exp(log_t)
    total = 0.0
    grad_log_t = 0.0
    grad_bias = np.zeros(n_classes)
    count = sum(len(targets) for _, _, targets in parts)
    for logits, class_index, targets in parts:
        scaled = logits / temperature + bias[class_index][None, :]
        proba = softmax(scaled.copy())
        rows = np.arange(len(targets))
        local = np.searchsorted(class_index, targets)
        shifted = scaled - scaled.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(shifted).sum(axis=1))
        total += float(np.sum(log_norm - shifted[rows, local]))
        residual = proba
        residual[rows, local] -= 1.0
        grad_log_t += float(np.sum(residual * (-logits / temperature)))
        np.add.at(grad_bias, class_index, residual.sum(axis=0))
    loss = total / count
    grad = [grad_log_t / count]
    if fit_bias:
        loss += 0.5 * BIAS_PENALTY * float(bias @ bias)
        grad.extend(grad_bias / count + BIAS_PENALTY * bias)
    return loss, np.asarray(grad)


def fit_temperature_and_bias(
    parts: Sequence[LogitPart], n_classes: int, *, fit_bias: bool
) -> tuple[float, np.ndarray]:
    """Temperature and per-class biases that minimise the NLL of out-of-fold logits."""
    from scipy import optimize

    theta0 = np.zeros(1 + (n_classes if fit_bias else 0))
    bounds = [(-4.0, 5.0)] + [(-10.0, 10.0)] * (n_classes if fit_bias else 0)
    result = optimize.minimize(
        _calibration_loss,
        theta0,
        args=(list(parts), n_classes, fit_bias),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
    )
    temperature = float(math.exp(result.x[0]))
    bias = np.asarray(result.x[1:]) if fit_bias else np.zeros(n_classes)
    return temperature, bias
