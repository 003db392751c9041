"""Gradient-boosted trees stacked on the logistic and BKT models."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import logit
from sklearn.ensemble import HistGradientBoostingClassifier

from learnway.learner._base import (
    Attempt,
    AutoOr,
    Interval,
    KTModel,
    Rule,
    Seed,
    encode,
    student_codes,
)
from learnway.learner._bkt import BKT
from learnway.learner._features import history_features, sequence_features
from learnway.learner._logistic import LogisticKT
from learnway.learner._metrics import auc

MAX_CATEGORIES = 250  # above this many competencies, the competency code is a plain number


class BoostedKT(KTModel):
    """Gradient-boosted trees over features of each student's earlier attempts, stacked on a
    logistic model (Best-LR+) and on BKT with forgetting.

    Fitting learns the two base models, then histogram gradient boosting
    (scikit-learn's ``HistGradientBoostingClassifier``) on: the base models' predictions, the
    counts and recency-weighted rates of :class:`LogisticKT`, order-sensitive features of the
    current run of attempts on a competency (last outcomes, streak, position, and the *echo*
    of an earlier run with the same outcomes so far, see
    :func:`~learnway.learner._features.sequence_features`), the competency and the previous
    attempt's competency and outcome. The trees see the base models' predictions on their own
    training rows (in-sample; both have few parameters per row).

    The prediction is ``blend_`` times the trees' probability plus ``1 - blend_`` times the
    logistic model's. With ``blend="auto"`` the weight is chosen (steps of 0.1, by AUC) on a
    validation part of the training data: ``validation`` of the students, drawn with
    ``random_state``, held out while the base models and the trees are fitted on the others;
    then everything is refitted on all the training data with the chosen weight.

    ``update`` replays the student's whole history kept in the state (its cost grows with the
    history): this model is for batch scoring and nightly refits; the live application's
    one-attempt updates are cheaper with :class:`BKT` or :class:`LogisticKT`.
    """

    _param_rules: ClassVar[dict[str, Rule]] = {
        "max_iter": Interval(int, 1, None),
        "learning_rate": Interval(float, 0.0, 1.0, low_open=True),
        "max_leaf_nodes": Interval(int, 2, None),
        "blend": AutoOr(Interval(float, 0.0, 1.0)),
        "look_back": Interval(int, 0, None),
        "validation": Interval(float, 0.0, 1.0, low_open=True, high_open=True),
        "random_state": Seed(),
    }

    def __init__(
        self,
        *,
        max_iter: int = 200,
        learning_rate: float = 0.1,
        max_leaf_nodes: int = 31,
        blend: float | str = "auto",
        look_back: int = 10,
        validation: float = 0.2,
        random_state: int | None = 0,
    ) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.blend = blend
        self.look_back = look_back
        self.validation = validation
        self.random_state = random_state

    def _features(self, X: pd.DataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The trees' feature matrix and the logistic model's probabilities."""
        p_lr = self.logistic_.predict_proba(X)
        p_bkt = self.bkt_.predict_proba(X)
        comp = encode(X["competency_id"].to_numpy(), pd.Index(self.competencies_))
        student = student_codes(X)
        correct = X["correct"].to_numpy().astype(np.int8)
        shared, prev = history_features(student, comp, correct)
        order = np.argsort(student, kind="stable")  # runs need each student's rows together
        seq = np.empty((len(X), 8))
        seq[order] = sequence_features(
            student[order], comp[order], correct[order], int(self.look_back)
        )
        prev_comp = np.where(prev >= 0, prev // 2, -1)
        prev_correct = np.where(prev >= 0, prev % 2, -1)
        eps = 1e-6
        base = logit(np.clip(np.c_[p_lr, p_bkt], eps, 1 - eps))
        codes = np.c_[comp, prev_comp].astype(np.float64)
        if not self.categorical_:
            codes[codes < 0] = np.nan
        return np.c_[base, shared, seq, codes, prev_correct], p_lr

    def _fit_parts(self, X: pd.DataFrame) -> NDArray[np.float64]:
        """Fit the base models and the trees on ``X``; return the logistic probabilities."""
        self.logistic_ = LogisticKT(features="best-lr+").fit(X)
        self.bkt_ = BKT(forgetting=True, random_state=self.random_state).fit(X)
        self.competencies_ = np.asarray(pd.unique(X["competency_id"].to_numpy()))
        self.categorical_ = len(self.competencies_) <= MAX_CATEGORIES
        features, p_lr = self._features(X)
        y = X["correct"].to_numpy()
        self.trees_: HistGradientBoostingClassifier | None = None
        if len(np.unique(y)) == 2:
            categorical = np.zeros(features.shape[1], dtype=bool)
            if self.categorical_:
                categorical[-3:-1] = True
            self.trees_ = HistGradientBoostingClassifier(
                max_iter=self.max_iter,
                learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaf_nodes,
                categorical_features=categorical,
                early_stopping=False,
                random_state=self.random_state,
            ).fit(features, y)
        return p_lr

    def _fit(self, X: pd.DataFrame) -> None:
        blend = self.blend
        if blend == "auto":
            student = student_codes(X)
            rng = np.random.default_rng(self.random_state)
            held_student = rng.random(int(student.max()) + 1 if len(X) else 0) < self.validation
            held = held_student[student]
            blend = 1.0
            if held.any() and not held.all():
                self._fit_parts(X[~held].reset_index(drop=True))
                valid = X[held].reset_index(drop=True)
                y = valid["correct"].to_numpy()
                if self.trees_ is not None and len(np.unique(y)) == 2:
                    features, p_lr = self._features(valid)
                    p_trees = self.trees_.predict_proba(features)[:, 1]
                    grid = np.linspace(0.0, 1.0, 11)
                    scores = [auc(y, w * p_trees + (1.0 - w) * p_lr) for w in grid]
                    blend = float(grid[int(np.argmax(scores))])
        self.blend_ = float(blend)
        self._fit_parts(X)

    def _predict(self, X: pd.DataFrame) -> NDArray[np.float64]:
        features, p_lr = self._features(X)
        if self.trees_ is None:  # one class only in training: the logistic model's constant
            return p_lr
        p_trees = self.trees_.predict_proba(features)[:, 1]
        return np.asarray(self.blend_ * p_trees + (1.0 - self.blend_) * p_lr)

    # -- online ----------------------------------------------------------------------------
    def init_state(self) -> dict[str, Any]:
        self._check_fitted()
        return {"history": []}

    def _update(self, state: dict[str, Any], attempt: Attempt) -> float:
        history = state["history"]
        history.append((attempt.competency_id, int(attempt.correct), attempt.item_id))
        frame = pd.DataFrame(history, columns=["competency_id", "correct", "item_id"])
        if frame["item_id"].isna().all():
            frame = frame.drop(columns="item_id")
        frame.insert(0, "student_id", 0)
        return float(self.predict_proba(frame)[-1])

    def _mastery(self, state: dict[str, Any]) -> dict[Any, float]:
        """Probability of a correct next answer on each competency the student has tried."""
        out: dict[Any, float] = {}
        for competency in dict.fromkeys(c for c, _, _ in state["history"]):
            probe = {"history": list(state["history"])}
            out[competency] = self._update(probe, Attempt(competency, 0))
        return out
