"""Bayesian Knowledge Tracing fitted by EM, one model per competency."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from learnway.learner._base import (
    Attempt,
    Interval,
    KTModel,
    NoneOr,
    OneOf,
    Rule,
    Seed,
    encode,
)
from learnway.learner._bkt_kernels import (
    em_tasks,
    forward_all,
    same_sequences,
    sequence_hashes,
    step,
)


def _sequences(
    comp: NDArray[np.int64], student: NDArray[np.int64], n_comp: int
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Order rows by (competency, student), keeping time order; find the sequence bounds."""
    n_students = int(student.max()) + 1 if len(student) else 1
    key = comp * n_students + student
    order = np.argsort(key, kind="stable")
    skey = key[order]
    starts = np.flatnonzero(np.r_[True, skey[1:] != skey[:-1]]) if len(skey) else np.empty(0, int)
    seq_bounds = np.r_[starts, len(skey)].astype(np.int64)
    seq_comp = comp[order][starts]
    comp_seqs = np.searchsorted(seq_comp, np.arange(n_comp + 1)).astype(np.int64)
    return order.astype(np.int64), seq_bounds, comp_seqs


def _unique_sequences(
    obs: NDArray[Any],
    emit: NDArray[np.int64],
    seq_bounds: NDArray[np.int64],
    comp_seqs: NDArray[np.int64],
) -> tuple[
    NDArray[Any], NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]
]:
    """Keep one copy of identical sequences of a competency (same entries, same outcomes),
    with its number of copies as weight: EM's counts are then exactly those of all the copies.

    Returns the rows, bounds, weights and per-competency sequence bounds of the copies kept.
    Sequences are grouped by hash, and every group is checked row by row."""
    n_seq = len(seq_bounds) - 1
    ones = np.ones(n_seq)
    if n_seq == 0:
        return obs, emit, seq_bounds, ones, comp_seqs
    hashes = sequence_hashes(obs, emit, seq_bounds)
    seq_comp = np.repeat(np.arange(len(comp_seqs) - 1), np.diff(comp_seqs))
    order = np.lexsort((hashes[:, 2], hashes[:, 1], hashes[:, 0], seq_comp))
    keys = np.c_[seq_comp, hashes][order]
    first = np.r_[True, np.any(keys[1:] != keys[:-1], axis=1)]
    group = np.cumsum(first) - 1
    keep = order[first]
    if not same_sequences(obs, emit, seq_bounds, order, keep[group]):
        return obs, emit, seq_bounds, ones, comp_seqs  # a hash collision: keep every copy
    lengths = np.diff(seq_bounds)[keep]
    bounds = np.r_[0, np.cumsum(lengths)].astype(np.int64)
    rows = np.repeat(seq_bounds[keep] - bounds[:-1], lengths) + np.arange(bounds[-1])
    kept_comp_seqs = np.searchsorted(seq_comp[keep], np.arange(len(comp_seqs))).astype(np.int64)
    return obs[rows], emit[rows], bounds, np.bincount(group).astype(np.float64), kept_comp_seqs


def _n_threads(n_jobs: int | None) -> int:
    return (os.cpu_count() or 1) if n_jobs is None else n_jobs


def _run_balanced(
    tasks: NDArray[np.int64], cost: NDArray[np.float64], n_jobs: int, run: Any
) -> None:
    """Run ``run(task list)`` on ``n_jobs`` threads, the tasks spread by their cost (largest
    first onto the least loaded thread)."""
    n = min(n_jobs, len(tasks))
    if n <= 1:
        run(tasks)
        return
    load = np.zeros(n)
    owner = np.empty(len(tasks), dtype=np.int64)
    for j in np.argsort(-cost, kind="stable").tolist():
        owner[j] = int(np.argmin(load))
        load[owner[j]] += cost[j]
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(run, [tasks[owner == b] for b in range(n)]))


