"""The OATutor reader on the real Elementary Algebra course, and on broken copies of it."""

from __future__ import annotations

import io
import json
import tarfile
from collections import Counter
from pathlib import Path

import pytest

from conftest import ALGEBRA_TARBALL
from learnway import InputError
from learnway.content import Course, read_oatutor
from learnway.data import ELEMENTARY_ALGEBRA


@pytest.fixture(scope="module")
def course() -> Course:
    return read_oatutor(ALGEBRA_TARBALL)


def test_counts_match_the_package(course: Course) -> None:
    assert len(course.items) == 2032
    assert len(course.steps) == 2520
    assert sum(len(s.hints) for s in course.steps) == 10604
    kinds = Counter(c.kind for c in course.framework.competencies)
    assert kinds == {"skill": 201, "lesson": 71}
    assert Counter(h.kind for s in course.steps for h in s.hints) == {
        "hint": 7500,
        "scaffold": 3104,
    }


def test_skills_carry_threshold_priors_and_lesson(course: Course) -> None:
    skill = course.framework["evaluate_an_expression"]
    assert skill.kind == "skill"
    assert skill.parent == "lesson-1-2"
    assert skill.mastery_threshold == 0.85
    assert (skill.p_init, skill.p_learn, skill.p_guess, skill.p_slip) == (0.1, 0.1, 0.1, 0.1)
    assert course.framework["lesson-1-2"].title == "Use the Language of Algebra"


def test_prerequisites_follow_the_standards_not_lesson_order(course: Course) -> None:
    framework = course.framework
    first_lesson = {c.code for c in framework.competencies if c.parent == "lesson-1-1"}
    second_lesson = {c.code for c in framework.competencies if c.parent == "lesson-1-2"}
    between = {(a, b) for a in first_lesson for b in second_lesson} & set(framework.prerequisites)
    assert 0 < len(between) < len(first_lesson) * len(second_lesson)
    assert len(framework.prerequisites) == 258  # the figure docs/architecture.md gives
    order = {code: i for i, code in enumerate(framework.topological_order())}
    assert all(order[a] < order[b] for a, b in framework.prerequisites)


def test_every_item_keeps_license_and_attribution(course: Course) -> None:
    for item in course.items:
        assert item.license == "CC BY 4.0"
        assert "OpenStax" in item.attribution and "OATutor" in item.attribution
        assert item.source.startswith("https://openstax.org/")
    assert course.license == "CC BY 4.0"


def test_steps_hints_and_alignments(course: Course) -> None:
    step = next(s for s in course.steps if s.key == "a381217systemeq14a")
    assert step.problem_type == "TextBox" and step.answer_type == "arithmetic"
    assert step.answers == ("521a842c",)
    assert step.competencies and all(c in course.framework for c in step.competencies)
    assert [h.key for h in step.hints][:2] == ["a381217systemeq14a-h1", "a381217systemeq14a-h2"]
    assert step.hints[1].depends_on == ("a381217systemeq14a-h1",)
    multi = [s for s in course.steps if len(s.competencies) > 1]
    assert len(multi) == 73


def test_unpacked_folder_reads_the_same(course: Course, tmp_path: Path) -> None:
    with tarfile.open(ALGEBRA_TARBALL) as tar:
        tar.extractall(tmp_path, filter="data")
    assert read_oatutor(tmp_path) == course


def test_shipped_copy_matches_the_shared_data(course: Course) -> None:
    assert read_oatutor(ELEMENTARY_ALGEBRA) == course


def test_truncated_tarball(tmp_path: Path) -> None:
    data = ALGEBRA_TARBALL.read_bytes()
    broken = tmp_path / "truncated.tar.gz"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError) as caught:
        read_oatutor(broken)
    assert "truncated or corrupt archive" in str(caught.value)
    assert str(broken) in str(caught.value)


def rewrite(tmp_path: Path, edit: dict[str, object]) -> Path:
    """A copy of the course with some JSON files replaced (``None`` removes the file)."""
    target = tmp_path / "edited.tar.gz"
    with tarfile.open(ALGEBRA_TARBALL) as source, tarfile.open(target, "w:gz") as out:
        for member in source:
            suffix = member.name.split("/", 1)[-1]
            if suffix in edit:
                if edit[suffix] is None:
                    continue
                data = json.dumps(edit[suffix]).encode()
                member.size = len(data)
                out.addfile(member, io.BytesIO(data))
            else:
                out.addfile(member, source.extractfile(member) if member.isfile() else None)
    return target


def test_step_with_unknown_skill_is_named(tmp_path: Path) -> None:
    with tarfile.open(ALGEBRA_TARBALL) as tar:
        handle = tar.extractfile("oatutor-elementary-algebra/skillModel.json")
        assert handle is not None
        model = json.loads(handle.read())
    model["a381217systemeq14a"] = ["juggling"]
    with pytest.raises(InputError) as caught:
        read_oatutor(rewrite(tmp_path, {"skillModel.json": model}))
    (problem,) = caught.value.problems
    assert problem.record == "step a381217systemeq14a"
    assert "unknown skill(s) ['juggling']" in problem.message
    assert "a381217systemeq14a.json" in problem.source


def test_malformed_json_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"bktParams\.json: file missing"):
        read_oatutor(rewrite(tmp_path, {"bktParams.json": None}))
    target = tmp_path / "bad"
    target.mkdir()
    (target / "coursePlans.json").write_text("[{")
    with pytest.raises(InputError, match=r"coursePlans\.json: not valid JSON"):
        read_oatutor(target)


def test_missing_path() -> None:
    with pytest.raises(InputError, match="no such file or folder"):
        read_oatutor("/nonexistent/course.tar.gz")
