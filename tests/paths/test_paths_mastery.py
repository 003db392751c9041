"""Mastery rules: thresholds with evidence, stuck, review due, partial credit to prerequisites."""

import numpy as np
import pytest

from learnway.paths import (
    BKTParams,
    CompetencyGraph,
    LearnerState,
    MasteryPolicy,
    Status,
    apply_attempts,
    mastery_status,
    predicted_recall,
)

CHAIN = CompetencyGraph.from_edges(["a", "b", "c"], [("a", "b"), ("b", "c")])
PARAMS = BKTParams.uniform(3, p_init=0.1, p_learn=0.1, p_guess=0.1, p_slip=0.1)


def practise(state, comp, outcomes, *, start=0.0, step=0.01, hints=None, policy=None):
    policy = policy or MasteryPolicy()
    for i, ok in enumerate(outcomes):
        h = 0 if hints is None else hints[i]
        state = apply_attempts(
            state,
            [0],
            [comp],
            [ok],
            now=start + i * step,
            params=PARAMS,
            graph=CHAIN,
            policy=policy,
            hints=h,
        )
    return state


def test_new_student_has_not_started_anything():
    state = LearnerState.new(2, PARAMS)
    assert (mastery_status(state, MasteryPolicy(), 0.0) == Status.NOT_STARTED).all()


def test_mastered_needs_threshold_and_minimum_evidence():
    state = LearnerState.new(1, PARAMS)
    state = practise(state, 0, [1, 1])
    assert state.p_known[0, 0] >= 0.85  # two correct answers already pass the threshold
    assert mastery_status(state, MasteryPolicy(), 0.02)[0, 0] == Status.PRACTICING
    state = practise(state, 0, [1], start=0.02)
    assert mastery_status(state, MasteryPolicy(), 0.03)[0, 0] == Status.MASTERED


def test_threshold_is_per_competency():
    state = LearnerState.new(1, PARAMS)
    state = practise(state, 0, [1, 1, 1])
    strict = MasteryPolicy(threshold=np.array([0.999, 0.85, 0.85]))
    assert mastery_status(state, strict, 0.05)[0, 0] == Status.PRACTICING
    assert mastery_status(state, MasteryPolicy(), 0.05)[0, 0] == Status.MASTERED


def test_stuck_after_many_attempts_without_progress():
    policy = MasteryPolicy(stuck_attempts=6)
    state = practise(LearnerState.new(1, PARAMS), 1, [0] * 5, policy=policy)
    assert mastery_status(state, policy, 1.0)[0, 1] == Status.PRACTICING
    state = practise(state, 1, [0], start=0.5, policy=policy)
    assert mastery_status(state, policy, 1.0)[0, 1] == Status.STUCK


def test_stuck_from_heavy_hint_use_and_progress_resets_it():
    policy = MasteryPolicy()
    state = practise(LearnerState.new(1, PARAMS), 1, [1] * 4, hints=[3, 2, 2, 4], policy=policy)
    assert mastery_status(state, policy, 1.0)[0, 1] == Status.STUCK
    state = practise(LearnerState.new(1, PARAMS), 1, [0, 1, 0, 1, 1], policy=policy)
    assert mastery_status(state, policy, 1.0)[0, 1] != Status.STUCK


def test_review_due_when_predicted_recall_drops():
    policy = MasteryPolicy(half_life_days=3.0, review_recall=0.7)
    state = practise(LearnerState.new(1, PARAMS), 0, [1, 1, 1])
    assert mastery_status(state, policy, 1.0)[0, 0] == Status.MASTERED
    assert predicted_recall(state, policy, 0.02 + 3.0)[0, 0] == pytest.approx(0.5)
    assert mastery_status(state, policy, 3.0)[0, 0] == Status.DUE_FOR_REVIEW


def test_successful_spaced_review_lengthens_the_interval():
    policy = MasteryPolicy(half_life_days=3.0, review_recall=0.7)
    state = practise(LearnerState.new(1, PARAMS), 0, [1, 1, 1])
    state = practise(state, 0, [1], start=3.0, policy=policy)
    assert state.reviews[0, 0] == 1
    assert mastery_status(state, policy, 5.0)[0, 0] == Status.MASTERED
    assert mastery_status(state, policy, 3.0 + 7.0)[0, 0] == Status.DUE_FOR_REVIEW