def _em_fit(
    obs: NDArray[Any],
    emit: NDArray[np.int64],
    seq_bounds: NDArray[np.int64],
    weights: NDArray[np.float64],
    comp_seqs: NDArray[np.int64],
    comp_emit: NDArray[np.int64],
    comp_rows: NDArray[np.int64],
    trans0: NDArray[np.float64],
    gs0: NDArray[np.float64],
    *,
    forgetting: bool,
    max_iter: int,
    screen_iter: int,
    tol: float,
    n_jobs: int,
) -> tuple[
    NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64],
    NDArray[np.int64],
]:  # fmt: skip
    """Fit every competency from ``trans0.shape[1]`` starts and keep the most likely fit.

    ``trans0`` is (competencies, starts, 3), ``gs0`` (entries, starts, 2). Every (competency,
    start) pair runs ``screen_iter`` iterations; the most likely start of each competency then
    runs on to ``max_iter`` iterations in all. Tasks run on ``n_jobs`` threads (the compiled
    kernel releases the GIL), which share them by size."""
    n_comp, n_start = trans0.shape[:2]
    screen = min(screen_iter, max_iter)
    trans_r = trans0.copy()
    gs_r = gs0.copy()
    ll_r = np.full((n_comp, n_start), -np.inf)
    it_r = np.zeros((n_comp, n_start), dtype=np.int64)

    def run(n_iter: int) -> Any:
        def go(tasks: NDArray[np.int64]) -> None:
            em_tasks(tasks, obs, emit, seq_bounds, weights, comp_seqs, comp_emit, trans_r, gs_r,
                     ll_r, it_r, forgetting, n_iter, tol)  # fmt: skip

        return go

    k_all = np.repeat(np.arange(n_comp, dtype=np.int64), n_start)
    tasks = np.c_[k_all, np.tile(np.arange(n_start, dtype=np.int64), n_comp)]
    _run_balanced(tasks, comp_rows[k_all].astype(np.float64), n_jobs, run(screen))
    best = np.argmax(ll_r, axis=1)  # the first of equals, as a sequential scan would
    ks = np.arange(n_comp)
    more = (it_r[ks, best] >= screen) & (comp_rows > 0) & (max_iter > screen)
    go_on = np.c_[ks[more], best[more]].astype(np.int64)
    _run_balanced(go_on, comp_rows[more].astype(np.float64), n_jobs, run(max_iter - screen))
    entry_comp = np.repeat(ks, np.diff(comp_emit))
    trans = trans_r[ks, best]
    gs = gs_r[np.arange(len(entry_comp)), best[entry_comp]]
    empty = comp_rows == 0
    trans[empty] = trans0[empty, 0]
    gs[empty[entry_comp]] = gs0[empty[entry_comp], 0]
    return trans, gs, ll_r[ks, best], it_r.sum(axis=1), best.astype(np.int64)


