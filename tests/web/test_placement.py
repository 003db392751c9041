"""Placement: a student new to the course is placed by an adaptive check of 10 to 20
questions; its answers are attempts of kind ``placement``; its result is a starting belief that
grants no mastery and survives a replay; a teacher sees who has placed and can place again."""

from __future__ import annotations

import re

import numpy as np
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select

from learnway.store import course_of_student, live_course, load_course, transaction
from learnway.store._placement import placement_cells, placement_summaries
from learnway.store._schema import Attempt, Enrollment, Mastery, Section, StepRow, User
from learnway.store._schema import Placement as PlacementRow
from learnway.store._state import load_state, replay_students
from learnway.web import set_demo_passwords
from web.support import api_client, browser_client, csrf_of, engine_of, user_id
from web.test_browser import Visit, browser, server  # noqa: F401 (fixtures)


def new_student(engine: Engine, key: str = "newcomer") -> int:
    """A student enrolled in the teacher's first section, with no evidence yet."""
    with transaction(engine) as session:
        other = session.scalar(select(User).where(User.username == "student01"))
        assert other is not None
        section_id = session.scalar(
            select(Enrollment.section_id).where(Enrollment.user_id == other.id)
        )
        user = User(
            sourced_id=f"demo-{key}", username=key, given_name="Nia", family_name="Newcomer",
            role="student", org_id=other.org_id, grade="8",
        )  # fmt: skip
        session.add(user)
        session.flush()
        session.add(Enrollment(
            sourced_id=f"demo-enrollment-{key}", section_id=section_id, user_id=user.id,
            role="student",
        ))  # fmt: skip
        new_id = user.id
    set_demo_passwords(engine)
    return new_id


def answers_of(engine: Engine, step_id: int) -> list[str]:
    with transaction(engine) as session:
        step = session.get(StepRow, step_id)
        assert step is not None
        return [str(a) for a in step.answers]


def take_check(client, me: int, engine: Engine, *, right_until: float) -> dict:  # type: ignore[no-untyped-def]
    """Answer the check as a student who knows the course's first ``right_until`` share."""
    with transaction(engine) as session:
        framework_id = course_of_student(session, me)
        assert framework_id is not None
        course = load_course(session, framework_id)
    rank = {code: course.graph.rank[i] / course.n for i, code in enumerate(course.graph.codes)}
    state = client.get(f"/api/v1/students/{me}/placement").json()
    for _ in range(30):
        q = state["question"]
        if q is None:
            break
        with transaction(engine) as session:
            pending = session.scalar(
                select(PlacementRow.pending_competency)
                .where(PlacementRow.student_id == me)
                .order_by(PlacementRow.id.desc())
            )
        knows = rank[pending] < right_until
        response = answers_of(engine, q["step"])[0] if knows else "no idea 12345"
        reply = client.post(
            f"/api/v1/students/{me}/placement/answers",
            json={"step": q["step"], "response": response},
        )
        assert reply.status_code == 200, reply.text
        state = reply.json()
    return state


def test_a_new_student_is_placed_by_a_short_adaptive_check(app: FastAPI) -> None:
    engine = engine_of(app)
    me = new_student(engine)
    page = browser_client(app, "newcomer")
    first = page.get(f"/students/{me}/path", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].endswith("/placement")
    html = page.get(f"/students/{me}/placement").text
    assert "Question 1 of at most 20" in html and 'name="csrf_token"' in html

    client = api_client(app, "newcomer")
    done = take_check(client, me, engine, right_until=0.5)
    assert done["status"] == "done" and done["question"] is None
    assert 10 <= done["answered"] <= 20
    result = done["result"]
    assert abs(result["position"] - result["total"] / 2) <= 0.15 * result["total"]
    assert result["likely_known"] > 40 and result["placed_at"]

    with transaction(engine) as session:
        kinds = session.scalars(select(Attempt.kind).where(Attempt.student_id == me)).all()
        assert set(kinds) == {"placement"} and len(kinds) == done["answered"]
        framework_id = course_of_student(session, me)
        assert framework_id is not None
        live = live_course(session, load_course(session, framework_id), framework_id)
        state = load_state(session, live, [me])
        statuses = set(
            session.scalars(select(Mastery.status).where(Mastery.student_id == me)).all()
        )
        # a starting belief, never mastery: likely known, to confirm in use
        assert "mastered" not in statuses and "likely_known" in statuses
        known = int((state.p_known[0] >= 0.85).sum())
        # a replay (a late attempt, a new model version) starts from the check again
        replayed = replay_students(session, live, [me])
        assert int((replayed.p_known[0] >= 0.85).sum()) == known
        assert placement_cells(session, live, [me])[0].sum() >= known
        summary = placement_summaries(session, live, [me])[me]
        assert summary.status == "done" and summary.position == result["position"]

    # the path now opens, and shows the starting belief as likely known
    path = page.get(f"/students/{me}/path", follow_redirects=False)
    assert path.status_code == 200 and "likely known" in path.text


