"""Elo-style rating: a student ability (overall and per competency) against item difficulty."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numba
import numpy as np
import pandas as pd
from numpy.typing import NDArray

from learnway.learner._base import Attempt, Interval, KTModel, Rule, encode


@numba.njit(cache=True)
def _elo_pass(
    student: NDArray[np.int64],
    pair: NDArray[np.int64],
    item: NDArray[np.int64],
    correct: NDArray[np.int8],
    difficulty: NDArray[np.float64],
    item_count: NDArray[np.float64],
    n_students: int,
    n_pairs: int,
    a: float,
    b: float,
    weight: float,
    learn_items: bool,
) -> NDArray[np.float64]:
    """Replay rows in order; return P(correct) before each. Updates ``difficulty`` when
    ``learn_items``; item -1 means an unseen item of difficulty 0."""
    n = student.shape[0]
    out = np.empty(n)
    theta = np.zeros(n_students)
    theta_n = np.zeros(n_students)
    local = np.zeros(n_pairs)
    local_n = np.zeros(n_pairs)
    for i in range(n):
        s = student[i]
        c = pair[i]
        q = item[i]
        d = difficulty[q] if q >= 0 else 0.0
        p = 1.0 / (1.0 + math.exp(-(theta[s] + local[c] - d)))
        out[i] = p
        r = (1.0 if correct[i] else 0.0) - p
        theta[s] += a / (1.0 + b * theta_n[s]) * r
        theta_n[s] += 1.0
        local[c] += weight * a / (1.0 + b * local_n[c]) * r
        local_n[c] += 1.0
        if learn_items and q >= 0:
            difficulty[q] -= a / (1.0 + b * item_count[q]) * r
            item_count[q] += 1.0
    return out


class EloKT(KTModel):
    """Elo rating for knowledge tracing, usable from the first attempt (cold start).

    P(correct) = sigmoid(ability + ability on the competency - difficulty of the item). Each
    attempt moves the abilities by ``a / (1 + b * n) * (outcome - P)``, ``n`` the number of
    earlier updates (the competency's step is scaled by ``competency_weight``). Fitting replays
    the training attempts ``n_passes`` times to learn item difficulties (competency difficulty
    when there is no ``item_id`` column); prediction keeps difficulties fixed. An unseen item
    has difficulty 0.
    """

    _param_rules: ClassVar[dict[str, Rule]] = {
        "a": Interval(float, 0.0, None, low_open=True),
        "b": Interval(float, 0.0, None),
        "competency_weight": Interval(float, 0.0, None),
        "n_passes": Interval(int, 1, None),
    }

    def __init__(
        self, *, a: float = 0.5, b: float = 0.05, competency_weight: float = 1.0, n_passes: int = 2
    ) -> None:
        self.a = a
        self.b = b
        self.competency_weight = competency_weight
        self.n_passes = n_passes

    def _item_column(self, X: pd.DataFrame) -> str:
        return "item_id" if "item_id" in X.columns else "competency_id"

    def _arrays(self, X: pd.DataFrame) -> tuple[NDArray[np.int64], NDArray[np.int64], int, int]:
        student, _ = pd.factorize(X["student_id"].to_numpy())
        key = pd.MultiIndex.from_arrays([student, X["competency_id"].to_numpy()])
        pair, uniq = pd.factorize(key)
        return student.astype(np.int64), pair.astype(np.int64), int(student.max()) + 1, len(uniq)

    def _fit(self, X: pd.DataFrame) -> None:
        self.item_column_ = self._item_column(X)
        item, items = pd.factorize(X[self.item_column_].to_numpy())
        self.items_ = np.asarray(items)
        self.difficulty_ = np.zeros(len(items))
        if len(X) == 0:
            self.item_index_: dict[Any, int] = {}
            return
        student, pair, n_s, n_p = self._arrays(X)
        count = np.zeros(len(items))
        for _ in range(self.n_passes):
            _elo_pass(student, pair, item.astype(np.int64), X["correct"].to_numpy(),
                      self.difficulty_, count, n_s, n_p, float(self.a), float(self.b),
                      float(self.competency_weight), True)  # fmt: skip
        self.item_index_ = {v: i for i, v in enumerate(self.items_.tolist())}

    def _predict(self, X: pd.DataFrame) -> NDArray[np.float64]:
        column = self.item_column_ if self.item_column_ in X.columns else "competency_id"
        item = encode(X[column].to_numpy(), pd.Index(self.items_))
        student, pair, n_s, n_p = self._arrays(X)
        return _elo_pass(student, pair, item, X["correct"].to_numpy(), self.difficulty_.copy(),
                         np.zeros(len(self.items_)), n_s, n_p, float(self.a), float(self.b),
                         float(self.competency_weight), False)  # fmt: skip

    def init_state(self) -> dict[str, Any]:
        self._check_fitted()
        return {"ability": 0.0, "n": 0.0, "competencies": {}}

    def _update(self, state: dict[str, Any], attempt: Attempt) -> float:
        key = attempt.item_id if self.item_column_ == "item_id" else attempt.competency_id
        q = self.item_index_.get(key)
        d = float(self.difficulty_[q]) if q is not None else 0.0
        local, local_n = state["competencies"].get(attempt.competency_id, (0.0, 0.0))
        p = 1.0 / (1.0 + math.exp(-(state["ability"] + local - d)))
        r = (1.0 if attempt.correct else 0.0) - p
        state["ability"] += self.a / (1.0 + self.b * state["n"]) * r
        state["n"] += 1.0
        local += self.competency_weight * self.a / (1.0 + self.b * local_n) * r
        state["competencies"][attempt.competency_id] = (local, local_n + 1.0)
        return p

    def bounded_state(self) -> bool:
        return True

    def predict_next(self, state: dict[str, Any], competency_id: Any, item_id: Any = None) -> float:
        self._check_fitted()
        key = item_id if self.item_column_ == "item_id" else competency_id
        q = self.item_index_.get(key)
        d = float(self.difficulty_[q]) if q is not None else 0.0
        local = state["competencies"].get(competency_id, (0.0, 0.0))[0]
        return 1.0 / (1.0 + math.exp(-(state["ability"] + local - d)))

    def _mastery(self, state: dict[str, Any]) -> dict[Any, float]:
        """Probability of a correct answer on an item of average difficulty, per competency."""
        return {
            c: 1.0 / (1.0 + math.exp(-(state["ability"] + local)))
            for c, (local, _) in state["competencies"].items()
        }
