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
BIG = 2.0**64  # rescaling of the forward and backward messages (exact: a power of 2)
TINY = 1.0 / BIG
LOG_BIG = 64 * np.log(2.0)


@numba.njit(cache=True, nogil=True, fastmath=False)
def _em_competency(
    obs: NDArray[np.int8],
    emit: NDArray[np.int64],
    seq_bounds: NDArray[np.int64],
    s0: int,
    s1: int,
    e0: int,
    n_emit: int,
    weights: NDArray[np.float64],
    trans: NDArray[np.float64],
    gs: NDArray[np.float64],
    forgetting: bool,
    max_iter: int,
    tol: float,
) -> tuple[float, int]:
    """EM for one competency from the start values in ``trans`` (prior, learn, forget) and
    ``gs`` (guess, slip per entry), both updated in place; returns (log-likelihood, iterations).

    Sequence ``s`` stands for ``weights[s]`` identical sequences. The log-likelihood returned
    is that of the parameters of the last E-step."""
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
        for s in range(s0, s1):
            a = seq_bounds[s]
            n = seq_bounds[s + 1] - a
            w = weights[s]
            # forward: joint probabilities of the outcomes so far and each state, unnormalised
            # (no division on the sequential path) and rescaled by 2**64 when they grow small;
            # the known and unknown parts are carried apart, so a tiny one keeps its precision
            pk = prior
            pu = 1.0 - prior
            n_scaled = 0
            for t in range(n):
                i = a + t
                e = emit[i] - e0
                o = 2 * obs[i]
                l1 = lik[e, o]
                l0 = lik[e, o + 1]
                q = pk * l1
                qu = pu * l0
                post[t] = q
                post_u[t] = qu
                lik_k[t] = l1
                lik_u[t] = l0
                pk = q * (1.0 - forget) + qu * learn
                pu = qu * (1.0 - learn) + q * forget
                if pk + pu < TINY:
                    pk *= BIG
                    pu *= BIG
                    n_scaled += 1
            ll += w * (np.log(pk + pu) - n_scaled * LOG_BIG)
            # backward messages b0, b1 (unknown, known), rescaled the same way; every row's
            # smoothed posterior and transition counts are normalised on their own
            b0 = 1.0
            b1 = 1.0
            iz = w / (post[n - 1] + post_u[n - 1])  # the weight rides on every count
            # the guess/slip counts of consecutive rows of one entry add up in registers
            cur = emit[a + n - 1] - e0
            sn0 = 0.0
            sn1 = 0.0
            sc0 = 0.0
            sw1 = 0.0
            for t in range(n - 1, -1, -1):
                i = a + t
                e = emit[i] - e0
                if e != cur:
                    n0[cur] += sn0
                    n1[cur] += sn1
                    c0[cur] += sc0
                    w1[cur] += sw1
                    sn0 = 0.0
                    sn1 = 0.0
                    sc0 = 0.0
                    sw1 = 0.0
                    cur = e
                g1 = post[t] * b1 * iz
                g0 = post_u[t] * b0 * iz
                right = float(obs[i])  # no branch: outcomes are unpredictable
                sn0 += g0
                sn1 += g1
                sc0 += g0 * right
                sw1 += g1 * (1.0 - right)
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
                    if zx > 0.0:
                        iz = w / zx  # the row before's posterior sums to zx
                        xi01 += qpu * u1 * iz
                        xi10 += qp * v0 * iz
                    else:
                        b0 = 1.0
                        b1 = 1.0
                        iz = w / (qp + qpu)
                    if b0 + b1 < TINY:
                        b0 *= BIG
                        b1 *= BIG
                        iz *= 1.0 / BIG
            n0[cur] += sn0
            n1[cur] += sn1
            c0[cur] += sc0
            w1[cur] += sw1
        if it > 1 and abs(ll - prev_ll) < tol:
            break
        prev_ll = ll
        # M-step
        n_seq = 0.0
        for s in range(s0, s1):
            n_seq += weights[s]
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


@numba.njit(cache=True, nogil=True)
def sequence_hashes(
    obs: NDArray[np.int8], emit: NDArray[np.int64], seq_bounds: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Two 64-bit hashes of each sequence's (entry, outcome) rows, and its length."""
    n = seq_bounds.shape[0] - 1
    out = np.empty((n, 3), dtype=np.int64)
    m1 = np.uint64(1099511628211)
    m2 = np.uint64(0xBF58476D1CE4E5B9)
    shift = np.uint64(31)
    for s in range(n):
        h1 = np.uint64(1469598103934665603)
        h2 = np.uint64(0x9E3779B97F4A7C15)
        for i in range(seq_bounds[s], seq_bounds[s + 1]):
            v = np.uint64(2 * emit[i] + obs[i] + 1)
            h1 = (h1 ^ v) * m1
            h2 = (h2 + v) * m2
            h2 = h2 ^ (h2 >> shift)
        out[s, 0] = np.int64(h1)
        out[s, 1] = np.int64(h2)
        out[s, 2] = seq_bounds[s + 1] - seq_bounds[s]
    return out


@numba.njit(cache=True, nogil=True)
def same_sequences(
    obs: NDArray[np.int8],
    emit: NDArray[np.int64],
    seq_bounds: NDArray[np.int64],
    members: NDArray[np.int64],
    representative: NDArray[np.int64],
) -> bool:
    """Whether every sequence ``members[j]`` equals ``representative[j]`` row for row."""
    for j in range(members.shape[0]):
        a = seq_bounds[members[j]]
        b = seq_bounds[representative[j]]
        n = seq_bounds[members[j] + 1] - a
        if n != seq_bounds[representative[j] + 1] - b:
            return False
        for t in range(n):
            if obs[a + t] != obs[b + t] or emit[a + t] != emit[b + t]:
                return False
    return True


@numba.njit(cache=True, nogil=True)
def em_tasks(
    tasks: NDArray[np.int64],
    obs: NDArray[np.int8],
    emit: NDArray[np.int64],
    seq_bounds: NDArray[np.int64],
    weights: NDArray[np.float64],
    comp_seqs: NDArray[np.int64],
    comp_emit: NDArray[np.int64],
    trans: NDArray[np.float64],
    gs: NDArray[np.float64],
    ll: NDArray[np.float64],
    iters: NDArray[np.int64],
    forgetting: bool,
    n_iter: int,
    tol: float,
) -> None:
    """Run EM for each task ``(competency k, start r) = tasks[j]`` from ``trans[k, r]`` and
    ``gs[entries of k, r]`` for up to ``n_iter`` iterations, in place; add the iterations to
    ``iters[k, r]`` and store the log-likelihood in ``ll[k, r]``.

    Tasks touch disjoint slots, so several threads can run disjoint task lists at once (the
    kernel releases the GIL)."""
    for j in range(tasks.shape[0]):
        k = tasks[j, 0]
        r = tasks[j, 1]
        if comp_seqs[k + 1] == comp_seqs[k]:
            continue
        e0 = comp_emit[k]
        e1 = comp_emit[k + 1]
        t = trans[k, r].copy()
        g = gs[e0:e1, r].copy()
        value, n_it = _em_competency(
            obs, emit, seq_bounds, comp_seqs[k], comp_seqs[k + 1], e0, e1 - e0, weights, t, g,
            forgetting, n_iter, tol,
        )  # fmt: skip
        trans[k, r] = t
        gs[e0:e1, r] = g
        ll[k, r] = value
        iters[k, r] += n_it


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