def test_one_lucky_answer_never_grants_mastery_and_answers_are_checked_in_order(
    app: FastAPI,
) -> None:
    engine = engine_of(app)
    me = new_student(engine, "lucky")
    client = api_client(app, "lucky")
    q = client.get(f"/api/v1/students/{me}/placement").json()["question"]
    assert q["number"] == 1 and q["at_most"] == 20
    wrong_step = client.post(
        f"/api/v1/students/{me}/placement/answers", json={"step": q["step"] + 1, "response": "1"}
    )
    assert wrong_step.status_code == 409
    right = answers_of(engine, q["step"])[0]
    reply = client.post(
        f"/api/v1/students/{me}/placement/answers", json={"step": q["step"], "response": right}
    ).json()
    assert reply["last"] is True and reply["question"]["number"] == 2
    with transaction(engine) as session:
        statuses = session.scalars(select(Mastery.status).where(Mastery.student_id == me)).all()
    assert "mastered" not in statuses
    empty = client.post(
        f"/api/v1/students/{me}/placement/answers", json={"step": q["step"], "response": ""}
    )
    assert empty.status_code == 422


def test_skip_then_a_teacher_places_again_and_sees_who_has_placed(app: FastAPI) -> None:
    engine = engine_of(app)
    me = new_student(engine, "skipper")
    page = browser_client(app, "skipper")
    html = page.get(f"/students/{me}/placement").text
    skipped = page.post(
        f"/students/{me}/placement/skip", data={"csrf_token": csrf_of(html)},
        follow_redirects=False,
    )  # fmt: skip
    assert skipped.status_code == 303
    assert page.get(f"/students/{me}/path", follow_redirects=False).status_code == 200

    teacher = browser_client(app, "teacher")
    view = teacher.get(f"/students/{me}/placement")
    assert view.status_code == 200 and "skipped the check" in view.text
    no_csrf = teacher.post(f"/students/{me}/placement/start", follow_redirects=False)
    assert no_csrf.status_code in (400, 403)
    again = teacher.post(
        f"/students/{me}/placement/start", data={"csrf_token": csrf_of(view.text)},
        follow_redirects=False,
    )  # fmt: skip
    assert again.status_code == 303
    # the teacher's view moves nothing on; the student's next visit begins the check
    assert "waiting for" in teacher.get(f"/students/{me}/placement").text
    with transaction(engine) as session:
        row = session.scalars(
            select(PlacementRow).where(PlacementRow.student_id == me).order_by(PlacementRow.id)
        ).all()[-1]
        assert row.status == "requested" and row.requested_by_id == user_id(engine, "teacher")
        assert row.pending_step_id is None
    back = page.get(f"/students/{me}/path", follow_redirects=False)
    assert back.headers["location"].endswith("/placement")
    assert "Question 1 of at most 20" in page.get(f"/students/{me}/placement").text

    # the section's student list says who has placed and where
    with transaction(engine) as session:
        section_id = session.scalar(select(Enrollment.section_id).where(Enrollment.user_id == me))
        assert session.get(Section, section_id) is not None
    listed = teacher.get(f"/api/v1/sections/{section_id}/placement").json()
    rows = {r["student"]["id"]: r for r in listed["students"]}
    assert rows[me]["status"] == "active" and rows[me]["text"].startswith("taking the check")
    assert sum(r["status"] == "none" for r in rows.values()) >= 10
    page_html = teacher.get(f"/sections/{section_id}/placement").text
    assert "Placement" in page_html and re.search(r"taking the check", page_html)