class BKT(KTModel):
    """Bayesian Knowledge Tracing: a two-state hidden Markov model per competency.

    Each competency has a prior probability of being known, a probability of learning it at each
    opportunity, optionally a probability of forgetting it, and guess and slip probabilities
    (per competency, or per item within the competency with ``per_item=True``). Parameters are
    fitted by expectation-maximisation from ``n_restarts`` random starts, keeping the start with
    the highest likelihood: every start runs ``screen_iter`` EM iterations, and the most likely
    one goes on to ``max_iter`` iterations or until the log-likelihood changes by less than
    ``tol`` (``screen_iter=max_iter`` runs every start to the end).

    A competency never seen in training uses the median of the fitted parameters; with
    ``per_item=True`` an unseen item uses its competency's mean guess and slip.

    Parameters
    ----------
    forgetting : bool
        Fit a forgetting probability (otherwise it is 0).
    per_item : bool
        Guess and slip per item (needs an ``item_id`` column) instead of per competency.
    n_restarts, max_iter, screen_iter, tol : EM settings.
    random_state : seed of the random starts.
    n_jobs : threads that fit competencies and starts side by side (None: one per core).
    """

    _param_rules: ClassVar[dict[str, Rule]] = {
        "forgetting": OneOf((True, False)),
        "per_item": OneOf((True, False)),
        "n_restarts": Interval(int, 1, None),
        "max_iter": Interval(int, 1, None),
        "screen_iter": Interval(int, 1, None),
        "tol": Interval(float, 0.0, None, low_open=True),
        "random_state": Seed(),
        "n_jobs": NoneOr(Interval(int, 1, None)),
    }

    def __init__(
        self,
        *,
        forgetting: bool = False,
        per_item: bool = False,
        n_restarts: int = 5,
        max_iter: int = 100,
        screen_iter: int = 5,
        tol: float = 1e-3,
        random_state: int | None = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.forgetting = forgetting
        self.per_item = per_item
        self.n_restarts = n_restarts
        self.max_iter = max_iter
        self.screen_iter = screen_iter
        self.tol = tol
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- fitting ---------------------------------------------------------------------------
    def _fit(self, X: pd.DataFrame) -> None:
        if self.per_item and "item_id" not in X.columns:
            raise ValueError("per_item=True needs an 'item_id' column in the attempts table")
        comp, comps = pd.factorize(X["competency_id"].to_numpy(), sort=True)
        student, _ = pd.factorize(X["student_id"].to_numpy())
        comp = comp.astype(np.int64)
        n_comp = len(comps)
        obs = X["correct"].to_numpy()
        if self.per_item:
            item, items = pd.factorize(X["item_id"].to_numpy(), sort=True)
            pair_key = comp * len(items) + item
            pair_keys, emit = np.unique(pair_key, return_inverse=True)
            comp_emit = np.searchsorted(pair_keys // len(items), np.arange(n_comp + 1))
            self.items_ = np.asarray(items)
            self.item_pairs_ = np.c_[pair_keys // len(items), pair_keys % len(items)]
        else:
            emit = comp
            comp_emit = np.arange(n_comp + 1)
        emit = emit.astype(np.int64)
        order, seq_bounds, comp_seqs = _sequences(comp, student.astype(np.int64), n_comp)
        n_emit = int(comp_emit[-1])

        rng = np.random.default_rng(self.random_state)
        r = self.n_restarts
        trans0 = np.empty((n_comp, r, 3))
        trans0[:, :, 0] = rng.uniform(0.01, 0.99, (n_comp, r))
        trans0[:, :, 1] = rng.uniform(0.01, 0.4, (n_comp, r))
        trans0[:, :, 2] = rng.uniform(0.01, 0.4, (n_comp, r)) if self.forgetting else 0.0
        gs0 = np.empty((n_emit, r, 2))
        gs0[:, :, 0] = rng.uniform(0.01, 0.4, (n_emit, r))
        gs0[:, :, 1] = rng.uniform(0.01, 0.3, (n_emit, r))

        obs_u, emit_u, bounds_u, weights, comp_seqs_u = _unique_sequences(
            obs[order], emit[order], seq_bounds, comp_seqs
        )
        comp_rows = np.diff(bounds_u[comp_seqs_u])
        trans, gs, ll, iters, starts = _em_fit(
            obs_u,
            emit_u,
            bounds_u,
            weights,
            comp_seqs_u,
            comp_emit.astype(np.int64),
            comp_rows,
            trans0,
            gs0,
            forgetting=bool(self.forgetting),
            max_iter=int(self.max_iter),
            screen_iter=int(self.screen_iter),
            tol=float(self.tol),
            n_jobs=_n_threads(self.n_jobs),
        )
        self.competencies_ = np.asarray(comps)
        self.prior_ = trans[:, 0].copy()
        self.learn_ = trans[:, 1].copy()
        self.forget_ = trans[:, 2].copy()
        if self.per_item:
            weights = np.bincount(emit, minlength=n_emit).astype(np.float64)
            owner = np.repeat(np.arange(n_comp), np.diff(comp_emit))
            total = np.bincount(owner, weights=weights, minlength=n_comp)
            self.item_guess_ = gs[:, 0].copy()
            self.item_slip_ = gs[:, 1].copy()
            self.guess_ = np.bincount(owner, weights=weights * gs[:, 0], minlength=n_comp) / total
            self.slip_ = np.bincount(owner, weights=weights * gs[:, 1], minlength=n_comp) / total
        else:
            self.guess_ = gs[:, 0].copy()
            self.slip_ = gs[:, 1].copy()
        self.log_likelihood_ = ll
        self.n_iter_ = iters
        self.best_start_ = starts
        table = np.c_[self.prior_, self.learn_, self.forget_, self.guess_, self.slip_]
        self.default_params_ = (
            np.median(table, axis=0) if n_comp else np.array([0.5, 0.1, 0.0, 0.2, 0.1])
        )
        self.competency_index_ = {c: k for k, c in enumerate(self.competencies_.tolist())}
        if self.per_item:
            item_list = self.items_.tolist()
            comp_list = self.competencies_.tolist()
            self.item_index_ = {
                (comp_list[c], item_list[i]): e
                for e, (c, i) in enumerate(self.item_pairs_.tolist())
            }

    # -- batch prediction ------------------------------------------------------------------
    def _tables(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(competencies + 1, 3) transition table and the guess/slip table; the last
        competency row holds the defaults for unseen competencies."""
        d = self.default_params_
        trans = np.r_[np.c_[self.prior_, self.learn_, self.forget_], d[None, :3]]
        gs_comp = np.r_[np.c_[self.guess_, self.slip_], d[None, 3:]]
        if self.per_item:
            return trans, np.r_[np.c_[self.item_guess_, self.item_slip_], gs_comp]
        return trans, gs_comp

    def _replay(self, X: pd.DataFrame) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        n_comp = len(self.competencies_)
        comp = encode(X["competency_id"].to_numpy(), pd.Index(self.competencies_))
        comp[comp < 0] = n_comp
        student, _ = pd.factorize(X["student_id"].to_numpy())
        if self.per_item:
            if "item_id" not in X.columns:
                raise ValueError("this model has per-item parameters: 'item_id' is needed")
            item = encode(X["item_id"].to_numpy(), pd.Index(self.items_))
            keys = self.item_pairs_[:, 0] * len(self.items_) + self.item_pairs_[:, 1]
            key = comp * len(self.items_) + item
            pos = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
            found = (item >= 0) & (comp < n_comp) & (keys[pos] == key)
            emit = np.where(found, pos, len(keys) + comp)
        else:
            emit = comp
        order, seq_bounds, _ = _sequences(comp, student.astype(np.int64), n_comp + 1)
        trans, gs = self._tables()
        obs = X["correct"].to_numpy()
        pc, pk = forward_all(obs[order], comp[order], emit[order].astype(np.int64), seq_bounds,
                             trans, gs)  # fmt: skip
        p_correct = np.empty_like(pc)
        p_known = np.empty_like(pk)
        p_correct[order] = pc
        p_known[order] = pk
        return p_correct, p_known

    def _predict(self, X: pd.DataFrame) -> NDArray[np.float64]:
        return self._replay(X)[0]

    def predict_mastery(self, X: pd.DataFrame) -> NDArray[np.float64]:
        """Probability that the row's competency is known after each row (batch)."""
        self._check_fitted()
        return self._replay(X)[1] if len(X) else np.empty(0)

    # -- online ----------------------------------------------------------------------------
    def _params(self, competency: Any, item: Any) -> tuple[float, float, float, float, float]:
        k = self.competency_index_.get(competency)
        if k is None:
            prior, learn, forget, guess, slip = self.default_params_.tolist()
            return prior, learn, forget, guess, slip
        guess = float(self.guess_[k])
        slip = float(self.slip_[k])
        if self.per_item:
            e = self.item_index_.get((competency, item))
            if e is not None:
                guess = float(self.item_guess_[e])
                slip = float(self.item_slip_[e])
        return float(self.prior_[k]), float(self.learn_[k]), float(self.forget_[k]), guess, slip

    def _update(self, state: dict[str, Any], attempt: Attempt) -> float:
        prior, learn, forget, guess, slip = self._params(attempt.competency_id, attempt.item_id)
        pk, pu = state.get(attempt.competency_id, (prior, 1.0 - prior))
        pk, pu, pc = step.py_func(pk, pu, int(attempt.correct), learn, forget, guess, slip)
        state[attempt.competency_id] = (pk, pu)
        return float(pc)

    def _mastery(self, state: dict[str, Any]) -> dict[Any, float]:
        return {c: float(pk) for c, (pk, _) in state.items()}

    def bounded_state(self) -> bool:
        return True
