"""The simulator: determinism under a seed, learning, forgetting, policies, demo history."""

import numpy as np
import pytest

from learnway.paths import BKTParams, CompetencyGraph, CourseGraph, StepBank
from learnway.sim import (
    KNOWN,
    FixedSequence,
    Oracle,
    Population,
    Term,
    practise,
    retrieval,
    run_term,
    sample_students,
    simulate_history,
)


@pytest.fixture(scope="module")
def course():
    n = 12
    codes = [f"c{i}" for i in range(n)]
    graph = CompetencyGraph.from_edges(codes, [(f"c{i}", f"c{i + 1}") for i in range(n - 1)])
    keys = [f"{c}-{k}" for c in codes for k in range(2)]
    bank = StepBank.from_arrays(n, keys, np.repeat(np.arange(n), 2))
    return CourseGraph(
        key="toy",
        graph=graph,
        bank=bank,
        params=BKTParams.uniform(n),
        threshold=np.full(n, 0.85),
        section=tuple("A" if i < 6 else "B" for i in range(n)),
    )


def test_same_seed_same_history(course):
    a = simulate_history(course, 6, 4, seed=7)
    b = simulate_history(course, 6, 4, seed=7)
    c = simulate_history(course, 6, 4, seed=8)
    assert a.equals(b)
    assert not a.equals(c)
    assert list(a.columns) == [
        "student",
        "step",
        "competency",
        "correct",
        "hints_used",
        "duration_s",
        "timestamp",
    ]
    assert set(a["step"]) <= set(course.bank.keys)
    assert a["timestamp"].is_monotonic_increasing


def test_practice_raises_retrieval_and_time_lowers_it(course):
    rng = np.random.default_rng(0)
    students = sample_students(
        course.graph, 20, rng, Population(prior_level_max=0.0, prior_noise=0.0)
    )
    before = retrieval(students, 0.0)[:, 0].copy()
    rows = np.arange(20)
    for k in range(6):
        practise(students, rows, np.zeros(20, dtype=np.int64), 0.001 * k, course.graph, rng)
    after = retrieval(students, 0.01)[:, 0]
    assert (after > before).all()
    later = retrieval(students, 30.0)[:, 0]
    assert (later < after).all()


def test_spaced_practice_is_retained_better_than_massed(course):
    rng = np.random.default_rng(1)
    pop = Population(prior_level_max=0.0, prior_noise=0.0)
    massed = sample_students(course.graph, 50, rng, pop)
    spaced = massed.copy()
    rows, comp = np.arange(50), np.zeros(50, dtype=np.int64)
    for k in range(4):
        practise(massed, rows, comp, 0.001 * k, course.graph, np.random.default_rng(k))
        practise(spaced, rows, comp, 2.0 * k, course.graph, np.random.default_rng(k))
    assert retrieval(spaced, 30.0)[:, 0].mean() > retrieval(massed, 30.0)[:, 0].mean()


def test_prior_knowledge_follows_the_course_order(course):
    students = sample_students(
        course.graph, 200, np.random.default_rng(2), Population(prior_noise=0.0)
    )
    known = retrieval(students, 0.0) > 0.5
    assert known[:, 0].mean() > known[:, -1].mean()
    # heterogeneous: some know much more than others
    assert known.sum(axis=1).std() > 1


def test_oracle_masters_more_than_a_short_fixed_sequence(course):
    students = sample_students(course.graph, 30, np.random.default_rng(3))
    term = Term(days=6, minutes_per_day=15)
    fixed = run_term(
        course, students, FixedSequence(course.graph, 1), term, np.random.default_rng(4)
    )
    oracle = run_term(course, students, Oracle(course.graph), term, np.random.default_rng(4))
    assert oracle.known_end.mean() > fixed.known_end.mean()
    # the runs work on copies: the caller's truth is untouched
    assert np.isnan(students.last_practice).any()