def test_only_the_student_answers_and_others_cannot_reach_the_check(app: FastAPI) -> None:
    engine = engine_of(app)
    me = new_student(engine, "private")
    other = api_client(app, "student01")
    assert other.get(f"/api/v1/students/{me}/placement").status_code == 404
    assert other.post(f"/api/v1/students/{me}/placement").status_code == 404
    assert (
        other.post(
            f"/api/v1/students/{me}/placement/answers", json={"step": 1, "response": "1"}
        ).status_code
        == 404
    )
    teacher = api_client(app, "teacher")
    assert (
        teacher.post(
            f"/api/v1/students/{me}/placement/answers", json={"step": 1, "response": "1"}
        ).status_code
        == 403
    )
    demo_student = user_id(engine, "student01")
    seen = teacher.get(f"/api/v1/students/{demo_student}/placement").json()
    assert seen["status"] == "none" and seen["due"] is False  # has practised: not asked
    assert np.isfinite(seen["answered"])


def test_the_path_shows_a_map_of_the_units_toward_the_goal(app: FastAPI) -> None:
    engine = engine_of(app)
    me = user_id(engine, "student01")
    client = api_client(app, "student01")
    goal = "solve_quadratic_equations_by_factoring"
    made = client.post(
        f"/api/v1/students/{me}/goals", json={"title": "Quadratics", "competency": goal}
    )
    assert made.status_code in (200, 201), made.text
    way = client.get(f"/api/v1/students/{me}/path/map").json()
    assert way["goal"] == "Solve quadratic equations by factoring"
    codes = [u["code"] for u in way["units"]]
    assert "lesson-1-10" not in codes  # measurement is not on the way to factoring
    assert any(u["goal"] for u in way["units"]) or way["more"] > 0
    for unit in way["units"]:
        assert set(unit["needs"]) <= set(codes[: codes.index(unit["code"])])
    page = browser_client(app, "student01").get(f"/students/{me}/path").text
    assert 'role="img" aria-labelledby="way-title way-desc"' in page
    assert "Your way to Solve quadratic equations by factoring" in page
    assert page.count('class="way-unit') == len(way["units"])
    assert '<ol class="way-list">' in page


@pytest.mark.browser
@pytest.mark.parametrize("demo_template", ["sqlite"], indirect=True, scope="session")
def test_the_placement_check_in_a_browser_passes_axe(
    browser: object,  # noqa: F811 (the browser tests' fixture)
    server: str,  # noqa: F811
    shared_app: FastAPI,
) -> None:
    engine = engine_of(shared_app)
    me = new_student(engine, "browsing")
    for width in (1280, 390):
        visit = Visit(browser, server, f"placement-{width}", width=width)
        page = visit.page
        if width == 1280:
            visit.sign_in("browsing")
            page.goto(f"{server}/students/{me}/path")
            page.wait_for_url(re.compile("/placement"))
        else:
            visit.sign_in("browsing")
            page.goto(f"{server}/students/{me}/placement")
        assert page.get_by_text(re.compile(r"Question \d+ of at most 20")).count() == 1
        visit.check("question")
        field = page.locator("#placement-response")
        if field.count():
            field.fill("no idea")
        else:
            page.locator("input[type=radio]").first.check()
        with page.expect_navigation():  # the answer posts, then the next question loads
            page.get_by_role("button", name="Next question").click()
        page.wait_for_load_state("networkidle")
        visit.check("next-question")
    teacher = Visit(browser, server, "placement-teacher")
    teacher.sign_in("teacher")
    with transaction(engine) as session:
        section = session.scalar(select(Enrollment.section_id).where(Enrollment.user_id == me))
    teacher.page.goto(f"{server}/sections/{section}/placement")
    assert teacher.page.get_by_text("taking the check").count() >= 1
    teacher.check("class-placement")
    teacher.page.goto(f"{server}/students/{me}/placement")
    teacher.check("student-placement")