def test_advanced_mastery_is_partial_evidence_for_prerequisites():
    policy = MasteryPolicy(prereq_credit=0.5)
    state = practise(LearnerState.new(1, PARAMS), 2, [1, 1, 1], policy=policy)
    p = state.p_known[0]
    assert p[1] > PARAMS.p_init[1]  # the direct prerequisite gains
    assert p[0] == PARAMS.p_init[0]  # a deeper one only through its own successors' evidence
    assert 0 < state.evidence[0, 1] < 3  # fractional evidence, not a decree
    assert state.attempts[0, 1] == 0
    assert mastery_status(state, policy, 0.1)[0, 1] != Status.MASTERED


def test_no_credit_without_prerequisite_edge_or_on_a_wrong_answer():
    state = practise(LearnerState.new(1, PARAMS), 0, [1, 1])
    assert state.p_known[0, 1] == pytest.approx(0.1)
    state = practise(LearnerState.new(1, PARAMS), 2, [0, 0])
    assert state.p_known[0, 1] == pytest.approx(0.1)


def test_one_attempt_per_student_per_call():
    with pytest.raises(ValueError, match="one attempt per student"):
        apply_attempts(
            LearnerState.new(1, PARAMS),
            [0, 0],
            [0, 1],
            [1, 1],
            now=0.0,
            params=PARAMS,
            graph=CHAIN,
            policy=MasteryPolicy(),
        )


def test_cycles_are_refused():
    with pytest.raises(ValueError, match="cycle"):
        CompetencyGraph.from_edges(["a", "b"], [("a", "b"), ("b", "a")])


def test_policy_rejects_bad_threshold():
    with pytest.raises(ValueError, match="threshold"):
        MasteryPolicy(threshold=1.5)


def test_params_from_a_fitted_bkt_with_defaults_for_unseen():
    import pandas as pd

    from learnway.learner import BKT

    rng = np.random.default_rng(0)
    rows = [
        (s, c, int(rng.random() < 0.3 + 0.1 * k)) for s in range(30) for c in "ab" for k in range(6)
    ]
    model = BKT(n_restarts=2).fit(
        pd.DataFrame(rows, columns=["student_id", "competency_id", "correct"])
    )
    params = BKTParams.from_model(model, ["a", "b", "never-seen"])
    assert params.p_learn[0] == pytest.approx(model.learn_[0])
    assert params.p_slip[1] == pytest.approx(model.slip_[1])
    assert params.p_init[2] == pytest.approx(model.default_params_[0])
    assert ((params.p_guess >= 0) & (params.p_guess <= 1)).all()


def test_a_worked_example_never_leaves_a_student_stuck():
    """Studied, a worked example is neither right nor wrong: the estimate rises by learning only,
    the stuck counters clear, and it is no attempt of its own (never mastery)."""
    from learnway.paths import Planner, StepBank

    state = practise(LearnerState.new(1, PARAMS), 0, [0] * 8)
    policy = MasteryPolicy()
    assert mastery_status(state, policy, 0.1)[0, 0] == Status.STUCK
    before = state.copy()
    state = apply_attempts(
        state, [0], [0], [0], now=0.2, params=PARAMS, graph=CHAIN, policy=policy,
        kind="worked_example",
    )  # fmt: skip
    assert state.p_known[0, 0] > before.p_known[0, 0]
    assert state.attempts[0, 0] == before.attempts[0, 0]
    assert mastery_status(state, policy, 0.2)[0, 0] == Status.PRACTICING
    planner = Planner(CHAIN, StepBank.one_per_competency(CHAIN), PARAMS, policy=policy)
    top = planner.recommend(state, 0.2)[0]
    assert top.competency == "a" and top.activity.kind == "step"
    worked = sum(r.activity.kind == "worked_example" for r in planner.recommend(before, 0.1))
    assert worked == 1  # before it, stuck: the worked example was the offer