def test_every_attempt_before_course_mastery_is_counted_once_by_kind(course):
    students = sample_students(course.graph, 30, np.random.default_rng(5))
    term = Term(days=8, minutes_per_day=15)
    fixed, oracle = (
        run_term(course, students, policy, term, np.random.default_rng(6))
        for policy in (FixedSequence(course.graph, 1), Oracle(course.graph))
    )
    for run in (fixed, oracle):
        before = np.where(np.isfinite(run.attempts_to_master), run.attempts_to_master, run.attempts)
        assert run.attempt_kinds.sum() == before.sum()
    # the fixed sequence walks past unmet prerequisites and over what is known; the oracle never
    assert fixed.attempt_kinds[1] > 0 and oracle.attempt_kinds[1] == 0
    assert fixed.attempt_kinds[3] + fixed.attempt_kinds[4] > oracle.attempt_kinds[3]


def test_history_is_on_school_days_only(course):
    import datetime as dt

    start = dt.datetime(2026, 3, 4, 9, 0)  # a Wednesday
    history = simulate_history(course, 4, 14, seed=3, start=start)
    stamps = history["timestamp"]
    assert len(history) > 0
    assert (stamps.dt.day_of_week < 5).all()  # Monday to Friday
    assert stamps.min() >= start
    assert stamps.max() < start + dt.timedelta(days=14)
    # the ten weekdays of the span all have practice
    assert stamps.dt.normalize().nunique() == 10


def test_calibration_fits_on_the_pilot_and_picks_a_candidate(course):
    from learnway.sim._calibrate import calibrate

    pilot = sample_students(course.graph, 20, np.random.default_rng(11))
    candidates = ((0.85, 3.0, 3.0, 0.7), (0.8, 2.0, 20.0, 0.5))
    cal = calibrate(course, pilot, Term(days=5, minutes_per_day=15), 11, candidates=candidates)
    assert cal.params.p_learn.shape == (course.n,)
    assert cal.pilot_attempts > 0
    assert len(cal.trials) == 2
    chosen = (cal.policy.min_evidence, cal.policy.half_life_days)
    assert chosen in {(3.0, 3.0), (2.0, 20.0)}
    summary = cal.summary()
    assert set(summary["fitted_quantiles_10_50_90"]) == {
        "p_init",
        "p_learn",
        "p_forget",
        "p_guess",
        "p_slip",
    }


def test_true_start_planner_skips_placement_and_knows_the_start(course):
    from learnway.paths import Planner, is_mastered
    from learnway.sim._ablations import TrueStartPlanner

    students = sample_students(course.graph, 10, np.random.default_rng(5))
    planner = Planner(course.graph, course.bank, course.params, policy=course.policy())
    policy = TrueStartPlanner(planner, deadline=6.0)
    policy.start(students, 0.0)
    known = retrieval(students, 0.0) >= KNOWN
    assert not policy.placing.any()
    assert (is_mastered(policy.state, planner.policy) == known).all()


def test_true_state_planner_knows_the_truth_at_every_choice(course):
    from learnway.paths import Planner, is_mastered
    from learnway.sim._ablations import TrueStatePlanner

    students = sample_students(course.graph, 10, np.random.default_rng(7))
    planner = Planner(course.graph, course.bank, course.params, policy=course.policy())
    policy = TrueStatePlanner(planner, deadline=6.0)
    policy.start(students, 0.0)
    students.strength[:, 0] = 5.0  # the first competency is now known by everyone
    rows = np.arange(10)
    chosen = policy.choose(rows, 1.0)
    known = retrieval(students, 1.0) >= KNOWN
    assert not policy.placing.any()
    assert (is_mastered(policy.state, planner.policy) == known).all()
    assert not known[rows, chosen].any()  # new work, never what is known


