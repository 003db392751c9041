"""The Elementary Algebra course aligned to the Common Core, and the prerequisites that follow."""

import logging

import numpy as np
import pytest

from learnway._errors import InputError
from learnway.content import read_oatutor
from learnway.content._oatutor import looks_broken
from learnway.data import CCSSM, ELEMENTARY_ALGEBRA
from learnway.frameworks import read_ccssm
from learnway.paths import (
    CourseGraph,
    aligned_prerequisites,
    check_alignment,
    read_alignment,
    shipped_alignment,
)

MEASUREMENT = ("unit", "measurement", "fahrenheit", "celsius")


@pytest.fixture(scope="module")
def imported():
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    log = logging.getLogger("learnway.content._oatutor")
    handler, level = Keep(), log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        course = read_oatutor(ELEMENTARY_ALGEBRA)
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
    return course, [r.getMessage() for r in records], records


@pytest.fixture(scope="module")
def course(imported):
    return imported[0]


@pytest.fixture(scope="module")
def alignment(course):
    path = shipped_alignment(course.key)
    assert path is not None and path.name == "elementary-algebra-ccssm.csv"
    return read_alignment(path)


def test_every_skill_is_aligned_or_marked_not_covered(course, alignment):
    skills = [c.code for c in course.framework.competencies if c.kind == "skill"]
    assert len(skills) == 201
    rows = {a.skill: a for a in alignment}
    assert set(rows) == set(skills)
    for skill in skills:
        row = rows[skill]
        assert row.justification
        assert row.covered or row.justification.startswith("Not covered by the standards")
    assert check_alignment(alignment, skills, read_ccssm(CCSSM), "alignment") == []
    assert sum(not a.covered for a in alignment) == 1


def test_the_alignment_names_real_standards_and_grades(alignment):
    ccssm = read_ccssm(CCSSM)
    taught = {a.skill: ccssm[a.standards[0]] for a in alignment if a.covered}
    assert taught["solve_quadratic_equations_by_factoring"].code == "HSA.REI.B.4.b"
    assert taught["make_unit_conversions_in_the_metric_system"].grade == "5"
    assert all(c.kind in ("standard", "substandard") for c in taught.values())


def test_prerequisites_come_from_the_standards_not_chapter_order(course):
    graph = CourseGraph.from_course(course).graph
    edges = course.framework.prerequisites
    assert 150 < len(edges) < 628  # chapter order gave 628
    goal = graph.index["solve_quadratic_equations_by_factoring"]
    before = [graph.codes[j] for j in np.nonzero(graph.ancestors[goal])[0]]
    assert before, "factoring quadratics has prerequisites"
    assert not [c for c in before if any(word in c for word in MEASUREMENT)]
    assert "factor_the_greatest_common_factor_from_a_polynomial" in before
    assert "simplify_expressions_using_the_distributive_property" in before
    # acyclic (the rank is a topological order of every skill) and every skill reachable
    assert sorted(graph.rank.tolist()) == list(range(graph.n))
    for after, before_ in zip(*np.nonzero(graph.prereq), strict=True):
        assert graph.rank[before_] < graph.rank[after]


def test_edges_are_direct_and_each_has_a_source(course, alignment):
    skills = [c.code for c in course.framework.competencies if c.kind == "skill"]
    derived = aligned_prerequisites(skills, alignment, read_ccssm(CCSSM))
    assert set(derived.edges) == set(course.framework.prerequisites)
    graph = CourseGraph.from_course(course).graph
    # transitively reduced: no edge is implied by a longer path
    for a, b in derived.edges:
        i, j = graph.index[a], graph.index[b]
        others = np.nonzero(graph.prereq[j])[0]
        assert not graph.ancestors[others[others != i], i].any()
    assert derived.against_course_order > 0  # reported, left out


def test_skills_of_a_lesson_follow_the_alignment_order(course, alignment):
    order = [c.code for c in course.framework.competencies if c.parent == "lesson-2-3"]
    aligned = [a.skill for a in alignment if a.lesson == "2.3"]
    assert order == aligned
    graph = CourseGraph.from_course(course).graph
    last = graph.index["solve_equations_with_variables_and_constants_on_both_sides"]
    for code in order[:-1]:
        assert graph.ancestors[last, graph.index[code]]


def test_broken_names_are_fixed_at_import_and_reported(imported):
    course, messages, records = imported
    titles = {c.code: c.title for c in course.framework.competencies}
    assert titles["and_real_numbers"] == "Identify real numbers"
    assert titles["lesson-7-3"] == "Factor Trinomials with Leading Coefficient Other than 1"
    assert titles["make_unit_conversions_in_the_u.s._system"].endswith("in the U.S. system")
    assert titles["find_the_x__and_y__intercepts_from_an_equation_of_a_line"] == (
        "Find the x- and y-intercepts from an equation of a line"
    )
    assert "**" not in "".join(titles.values()) and "_" not in "".join(titles.values())
    assert not [t for t in titles.values() if looks_broken(t)]
    changed = [m for m in messages if "cleaned:" in m]
    assert any("'And real numbers' -> 'Identify real numbers'" in m for m in changed)
    assert any(f"{len(changed)} skill and lesson names cleaned" in m for m in messages)
    assert not [r for r in records if r.levelno >= logging.WARNING]


def test_a_bad_alignment_is_refused_with_every_problem(tmp_path):
    bad = tmp_path / "a.csv"
    bad.write_text(
        "skill,lesson,standards,builds_on,justification\n"
        "a,1,6.EE.A.1,,why\n"
        "a,1,6.EE.A.1,,again\n"
        "b,1,,,\n"
        "c,2,6.EE.A.2,a,builds on another lesson\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as raised:
        read_alignment(bad)
    text = str(raised.value)
    assert "aligned twice" in text and "no justification" in text
    assert "not a skill of its lesson" in text
    assert len(raised.value.problems) >= 4
    wrong = tmp_path / "b.csv"
    wrong.write_text("skill,standards\na,6.EE.A.1\n", encoding="utf-8")
    with pytest.raises(InputError, match="expected the columns"):
        read_alignment(wrong)
