"""Logistic knowledge tracing: PFA and Best-LR style features, fitted by a sparse solver."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from learnway.learner._base import Attempt, Interval, KTModel, OneOf, Rule, encode
from learnway.learner._features import (
    N_SHARED,
    history_features,
    new_pair_state,
    new_student_state,
    online_features,
    online_fold,
)

# which feature groups each family uses
FAMILIES: dict[str, tuple[str, ...]] = {
    "pfa": ("competency", "pfa"),
    "best-lr": ("counts", "competency", "item"),
    "best-lr+": ("counts", "recency", "competency", "item", "pfa", "transfer"),
}


class LogisticKT(KTModel):
    """Logistic regression on features of each student's earlier attempts.

    ``features`` picks the family:

    ``"pfa"``
        Performance Factors Analysis: competency easiness, and per-competency weights on the
        (log) counts of earlier successes and failures on that competency.
    ``"best-lr"``
        Best-LR: competency and item easiness, and shared weights on the log counts of earlier
        successes and failures, on the competency and overall.
    ``"best-lr+"``
        Best-LR plus PFA's per-competency weights, recency-weighted success rates (fast and slow
        decay, on the competency and overall), the last outcome on the competency, and the
        previous attempt's competency and outcome (transfer between competencies).

    Items and competencies never seen in training contribute nothing beyond the counts.

    The solver is L-BFGS on the design matrix with every column divided by its largest absolute
    value in training (a scaling that keeps the matrix sparse; the learned weights are scaled
    back, so ``coef_`` applies to the unscaled features). ``C`` is the inverse L2 regularisation
    strength on the scaled weights; ``max_iter`` bounds the solver's iterations (the scaled
    problem converges well within the default on every shipped split).
    """

    _param_rules: ClassVar[dict[str, Rule]] = {
        "features": OneOf(tuple(FAMILIES)),
        "C": Interval(float, 0.0, None, low_open=True),
        "max_iter": Interval(int, 1, None),
    }

    def __init__(self, *, features: str = "best-lr+", C: float = 1.0, max_iter: int = 1000) -> None:
        self.features = features
        self.C = C
        self.max_iter = max_iter

    # -- design matrix ---------------------------------------------------------------------
    def _layout(self) -> dict[str, tuple[int, int]]:
        k = len(self.competencies_)
        n_items = len(self.items_)
        sizes = {
            "counts": N_SHARED,
            "recency": 0,
            "competency": k,
            "item": n_items,
            "pfa": 2 * k,
            "transfer": 2 * k,
        }
        groups = FAMILIES[self.features]
        layout: dict[str, tuple[int, int]] = {}
        offset = 0
        for name in ("counts", "competency", "item", "pfa", "transfer"):
            if name in groups:
                layout[name] = (offset, sizes[name])
                offset += sizes[name]
        return layout

    def _shared_mask(self) -> NDArray[np.bool_]:
        mask = np.zeros(N_SHARED, dtype=bool)
        mask[:4] = True
        if "recency" in FAMILIES[self.features]:
            mask[4:] = True
        return mask

    def _codes(self, X: pd.DataFrame) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        k = len(self.competencies_)
        comp = encode(X["competency_id"].to_numpy(), pd.Index(self.competencies_))
        comp[comp < 0] = k
        if "item_id" in X.columns and len(self.items_):
            item = encode(X["item_id"].to_numpy(), pd.Index(self.items_))
        else:
            item = np.full(len(X), -1, dtype=np.int64)
        return comp, item

    def _design(self, X: pd.DataFrame) -> sp.csr_matrix:
        comp, item = self._codes(X)
        student, _ = pd.factorize(X["student_id"].to_numpy())
        feats, prev = history_features(
            student.astype(np.int64), comp, X["correct"].to_numpy().astype(np.int8)
        )
        n = len(X)
        k = len(self.competencies_)
        rows: list[NDArray[np.int64]] = []
        cols: list[NDArray[np.int64]] = []
        vals: list[NDArray[np.float64]] = []
        idx = np.arange(n, dtype=np.int64)
        layout = self._layout()
        seen = comp < k
        if "counts" in layout:
            off, _ = layout["counts"]
            mask = self._shared_mask()
            for j in np.flatnonzero(mask).tolist():
                nz = feats[:, j] != 0.0
                rows.append(idx[nz])
                cols.append(np.full(int(nz.sum()), off + j, dtype=np.int64))
                vals.append(feats[nz, j])
        if "competency" in layout:
            off, _ = layout["competency"]
            rows.append(idx[seen])
            cols.append(off + comp[seen])
            vals.append(np.ones(int(seen.sum())))
        if "item" in layout:
            off, _ = layout["item"]
            has = item >= 0
            rows.append(idx[has])
            cols.append(off + item[has])
            vals.append(np.ones(int(has.sum())))
        if "pfa" in layout:
            off, _ = layout["pfa"]
            for j in (0, 1):
                nz = seen & (feats[:, j] != 0.0)
                rows.append(idx[nz])
                cols.append(off + 2 * comp[nz] + j)
                vals.append(feats[nz, j])
        if "transfer" in layout:
            off, _ = layout["transfer"]
            has = (prev >= 0) & (prev < 2 * k)
            rows.append(idx[has])
            cols.append(off + prev[has])
            vals.append(np.ones(int(has.sum())))
        width = sum(size for _, size in layout.values())
        return sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, width)
        )

    # -- estimator -------------------------------------------------------------------------
    def _fit(self, X: pd.DataFrame) -> None:
        self.competencies_ = np.asarray(pd.unique(X["competency_id"].to_numpy()))
        if "item_id" in X.columns and "item" in FAMILIES[self.features]:
            self.items_ = np.asarray(pd.unique(X["item_id"].to_numpy()))
        else:
            self.items_ = np.empty(0, dtype=object)
        y = X["correct"].to_numpy()
        if len(np.unique(y)) < 2:
            # one class only: the constant model is the fit
            self.coef_ = np.zeros(sum(s for _, s in self._layout().values()))
            rate = float(np.clip(y.mean() if len(y) else 0.5, 1e-6, 1 - 1e-6))
            self.intercept_ = float(np.log(rate / (1.0 - rate)))
        else:
            design = self._design(X)
            scale = np.asarray(abs(design).max(axis=0).todense()).ravel()
            scale[scale == 0.0] = 1.0
            solver = LogisticRegression(C=self.C, max_iter=self.max_iter, solver="lbfgs")
            solver.fit(design @ sp.diags(1.0 / scale), y)
            self.coef_ = solver.coef_.ravel() / scale
            self.intercept_ = float(solver.intercept_[0])
        self.competency_index_ = {c: i for i, c in enumerate(self.competencies_.tolist())}
        self.item_index_ = {c: i for i, c in enumerate(self.items_.tolist())}

    def _predict(self, X: pd.DataFrame) -> NDArray[np.float64]:
        return np.asarray(expit(self._design(X) @ self.coef_ + self.intercept_))

    # -- online ----------------------------------------------------------------------------
    def init_state(self) -> dict[str, Any]:
        self._check_fitted()
        return {"student": new_student_state(), "pairs": {}}

    def _update(self, state: dict[str, Any], attempt: Attempt) -> float:
        k = len(self.competencies_)
        comp = self.competency_index_.get(attempt.competency_id, k)
        pairs = state["pairs"]
        pair = pairs.get(attempt.competency_id)
        if pair is None:
            pair = pairs[attempt.competency_id] = new_pair_state()
        feats, prev = online_features(pair, state["student"], comp)
        layout = self._layout()
        coef = self.coef_
        z = self.intercept_
        if "counts" in layout:
            off, _ = layout["counts"]
            z += float(feats[self._shared_mask()] @ coef[off : off + N_SHARED][self._shared_mask()])
        if comp < k:
            if "competency" in layout:
                z += coef[layout["competency"][0] + comp]
            if "pfa" in layout:
                off = layout["pfa"][0] + 2 * comp
                z += coef[off] * feats[0] + coef[off + 1] * feats[1]
        if "item" in layout and attempt.item_id is not None:
            q = self.item_index_.get(attempt.item_id)
            if q is not None:
                z += coef[layout["item"][0] + q]
        if "transfer" in layout and 0 <= prev < 2 * k:
            z += coef[layout["transfer"][0] + prev]
        online_fold(pair, state["student"], comp, int(attempt.correct))
        return float(expit(z))

    def bounded_state(self) -> bool:
        return True

    def predict_next(self, state: dict[str, Any], competency_id: Any, item_id: Any = None) -> float:
        self._check_fitted()
        pair = state["pairs"].get(competency_id)
        probe = {
            "student": state["student"].copy(),
            "pairs": {} if pair is None else {competency_id: pair.copy()},
        }
        return self._update(probe, Attempt(competency_id, 0, item_id))

    def _mastery(self, state: dict[str, Any]) -> dict[Any, float]:
        """Probability of a correct next answer on each competency the student has tried."""
        out: dict[Any, float] = {}
        for competency in state["pairs"]:
            probe = {
                "student": state["student"].copy(),
                "pairs": {c: v.copy() for c, v in state["pairs"].items()},
            }
            out[competency] = self._update(probe, Attempt(competency, 0))
        return out
