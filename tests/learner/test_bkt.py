"""BKT: EM recovers known parameters, matches the one-attempt update, handles long sequences."""

from __future__ import annotations

import numpy as np
import pandas as pd

from learnway.learner import BKT, bkt_update


def simulate(n_students, n_steps, prior, learn, guess, slip, forget=0.0, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_students):
        known = rng.random() < prior
        for _ in range(n_steps):
            p = (1 - slip) if known else guess
            rows.append((s, "k", int(rng.random() < p)))
            known = (rng.random() >= forget) if known else (rng.random() < learn)
    return pd.DataFrame(rows, columns=["student_id", "competency_id", "correct"])


def test_em_recovers_generating_parameters():
    data = simulate(400, 20, prior=0.3, learn=0.15, guess=0.2, slip=0.1)
    m = BKT(n_restarts=3).fit(data)
    got = [m.prior_[0], m.learn_[0], m.guess_[0], m.slip_[0]]
    np.testing.assert_allclose(got, [0.3, 0.15, 0.2, 0.1], atol=0.04)
    assert m.forget_[0] == 0.0


def test_forgetting_is_learned_when_present():
    data = simulate(400, 30, prior=0.5, learn=0.2, guess=0.2, slip=0.1, forget=0.1, seed=3)
    m = BKT(forgetting=True, n_restarts=3).fit(data)
    assert abs(m.forget_[0] - 0.1) < 0.05


def test_batch_prediction_follows_bkt_update():
    data = simulate(5, 8, prior=0.3, learn=0.15, guess=0.2, slip=0.1)
    m = BKT(forgetting=True, n_restarts=2).fit(data)
    p = m.predict_proba(data)
    known = m.prior_[0]
    student0 = data.student_id.to_numpy() == 0
    for pred, correct in zip(p[student0], data.correct[student0], strict=True):
        pc, known = bkt_update(known, correct, p_learn=m.learn_[0], p_guess=m.guess_[0],
                               p_slip=m.slip_[0], p_forget=m.forget_[0])  # fmt: skip
        assert abs(float(pc) - pred) < 1e-12


def test_long_mastered_sequence_keeps_em_monotone():
    """A long run of successes then failures: P(unknown) becomes tiny and must stay exact."""
    outcomes = [1] * 400 + [0] * 30 + [1] * 100
    data = pd.DataFrame({"student_id": 0, "competency_id": "k", "correct": outcomes})
    data = pd.concat([data, simulate(50, 20, 0.3, 0.1, 0.2, 0.1)], ignore_index=True)
    lls = [BKT(n_restarts=1, max_iter=k, screen_iter=k, tol=1e-12).fit(data).log_likelihood_[0]
           for k in (3, 6, 12)]  # fmt: skip
    assert lls[0] <= lls[1] + 1e-6 <= lls[2] + 2e-6


def test_mastery_rises_with_success():
    data = simulate(200, 15, prior=0.3, learn=0.15, guess=0.2, slip=0.1)
    m = BKT().fit(data)
    state = m.init_state()
    levels = []
    for _ in range(4):
        m.update(state, ("k", 1))
        levels.append(m.mastery(state)["k"])
    assert levels == sorted(levels) and levels[-1] > 0.9


def test_real_sample_against_base_rate(statics_sample):
    train, test = statics_sample
    from learnway.learner import auc

    p = BKT(forgetting=True).fit(train).predict_proba(test)
    assert auc(test.correct, p) > 0.7


def test_identical_sequences_count_as_copies():
    """EM counts each distinct sequence once with its copies as weight: doubling every student
    must leave the fitted parameters unchanged."""
    data = simulate(60, 12, prior=0.3, learn=0.15, guess=0.2, slip=0.1, forget=0.05, seed=4)
    twice = pd.concat([data, data.assign(student_id=data.student_id + 1000)], ignore_index=True)
    kw = dict(forgetting=True, n_restarts=2, max_iter=20, screen_iter=20, tol=1e-300)
    a, b = BKT(**kw).fit(data), BKT(**kw).fit(twice)
    for name in ("prior_", "learn_", "forget_", "guess_", "slip_"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-9)
    np.testing.assert_allclose(2 * a.log_likelihood_, b.log_likelihood_, rtol=1e-9)


def test_threads_do_not_change_the_fit():
    data = simulate(80, 15, prior=0.3, learn=0.15, guess=0.2, slip=0.1, seed=5)
    data = pd.concat([data, data.assign(competency_id="j")], ignore_index=True)
    one, two = BKT(n_jobs=1).fit(data), BKT(n_jobs=2).fit(data)
    np.testing.assert_array_equal(one.predict_proba(data), two.predict_proba(data))