def test_true_review_planner_reviews_what_truly_fades(course):
    from learnway.paths import Planner, PlannerConfig
    from learnway.sim._ablations import TrueReviewPlanner

    students = sample_students(course.graph, 8, np.random.default_rng(6))
    planner = Planner(
        course.graph,
        course.bank,
        course.params,
        policy=course.policy(),
        config=PlannerConfig(review=False),
    )
    policy = TrueReviewPlanner(planner)
    policy.start(students, 0.0)
    policy.learned[:, 3] = True
    students.strength[:, 3] = -2.0  # learned once, now forgotten: the review comes first
    assert (policy.choose(np.arange(8), 1.0) == 3).all()


def test_own_model_planner_learns_the_state_from_answers(course):
    from learnway.paths import Planner
    from learnway.sim._ablations import STUDENT_PARAMETERS, OwnModelPlanner

    students = sample_students(course.graph, 20, np.random.default_rng(8))
    planner = Planner(course.graph, course.bank, course.params, policy=course.policy())
    policy = OwnModelPlanner(planner, individual=STUDENT_PARAMETERS)
    policy.start(students, 0.0)
    rows = np.arange(20)
    prior = policy.known_probability(rows, 0.0)
    chosen = policy.choose(rows, 0.0)
    before = prior[rows, chosen]
    right = np.arange(20) % 2 == 0
    policy.observe(rows, chosen, right, np.zeros(20, dtype=np.int64), 0.0)
    after = policy.known_probability(rows, 0.0)[rows, chosen]
    # the truth did not move (no practice): only the answers moved the posterior, both ways
    assert (after[right] > before[right]).all() and (after[~right] < before[~right]).all()

    # over a few days of teaching, the posterior tracks the truth better than the prior did
    term = Term(days=6, minutes_per_day=15)
    run_term(course, students, policy, term, np.random.default_rng(9))
    assert policy.truth is not None
    known_end = retrieval(policy.truth, term.deadline) >= KNOWN
    posterior = policy.known_probability(rows, term.deadline)
    assert np.mean((posterior >= 0.5) == known_end) >= 0.9
    assert np.mean((posterior - known_end) ** 2) < np.mean((prior - known_end) ** 2)


def test_own_model_planner_names_its_parameters(course):
    from learnway.paths import Planner
    from learnway.sim._ablations import OwnModelPlanner

    planner = Planner(course.graph, course.bank, course.params, policy=course.policy())
    assert OwnModelPlanner(planner).name.endswith("the population's parameters")
    inferred = OwnModelPlanner(planner, infer_rate=True)
    assert inferred.name.endswith("learning rate inferred from the answers")
    told = OwnModelPlanner(planner, individual=("rate",), infer_rate=True)
    assert not told.infer_rate  # a rate that is given is not inferred
    with pytest.raises(ValueError, match="not a student parameter"):
        OwnModelPlanner(planner, individual=("ease",))


def test_own_model_planner_infers_each_students_learning_rate(course):
    from learnway.paths import Planner
    from learnway.sim._ablations import OwnModelPlanner

    students = sample_students(course.graph, 30, np.random.default_rng(10))
    planner = Planner(course.graph, course.bank, course.params, policy=course.policy())
    policy = OwnModelPlanner(planner, infer_rate=True)
    run_term(course, students, policy, Term(days=6, minutes_per_day=15), np.random.default_rng(11))
    estimate = policy.learning_rate()
    assert policy.rates.shape == (30, 9)
    # faster learners are recognised as faster from their answers alone
    assert np.corrcoef(np.log(estimate), np.log(students.rate))[0, 1] > 0.5


def test_cohorts_on_one_course_share_its_ease(course):
    this_year = sample_students(course.graph, 5, np.random.default_rng(1))
    last_year = sample_students(course.graph, 5, np.random.default_rng(2), ease=this_year.ease)
    unrelated = sample_students(course.graph, 5, np.random.default_rng(2))
    assert np.array_equal(last_year.ease, this_year.ease)
    assert not np.array_equal(unrelated.ease, this_year.ease)
    # only the ease is shared: the students themselves are the seed's
    assert np.array_equal(last_year.rate, unrelated.rate)
    with pytest.raises(ValueError, match="shape"):
        sample_students(course.graph, 5, np.random.default_rng(2), ease=np.ones(3))
