"""Scores of predicted probabilities: AUC, RMSE, log-loss and calibration."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import rankdata


def auc(y: ArrayLike, p: ArrayLike) -> float:
    """Area under the ROC curve (ties count half); NaN when only one class is present."""
    y = np.asarray(y, dtype=bool)
    p = np.asarray(p, dtype=np.float64)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(p)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def rmse(y: ArrayLike, p: ArrayLike) -> float:
    y = np.asarray(y, dtype=np.float64)
    return float(np.sqrt(np.mean((y - np.asarray(p, dtype=np.float64)) ** 2)))


def log_loss(y: ArrayLike, p: ArrayLike, eps: float = 1e-7) -> float:
    y = np.asarray(y, dtype=np.float64)
    q = np.clip(np.asarray(p, dtype=np.float64), eps, 1 - eps)
    return float(-np.mean(y * np.log(q) + (1 - y) * np.log(1 - q)))


def calibration(y: ArrayLike, p: ArrayLike, n_bins: int = 10) -> dict[str, Any]:
    """Equal-width bins of predicted probability: mean prediction, observed rate, count, and
    the expected calibration error (count-weighted mean gap)."""
    y = np.asarray(y, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    bins = np.minimum((p * n_bins).astype(np.int64), n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    mean_p = np.bincount(bins, weights=p, minlength=n_bins) / np.maximum(count, 1)
    rate = np.bincount(bins, weights=y, minlength=n_bins) / np.maximum(count, 1)
    ece = float(np.sum(count * np.abs(mean_p - rate)) / max(len(y), 1))
    keep = count > 0
    return {
        "mean_predicted": mean_p[keep].round(6).tolist(),
        "observed": rate[keep].round(6).tolist(),
        "count": count[keep].tolist(),
        "ece": ece,
    }


def score(y: ArrayLike, p: ArrayLike) -> dict[str, Any]:
    """Every score of one set of predictions."""
    return {
        "auc": auc(y, p),
        "rmse": rmse(y, p),
        "log_loss": log_loss(y, p),
        "calibration": calibration(y, p),
    }