def test_a_worked_example_alone_never_masters_and_a_placement_answer_teaches_nothing():
    policy = MasteryPolicy()
    state = LearnerState.new(1, PARAMS)
    for i in range(20):
        state = apply_attempts(
            state, [0], [0], [1], now=i * 0.01, params=PARAMS, graph=CHAIN, policy=policy,
            kind="worked_example",
        )  # fmt: skip
    assert state.attempts[0, 0] == 0 and mastery_status(state, policy, 1.0)[0, 0] != Status.MASTERED
    checked = apply_attempts(
        LearnerState.new(1, PARAMS), [0], [0], [1], now=0.0, params=PARAMS, graph=CHAIN,
        policy=policy, kind="placement",
    )  # fmt: skip
    answered = apply_attempts(
        LearnerState.new(1, PARAMS), [0], [0], [1], now=0.0, params=PARAMS, graph=CHAIN,
        policy=policy,
    )  # fmt: skip
    assert PARAMS.p_init[0] < checked.p_known[0, 0] < answered.p_known[0, 0]
    with pytest.raises(ValueError, match="unknown kind of evidence"):
        apply_attempts(
            state, [0], [0], [1], now=0.0, params=PARAMS, graph=CHAIN, policy=policy, kind="quiz"
        )


def test_mastery_is_durable_only_once_confirmed_on_a_later_day():
    from learnway.paths import is_durable

    policy = MasteryPolicy()
    state = practise(LearnerState.new(1, PARAMS), 0, [1, 1, 1])
    assert mastery_status(state, policy, 0.05)[0, 0] == Status.MASTERED
    assert not is_durable(state, policy)[0, 0]
    assert is_durable(state, MasteryPolicy(durable_days=1))[0, 0]
    state = practise(state, 0, [1], start=1.0)
    assert is_durable(state, policy)[0, 0]


def test_credit_reaches_the_threshold_at_most_and_one_answer_checks_it():
    policy = MasteryPolicy(prereq_credit=0.5, min_evidence=3)
    state = practise(LearnerState.new(1, PARAMS), 2, [1] * 12, policy=policy)
    assert state.p_known[0, 1] == pytest.approx(0.85)  # credit alone: at the threshold, no more
    assert state.evidence[0, 1] >= 2 and state.attempts[0, 1] == 0
    assert mastery_status(state, policy, 0.2)[0, 1] == Status.LIKELY_KNOWN
    right = practise(state, 1, [1], start=0.2, policy=policy)
    assert right.attempts[0, 1] == 1 and right.p_known[0, 1] > 0.85
    assert mastery_status(right, policy, 0.3)[0, 1] == Status.MASTERED  # confirmed by its own
    assert right.reviews[0, 1] == policy.confirmed_reviews  # it has lasted: reviews credited
    wrong = practise(state, 1, [0], start=0.2, policy=policy)
    assert wrong.p_known[0, 1] < 0.85
    assert mastery_status(wrong, policy, 0.3)[0, 1] == Status.PRACTICING


def test_one_wrong_answer_is_never_mastery_however_much_credit():
    policy = MasteryPolicy(prereq_credit=1.0, min_evidence=2)
    state = practise(LearnerState.new(1, PARAMS), 2, [1] * 30, policy=policy)
    state = practise(state, 1, [0], start=1.0, policy=policy)
    assert mastery_status(state, policy, 1.1)[0, 1] != Status.MASTERED


def test_placement_in_the_simulator_starts_as_the_application_does():
    from learnway.paths import Placement

    place = Placement(CHAIN, PARAMS)
    posterior = place.start(1)
    for _ in range(6):  # everything answered right: the whole chain placed as known
        posterior = place.update(posterior, [2], [True])
    policy = MasteryPolicy()
    seeded = place.seed_state(LearnerState.new(1, PARAMS), posterior, now=0.0, policy=policy)
    belief, evidence = place.starting_belief(posterior, PARAMS, 0.85)
    np.testing.assert_allclose(seeded.p_known, belief)
    np.testing.assert_allclose(seeded.evidence, evidence)
    assert (seeded.attempts == 0).all() and (seeded.reviews == 0).all()
    assert not seeded.mastered_once.any() and np.isnan(seeded.last_seen).all()
    status = mastery_status(seeded, policy, 0.0)
    assert (status == Status.LIKELY_KNOWN).any() and not (status == Status.MASTERED).any()
