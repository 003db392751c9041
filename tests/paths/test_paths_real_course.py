"""The planner and placement on the real Elementary Algebra course and the CCSS framework."""

from pathlib import Path

import numpy as np
import pytest

from learnway.paths import CourseGraph, LearnerState, Planner
from learnway.sim import placement_study

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
