"""The second world (a knowledge space with fringe learning and exponential forgetting), the
plain BKT reference, the school calendar of a term, and the benchmark on both worlds."""

from dataclasses import replace

import numpy as np
import pytest

from learnway.paths import BKTParams, CompetencyGraph, CourseGraph, StepBank
from learnway.sim import (
    KNOWN,
    CourseOrderBKT,
    FixedSequence,
    Oracle,
    Term,
    practise,
    retrieval,
    run_term,
    run_world,
    sample_space_students,
)
from learnway.sim._worlds import acceptance, render_worlds_summary


@pytest.fixture(scope="module")
def course():
    n = 10
    codes = [f"c{i}" for i in range(n)]
    edges = [(f"c{i}", f"c{i + 1}") for i in range(n - 1)] + [("c0", "c5")]
    graph = CompetencyGraph.from_edges(codes, edges)
    keys = [f"{c}-{k}" for c in codes for k in range(2)]
    bank = StepBank.from_arrays(n, keys, np.repeat(np.arange(n), 2))
    return CourseGraph(
        key="toy",
        graph=graph,
        bank=bank,
        params=BKTParams.uniform(n),
        threshold=np.full(n, 0.85),
        section=tuple("A" for _ in range(n)),
    )


def test_prior_knowledge_is_a_downset_of_the_prerequisites(course):
    students = sample_space_students(course.graph, 400, np.random.default_rng(0))
    learned = students.learned
    for child in range(course.n):
        for parent in np.nonzero(course.graph.prereq[child])[0]:
            assert not (learned[:, child] & ~learned[:, parent]).any()
    assert 0.1 < learned.mean() < 0.6
    # rusty: some of what was learned before is no longer retrieved
    known = retrieval(students, 0.0) >= KNOWN
    assert (learned & ~known).any() and (learned & known).any()


def test_learning_happens_on_the_fringe_and_fades_exponentially(course):
    rng = np.random.default_rng(1)
    students = sample_space_students(course.graph, 300, rng)
    students.learned[:] = False
    rows = np.arange(300)
    fringe, beyond = students.copy(), students.copy()
    for k in range(6):
        practise(fringe, rows, np.zeros(300, np.int64), 0.01 * k, course.graph, rng)
        practise(beyond, rows, np.full(300, 3, np.int64), 0.01 * k, course.graph, rng)
    assert fringe.learned[:, 0].mean() > beyond.learned[:, 3].mean() + 0.3
    got = fringe.learned[:, 0]
    r1 = retrieval(fringe, 1.0)[got, 0]
    r2 = retrieval(fringe, 2.0)[got, 0]
    assert np.allclose(r2, r1**2 * 2 ** (-0.05 / fringe.half_life[got, 0]), rtol=1e-6)


def test_spaced_practice_lengthens_the_half_life_more_than_massed(course):
    rng = np.random.default_rng(2)
    students = sample_space_students(course.graph, 50, rng)
    students.learned[:, 0] = True
    students.half_life[:, 0] = 2.0
    students.last_practice[:, 0] = 0.0
    rows, comp = np.arange(50), np.zeros(50, np.int64)
    massed, spaced = students.copy(), students.copy()
    for k in range(3):
        practise(massed, rows, comp, 0.01 * (k + 1), course.graph, np.random.default_rng(k))
        practise(spaced, rows, comp, 2.0 * (k + 1), course.graph, np.random.default_rng(k))
    assert (spaced.half_life[:, 0] > massed.half_life[:, 0]).all()


def test_a_term_practises_on_its_school_days_only(course):
    term = Term(days=6, minutes_per_day=10.0, weekdays="1010100")
    assert term.school_days().tolist() == [0, 2, 4, 7, 9, 11]
    assert term.deadline == 12.0
    run = run_term(
        course, sample_space_students(course.graph, 5, np.random.default_rng(3)),
        FixedSequence(course.graph, 2), term, np.random.default_rng(4), log=True,
    )  # fmt: skip
    assert run.attempt_log is not None
    assert set(np.floor(run.attempt_log["day"]).astype(int)) <= {0, 2, 4, 7, 9, 11}


def test_the_plain_bkt_reference_goes_in_course_order_without_review(course):
    students = sample_space_students(course.graph, 20, np.random.default_rng(5))
    term = Term(days=8, minutes_per_day=20.0)
    plain = CourseOrderBKT(course.graph, course.params)
    run = run_term(course, students, plain, term, np.random.default_rng(6), log=True)
    assert run.attempt_log is not None
    first = run.attempt_log.groupby("student")["competency"].first()
    assert (first == course.graph.codes[course.graph.order[0]]).all()
    oracle = run_term(course, students, Oracle(course.graph), term, np.random.default_rng(6))
    assert oracle.known_end.mean() >= run.known_end.mean()


