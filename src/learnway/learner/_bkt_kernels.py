"""Compiled BKT kernels: EM (forward-backward) and forward replay over all sequences at once.

Layout: rows are grouped by competency, then by student, in time order. ``seq_bounds`` holds
the start of every (competency, student) sequence and a final end; ``comp_seqs[k]`` to
``comp_seqs[k + 1]`` are the sequences of competency ``k``; ``comp_emit[k]`` to
``comp_emit[k + 1]`` its guess/slip entries (one per competency, or one per item).
"""

from __future__ import annotations

import numba
import numpy as np
from numpy.typing import NDArray

EPS = 1e-8


@numba.njit(cache=True, nogil=True, fastmath=False)
def _em_competency(
    obs: NDArray[np.int8],
    emit: NDArray[np.int64],
    seq_bounds: NDArray[np.int64],
    s0: int,
    s1: int,
    e0: int,
    n_emit: int,
    trans: NDArray[np.float64],
    gs: NDArray[np.float64],
    forgetting: bool,
    max_iter: int,
    tol: float,
) -> tuple[float, int]:
    """EM for one competency from the start values in ``trans`` (prior, learn, forget) and
    ``gs`` (guess, slip per entry), both updated in place; returns (log-likelihood, iterations).

    The log-likelihood returned is that of the parameters of the last E-step."""
    max_len = 0
    for s in range(s0, s1):
        max_len = max(max_len, seq_bounds[s + 1] - seq_bounds[s])
    post = np.empty(max_len)  # filtered P(known), P(unknown) after each row
    post_u = np.empty(max_len)
    lik_k = np.empty(max_len)  # P(outcome | known), P(outcome | unknown) of each row
    lik_u = np.empty(max_len)
    lik = np.empty((n_emit, 4))  # per entry: P(wrong|known, unknown), P(right|known, unknown)
    c0 = np.zeros(n_emit)
    n0 = np.zeros(n_emit)
    w1 = np.zeros(n_emit)
    n1 = np.zeros(n_emit)
    prev_ll = -np.inf
    ll = -np.inf
    it = 0
    for it in range(max_iter):
        prior, learn, forget = trans[0], trans[1], trans[2]
        for e in range(n_emit):
            lik[e, 0] = gs[e, 1]
            lik[e, 1] = 1.0 - gs[e, 0]
            lik[e, 2] = 1.0 - gs[e, 1]
            lik[e, 3] = gs[e, 0]
        c0[:] = 0.0
        n0[:] = 0.0
        w1[:] = 0.0
        n1[:] = 0.0
        acc_prior = 0.0
        xi01 = 0.0
        xi10 = 0.0
        g0n = 0.0
        g1n = 0.0
        ll = 0.0
        like = 1.0
        for s in range(s0, s1):
            a = seq_bounds[s]
            n = seq_bounds[s + 1] - a
            # P(known) and P(unknown) are carried apart: either can be tiny in long sequences
            pk = prior
            pu = 1.0 - prior
            for t in range(n):
                i = a + t
                e = emit[i] - e0
                o = 2 * obs[i]
                l1 = lik[e, o]
                l0 = lik[e, o + 1]
                a1 = pk * l1
                a0 = pu * l0
                c = a1 + a0
                ic = 1.0 / c
                q = a1 * ic
                qu = a0 * ic
                post[t] = q
                post_u[t] = qu
                lik_k[t] = l1
                lik_u[t] = l0
                like *= c
                if like < 1e-250:
                    ll += np.log(like)
                    like = 1.0
                pk = q * (1.0 - forget) + qu * learn
                pu = qu * (1.0 - learn) + q * forget
            # backward: b0, b1 are the backward messages, rescaled to a maximum of 1 (only their
            # ratio matters); iz normalises the smoothed posterior of the current row
            b0 = 1.0
            b1 = 1.0
            iz = 1.0
            for t in range(n - 1, -1, -1):
                i = a + t
                e = emit[i] - e0
                q = post[t]
                qu = post_u[t]
                g1 = q * b1 * iz
                g0 = qu * b0 * iz
                n0[e] += g0
                n1[e] += g1
                if obs[i]:
                    c0[e] += g0
                else:
                    w1[e] += g1
                if t < n - 1:
                    g0n += g0
                    g1n += g1
                if t == 0:
                    acc_prior += g1
                else:
                    qp = post[t - 1]
                    qpu = post_u[t - 1]
                    m0 = lik_u[t] * b0
                    m1 = lik_k[t] * b1
                    u0 = (1.0 - learn) * m0  # unknown -> unknown, unknown -> known
                    u1 = learn * m1
                    v0 = forget * m0  # known -> unknown, known -> known
                    v1 = (1.0 - forget) * m1
                    b0 = u0 + u1
                    b1 = v0 + v1
                    zx = qpu * b0 + qp * b1
                    zb = b0 if b0 > b1 else b1
                    if zx > 0.0 and zb > 0.0:
                        izx = 1.0 / zx
                        xi01 += qpu * u1 * izx
                        xi10 += qp * v0 * izx
                        izb = 1.0 / zb
                        b0 *= izb
                        b1 *= izb
                        iz = zb * izx  # the row before's posterior sums to zx / zb
                    else:
                        b0 = 1.0
                        b1 = 1.0
                        iz = 1.0 / (qp + qpu)
        ll += np.log(like)
        if it > 1 and abs(ll - prev_ll) < tol:
            break
        prev_ll = ll
        # M-step
        n_seq = s1 - s0
        trans[0] = min(max(acc_prior / n_seq, EPS), 1.0 - EPS)
        if g0n > 0.0:
            trans[1] = min(max(xi01 / g0n, EPS), 1.0 - EPS)
        if forgetting and g1n > 0.0:
            trans[2] = min(max(xi10 / g1n, EPS), 1.0 - EPS)
        for e in range(n_emit):
            if n0[e] > 0.0:
                gs[e, 0] = min(max(c0[e] / n0[e], EPS), 1.0 - EPS)
            if n1[e] > 0.0:
                gs[e, 1] = min(max(w1[e] / n1[e], EPS), 1.0 - EPS)
    return ll, it + 1


