"""Model selection by cross-validation over students: the family and its settings chosen on the
training data alone."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from learnway.learner._base import KTModel
from learnway.learner._bkt import BKT
from learnway.learner._boosted import BoostedKT
from learnway.learner._datasets import student_folds
from learnway.learner._logistic import LogisticKT
from learnway.learner._metrics import auc, calibration

# The default candidates: BKT, the logistic families (Best-LR+ at two regularisation strengths)
# and the boosted stack; not the deep models (minutes per fit on a CPU: give them in
# ``candidates`` to include them).
CV_CANDIDATES: dict[str, Callable[[], KTModel]] = {
    "bkt-forget": lambda: BKT(forgetting=True),
    "pfa": lambda: LogisticKT(features="pfa"),
    "best-lr+": lambda: LogisticKT(features="best-lr+"),
    "best-lr+ C=0.1": lambda: LogisticKT(features="best-lr+", C=0.1),
    "boosted": lambda: BoostedKT(),
}


@dataclass(frozen=True)
class ModelSelection:
    """What :func:`select_model` chose, and the cross-validated score of every candidate.

    ``estimator`` is the chosen candidate, fitted on all the attempts given when ``refit`` was
    asked (else unfitted). ``cv_results`` has one row per candidate, in the order given:
    ``name``, ``params``, ``fold_auc`` (one per fold), ``mean_auc``, ``std_auc``, ``mean_ece``
    (the expected calibration error of the held-out predictions, mean over folds) and
    ``fit_seconds`` (the candidate's fits summed over the folds)."""

    name: str
    estimator: KTModel
    n_folds: int
    cv_results: list[dict[str, Any]] = field(default_factory=list)


def select_model(
    attempts: pd.DataFrame,
    candidates: Mapping[str, KTModel] | None = None,
    *,
    n_folds: int = 3,
    random_state: int = 0,
    refit: bool = True,
) -> ModelSelection:
    """Choose a learner model by student-grouped ``n_folds``-fold cross-validation on
    ``attempts`` (the training data: nothing else is looked at).

    Each candidate (an unfitted model; default: :data:`CV_CANDIDATES`) is fitted on the
    attempts of all students but one fold's and predicts that fold's students sequentially; the
    candidate with the highest mean AUC over the folds is chosen (a tie goes to the earlier
    candidate). With ``refit`` the chosen candidate is then fitted on all of ``attempts``.
    Every student's attempts fall in exactly one fold, drawn with ``random_state``."""
    if n_folds < 2:
        raise ValueError(f"n_folds must be at least 2, got {n_folds!r}")
    models = (
        {name: make() for name, make in CV_CANDIDATES.items()}
        if candidates is None
        else dict(candidates)
    )
    if not models:
        raise ValueError("select_model needs at least one candidate")
    if attempts["student_id"].nunique() < n_folds:
        raise ValueError(f"{n_folds} folds need at least {n_folds} students")
    scores: dict[str, list[float]] = {name: [] for name in models}
    errors: dict[str, list[float]] = {name: [] for name in models}
    seconds = dict.fromkeys(models, 0.0)
    for train, held in student_folds(attempts, n_folds, random_state):
        y = held["correct"].to_numpy()
        for name, model in models.items():
            fitted = clone(model)
            start = time.perf_counter()
            fitted.fit(train)
            seconds[name] += time.perf_counter() - start
            p = fitted.predict_proba(held)
            scores[name].append(auc(y, p))
            errors[name].append(calibration(y, p)["ece"])
    results: list[dict[str, Any]] = [
        {
            "name": name,
            "params": repr(model),
            "fold_auc": scores[name],
            "mean_auc": float(np.mean(scores[name])),
            "std_auc": float(np.std(scores[name])),
            "mean_ece": float(np.mean(errors[name])),
            "fit_seconds": seconds[name],
        }
        for name, model in models.items()
    ]
    means = [row["mean_auc"] for row in results]
    best = str(results[int(np.argmax(means))]["name"])  # the first of equals wins
    chosen = clone(models[best])
    if refit:
        chosen.fit(attempts)
    return ModelSelection(best, chosen, n_folds, results)
