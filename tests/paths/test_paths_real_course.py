"""The planner and placement on the real Elementary Algebra course and the CCSS framework."""

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.orm import Session

from learnway.paths import CourseGraph, LearnerState, Placement, Planner
from learnway.sim import placement_study, take_placement

SHARED = Path(__file__).resolve().parents[3] / "shared"
CONTENT = SHARED / "content" / "oatutor-elementary-algebra.tar.gz"
CCSSM = SHARED / "frameworks" / "ccssm"


@pytest.fixture(scope="module")
def algebra():
    if not CONTENT.exists():
        pytest.skip("shared content not present")
    from learnway.content import read_oatutor

    return CourseGraph.from_course(read_oatutor(CONTENT))


def test_course_graph_of_the_algebra_course(algebra):
    assert algebra.n == 201
    assert (algebra.bank.count >= 1).all()
    assert algebra.graph.prereq.any()
    assert np.allclose(algebra.threshold, 0.85)


def test_planner_starts_a_new_student_where_nothing_is_required_first(algebra):
    planner = Planner(algebra.graph, algebra.bank, algebra.params, policy=algebra.policy())
    recs = planner.recommend(LearnerState.new(1, algebra.params), 0.0, deadline=90.0)
    assert 3 <= len(recs) <= 5
    starts = {algebra.graph.index[r.competency] for r in recs}
    assert not algebra.graph.prereq[sorted(starts)].any()
    assert all(algebra.section[c].startswith("lesson-1-") for c in starts)


def test_placement_on_the_algebra_course_is_short_and_accurate(algebra):
    result = placement_study(algebra, 40, seed=0)
    assert result["median_questions"] <= 20
    assert result["accuracy_known_vs_truth"] > 0.8


def test_ccss_framework_bridges_edges_through_clusters():
    if not CCSSM.exists():
        pytest.skip("shared framework not present")
    from learnway.frameworks import read_ccssm

    course = CourseGraph.from_framework(read_ccssm(CCSSM))
    kinds = {c.kind for c in read_ccssm(CCSSM).competencies if c.code in course.graph.index}
    assert kinds <= {"standard", "substandard"}
    assert course.graph.prereq.sum() > 300


ONE_EDGE = {
    "prerequisite_for_goal": ("competency", "goal"),
    "toward_goal": ("competency", "next"),
    "go_back": ("competency", "stuck_on"),
    "go_back_toward": ("competency", "next"),
}


def test_reasons_on_the_demo_school_name_nothing_more_than_one_edge_away(demo_engine):
    from sqlalchemy import select

    from learnway.store import course_of_student, live_course, load_course, recommend
    from learnway.store._schema import User

    far_goals = ["solve_quadratic_equations_by_factoring", "solve_rational_equations"]
    seen: dict[str, int] = {}
    with Session(demo_engine) as session:
        students = session.scalars(select(User.id).where(User.role == "student")).all()
        framework_id = course_of_student(session, students[0])
        live = live_course(session, load_course(session, framework_id), framework_id)
        graph = live.course.graph
        for student in students:
            for goals in ((), far_goals):
                for rec in recommend(session, live, student, goals=goals):
                    for reason in rec.reasons:
                        seen[reason.code] = seen.get(reason.code, 0) + 1
                        if reason.code in ONE_EDGE:
                            before, after = (reason.params[k] for k in ONE_EDGE[reason.code])
                            i, j = graph.index[str(before)], graph.index[str(after)]
                            assert graph.prereq[j, i], reason.text
                        if reason.code == "unlocks":
                            c = graph.index[rec.competency]
                            assert 1 <= int(reason.params["count"]) <= graph.prereq[:, c].sum()
                        assert "more competencies" not in reason.text
    assert seen.get("toward_goal", 0) + seen.get("prerequisite_for_goal", 0) > 0
    assert seen.get("unlocks", 0) > 0


def test_a_student_who_knows_the_first_half_places_there_within_20_questions(algebra):
    from learnway.paths._placement import CHECK
    from learnway.sim._world import Population, course_position, retrieval, sample_students

    rng = np.random.default_rng(3)
    n = 60
    students = sample_students(algebra.graph, n, rng, Population(prior_noise=0.0))
    first_half = course_position(algebra.graph) < 0.5
    students.strength[:] = np.where(first_half[None, :], 2.5, -3.0) + rng.normal(
        0.0, 0.7, (n, algebra.n)
    )
    truth = retrieval(students, 0.0)
    place = Placement(algebra.graph, algebra.params, **CHECK)
    posterior, questions = take_placement(place, students, truth, rng)
    assert questions.min() >= 10 and questions.max() <= 20
    position, _ = place.interval(posterior)
    error = np.abs(position - first_half.sum())
    assert np.median(error) <= 0.03 * algebra.n
    assert (error <= 0.1 * algebra.n).mean() >= 0.8
    belief, evidence = place.starting_belief(posterior, algebra.params, algebra.threshold)
    likely = evidence > 0
    # placed there: most of the first half starts likely known, little of the second
    assert (likely & first_half).sum(axis=1).mean() >= 0.85 * first_half.sum()
    assert (likely & ~first_half).sum(axis=1).mean() <= 0.05 * algebra.n
    assert (belief[~likely] < algebra.threshold.min()).all()  # the rest is never near mastery