def test_both_worlds_run_every_policy_with_the_selected_configuration(course):
    term = Term(days=9, minutes_per_day=20.0, weekdays="1010100", after_deadline=3)
    results = {}
    for world in ("logistic", "knowledge_space"):
        r = run_world(course, world, 0, students=12, term=term)
        assert set(r["policies"]) == {"fixed_4", "plain_bkt", "deployed", "oracle"}
        assert r["configuration"]["family"] in ("bkt", "bkt-forgetting")
        assert 0.5 <= r["configuration"]["settings"]["review_recall"] <= 0.9
        results[world] = {"seeds": [r]}
        results[world]["acceptance"] = acceptance(results[world])
    table = render_worlds_summary({"worlds": results})
    assert "| logistic |" in table and "| knowledge_space |" in table


def test_the_median_attempts_to_master_counts_students_who_never_master():
    from learnway.sim._worlds import censored_median

    nan = float("nan")
    # 2 of 5 master: the median over those two alone would be 150; censored it is undefined
    few = censored_median(
        np.array([100.0, 200.0, nan, nan, nan]), np.array([100, 200, 900, 800, 700])
    )
    assert few["median"] is None and few["mastered_within_cap"] == 0.4
    assert few["at_least"] == 700.0  # the median with each censored student's attempts at the cap
    most = censored_median(np.array([100.0, 200.0, 300.0, nan, nan]), np.array([1, 2, 3, 900, 800]))
    assert most["median"] == 300.0


def test_a_policy_past_the_cap_fails_and_a_reduction_against_one_is_a_lower_bound(course):
    from learnway.sim._classroom import RunResult
    from learnway.sim._worlds import _against

    def result(to_master, at_end):
        n = len(to_master)
        return RunResult(
            policy="p", attempts=np.array(at_end), minutes=np.zeros(n),
            attempts_to_master=np.array(to_master, dtype=float), minutes_to_master=np.zeros(n),
            mastered=np.zeros(n, bool), known_end=np.zeros(n), retention=np.zeros(n),
            prior_level=np.zeros(n),
        )  # fmt: skip

    nan = float("nan")
    fast = result([100.0, 120.0, 140.0], [100, 120, 140])
    never = result([90.0, nan, nan], [90, 400, 500])
    beat = _against(fast, never)
    assert beat["reduction_bound"] == "at least" and beat["reduction_of_medians"] == 1 - 120 / 400
    lost = _against(never, fast)
    assert lost["reduction_bound"] == "at most"
    r = {"seeds": [{"comparisons": {"deployed_vs_fixed_4": lost, "deployed_vs_plain_bkt": lost,
                                    "deployed_vs_oracle": {"of_medians": 0.5,
                                                           "of_medians_bound": "exact",
                                                           "per_student": 0.5}},
                    "policies": {k: {"share_mastered_by_deadline": 0.5, "review_share": 0.1}
                                 for k in ("deployed", "fixed_4", "oracle")}}]}  # fmt: skip
    checked = acceptance(r)
    assert checked["fewer_attempts_than_plain_bkt"] == -np.inf and not checked["passes"]


def test_past_the_deadline_a_student_who_mastered_stops(course):
    term = Term(days=3, minutes_per_day=12.0, after_deadline=8, stop_when_mastered=True)
    students = sample_space_students(course.graph, 12, np.random.default_rng(7))
    run = run_term(course, students, Oracle(course.graph), term, np.random.default_rng(8), log=True)
    assert run.attempt_log is not None
    late = set(run.attempt_log.loc[run.attempt_log["day"] >= term.deadline, "student"])
    assert run.mastered.any() and (~run.mastered).any()
    assert not late & set(np.nonzero(run.mastered)[0])  # mastered by the deadline: stopped there
    assert late  # the others go on
    kept = run_term(
        course, students, Oracle(course.graph), replace(term, stop_when_mastered=False),
        np.random.default_rng(8), log=True,
    )  # fmt: skip
    assert kept.attempt_log is not None
    assert set(kept.attempt_log.loc[kept.attempt_log["day"] >= term.deadline, "student"]) & set(
        np.nonzero(kept.mastered)[0]
    )