@numba.njit(cache=True, nogil=True, parallel=True)
def em_fit_all(
    obs: NDArray[np.int8],
    emit: NDArray[np.int64],
    seq_bounds: NDArray[np.int64],
    comp_seqs: NDArray[np.int64],
    comp_emit: NDArray[np.int64],
    order: NDArray[np.int64],
    trans0: NDArray[np.float64],
    gs0: NDArray[np.float64],
    forgetting: bool,
    max_iter: int,
    screen_iter: int,
    tol: float,
) -> tuple[
    NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64],
    NDArray[np.int64],
]:  # fmt: skip
    """Fit every competency from ``trans0.shape[1]`` starts and keep the most likely fit.

    ``trans0`` is (competencies, restarts, 3), ``gs0`` (entries, restarts, 2); ``order`` lists
    competencies largest first, for balance across threads. Every (competency, start) pair runs
    ``screen_iter`` iterations as one parallel task; then the most likely start of each
    competency runs on to ``max_iter`` iterations in total, one task per competency.
    """
    n_comp = trans0.shape[0]
    n_restart = trans0.shape[1]
    screen = min(screen_iter, max_iter)
    trans_r = trans0.copy()
    gs_r = gs0.copy()
    ll_r = np.full((n_comp, n_restart), -np.inf)
    it_r = np.zeros((n_comp, n_restart), dtype=np.int64)
    for j in numba.prange(n_comp * n_restart):
        k = order[j // n_restart]
        r = j % n_restart
        if comp_seqs[k + 1] == comp_seqs[k]:
            continue
        e0 = comp_emit[k]
        e1 = comp_emit[k + 1]
        t = trans_r[k, r].copy()
        g = gs_r[e0:e1, r].copy()
        ll, n_it = _em_competency(
            obs, emit, seq_bounds, comp_seqs[k], comp_seqs[k + 1], e0, e1 - e0, t, g,
            forgetting, screen, tol,
        )  # fmt: skip
        trans_r[k, r] = t
        gs_r[e0:e1, r] = g
        ll_r[k, r] = ll
        it_r[k, r] = n_it
    trans = np.empty((n_comp, 3))
    gs = np.empty((gs0.shape[0], 2))
    best_ll = np.full(n_comp, -np.inf)
    iters = np.zeros(n_comp, dtype=np.int64)
    starts = np.zeros(n_comp, dtype=np.int64)
    for j in numba.prange(n_comp):
        k = order[j]
        e0 = comp_emit[k]
        e1 = comp_emit[k + 1]
        if comp_seqs[k + 1] == comp_seqs[k]:
            trans[k] = trans0[k, 0]
            gs[e0:e1] = gs0[e0:e1, 0]
            continue
        best_r = 0
        for r in range(1, n_restart):
            if ll_r[k, r] > ll_r[k, best_r]:
                best_r = r
        t = trans_r[k, best_r].copy()
        g = gs_r[e0:e1, best_r].copy()
        ll = ll_r[k, best_r]
        n_it = 0
        if it_r[k, best_r] >= screen and max_iter > screen:
            ll, n_it = _em_competency(
                obs, emit, seq_bounds, comp_seqs[k], comp_seqs[k + 1], e0, e1 - e0, t, g,
                forgetting, max_iter - screen, tol,
            )  # fmt: skip
        trans[k] = t
        gs[e0:e1] = g
        best_ll[k] = ll
        iters[k] = it_r[k].sum() + n_it
        starts[k] = best_r
    return trans, gs, best_ll, iters, starts


@numba.njit(cache=True, nogil=True, inline="always")
def step(
    pk: float, pu: float, correct: int, learn: float, forget: float, guess: float, slip: float
) -> tuple[float, float, float]:
    """One attempt: (P(known), P(unknown)) before it -> after it, and P(correct) before it.

    The two probabilities are carried apart so that a tiny one keeps its precision."""
    pc = pk * (1.0 - slip) + pu * guess
    if correct:
        q = pk * (1.0 - slip) / pc
        qu = pu * guess / pc
    else:
        pw = pk * slip + pu * (1.0 - guess)
        q = pk * slip / pw
        qu = pu * (1.0 - guess) / pw
    return q * (1.0 - forget) + qu * learn, qu * (1.0 - learn) + q * forget, pc


@numba.njit(cache=True, nogil=True)
def forward_all(
    obs: NDArray[np.int8],
    comp: NDArray[np.int64],
    emit: NDArray[np.int64],
    seq_bounds: NDArray[np.int64],
    trans: NDArray[np.float64],
    gs: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Replay every sequence: P(correct) before each row, P(known) after it."""
    n = obs.shape[0]
    p_correct = np.empty(n)
    p_after = np.empty(n)
    for s in range(seq_bounds.shape[0] - 1):
        a = seq_bounds[s]
        b = seq_bounds[s + 1]
        if a == b:
            continue
        k = comp[a]
        prior, learn, forget = trans[k, 0], trans[k, 1], trans[k, 2]
        pk = prior
        pu = 1.0 - prior
        for i in range(a, b):
            g = gs[emit[i], 0]
            sl = gs[emit[i], 1]
            pk, pu, pc = step(pk, pu, obs[i], learn, forget, g, sl)
            p_correct[i] = pc
            p_after[i] = pk
    return p_correct, p_after
