"""A school day: the teacher's dashboard leads to action, forms never dead-end, the practice
flow goes on, and guardians read plain words. Through the pages and their JSON twins."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from learnway.store import transaction
from learnway.store._schema import (
    Attempt,
    CompetencyRow,
    Group,
    ItemRow,
    Message,
    NeedSeen,
    Placement,
    Section,
    StepAlignment,
    StepRow,
)
from learnway.web._accommodations import reduce_choices
from learnway.web._forms import plain_message
from learnway.web._needs import attempts_in_words
from learnway.web.pages._practice import plain_text
from web.support import api_client, browser_client, csrf_of, engine_of, user_id

RAW = re.compile(r"should have at least|Input should|Field required|validation error", re.I)


def _section(app: FastAPI) -> int:
    with transaction(engine_of(app)) as session:
        found = session.scalar(select(Section.id).where(Section.sourced_id == "demo-section-1"))
    assert found is not None
    return found


def _errors(html: str) -> list[str]:
    return re.findall(r'class="field-error"[^>]*>([^<]*)<', html)


# --- words ---------------------------------------------------------------------------------


def test_attempts_and_errors_in_plain_words() -> None:
    assert attempts_in_words([(False, 3), (False, 3), (False, 2)]) == (
        "3 attempts, 3/3/2 hints, none right"
    )
    assert attempts_in_words([(True, 0)]) == "1 attempt, no hints, all right"
    assert attempts_in_words([]) == "no attempts of its own yet"
    assert plain_message({"type": "too_short", "ctx": {"min_length": 1}}) == "Choose at least one."
    assert plain_message({"type": "missing"}) == "Please fill this in."
    assert plain_message({"type": "date_from_datetime_parsing"}).startswith("Enter a date")
    assert plain_text(r"$$5.63$$ is $$\frac{3}{4} \cdot x \leq \left(2\right)$$") == (
        "5.63 is 3/4 · x ≤ (2)"
    )


def test_reduced_choices_keep_the_right_answer() -> None:
    choices = ["1", "2", "3", "4", "5"]
    assert reduce_choices(choices, ["4"]) == ["1", "2", "4"]
    assert reduce_choices(choices, ["5", "1"]) == ["1", "2", "5"]
    assert reduce_choices(["a", "b"], ["b"]) == ["a", "b"]


# --- the teacher's dashboard ------------------------------------------------------------------


def test_needs_state_the_rule_and_evidence_and_act(app: FastAPI) -> None:
    engine = engine_of(app)
    section = _section(app)
    client = api_client(app, "teacher")
    needs = client.get(f"/api/v1/sections/{section}/needs").json()
    stuck = [n for n in needs["needs"] if n["kind"] == "stuck"]
    assert stuck, "the demo class has stuck students"
    for n in stuck:
        assert n["rule"].startswith("Stuck: ") and n["competency_title"]
        assert re.search(
            r"\d+ attempts?, (no hints|[\d/]+ hints), (none|all|\d+) right", n["evidence"]
        )
        assert "sure" not in n["evidence"]
    assert all(n["rule"] for n in needs["needs"])
    # mark as seen: gone from today's list, counted
    target = stuck[0]
    done = client.post(
        f"/api/v1/sections/{section}/needs/seen",
        json={"student_id": target["student"]["id"], "kind": "stuck"},
    )
    assert done.status_code == 204
    again = client.get(f"/api/v1/sections/{section}/needs").json()
    assert again["seen"] == 1
    assert (target["student"]["id"], "stuck") not in {
        (n["student"]["id"], n["kind"]) for n in again["needs"]
    }
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(NeedSeen)) == 1
    # message: the student reads it on their profile, and it is marked read
    sid = target["student"]["id"]
    sent = client.post(f"/api/v1/students/{sid}/messages", json={"body": "See me at 10."})
    assert sent.status_code == 201
    empty = client.post(f"/api/v1/students/{sid}/messages", json={"body": ""})
    assert empty.status_code == 422
    student = browser_client(app, target["student"]["username"])
    page = student.get(f"/students/{sid}")
    assert "See me at 10." in page.text and "My profile" in page.text
    with transaction(engine) as session:
        assert session.scalar(select(Message.read_at)) is not None
    # a student of another class cannot be marked
    other = client.post(
        f"/api/v1/sections/{section}/needs/seen", json={"student_id": 999999, "kind": "stuck"}
    )
    assert other.status_code == 404


def test_needs_page_offers_one_click_actions(app: FastAPI) -> None:
    section = _section(app)
    teacher = browser_client(app, "teacher")
    page = teacher.get(f"/sections/{section}/needs")
    csrf = csrf_of(page.text)
    assert "Assign the prerequisite:" in page.text and "Mark as seen" in page.text
    assert "/evidence/" in page.text
    first = re.search(r'name="student_id" value="(\d+)">\s*<input type="hidden" name="kind" '
                      r'value="(\w+)"', page.text)  # fmt: skip
    assert first
    seen = teacher.post(
        f"/sections/{section}/needs/seen",
        data={"csrf_token": csrf, "student_id": first.group(1), "kind": first.group(2)},
    )
    assert seen.status_code == 200 and "Marked as seen" in seen.text
    # add to a group made by hand
    students = [int(s) for s in re.findall(r'name="student_id" value="(\d+)"', page.text)][:1]
    api = api_client(app, "teacher")
    others = api.get(f"/api/v1/sections/{section}/heatmap").json()["rows"]
    made = api.post(
        f"/api/v1/sections/{section}/groups",
        json={"name": "Table 3", "student_ids": [others[-1]["student"]["id"]]},
    ).json()
    added = teacher.post(
        f"/sections/{section}/needs/group",
        data={"csrf_token": csrf, "group_id": str(made["id"]), "student_id": str(students[0])},
    )
    assert added.status_code == 200 and "Added to the group Table 3" in added.text
    with transaction(engine_of(app)) as session:
        group = session.get(Group, made["id"])
        assert group is not None
    groups = api.get(f"/api/v1/sections/{section}/groups").json()
    saved = next(g for g in groups["saved"] if g["id"] == made["id"])
    assert students[0] in {s["id"] for s in saved["students"]}


def test_stuck_students_never_practise_alone(app: FastAPI) -> None:
    section = _section(app)
    client = api_client(app, "teacher")
    stuck = {
        n["student"]["id"]
        for n in client.get(f"/api/v1/sections/{section}/needs").json()["needs"]
        if n["kind"] == "stuck"
    }
    groups = client.get(f"/api/v1/sections/{section}/groups").json()["suggested"]
    alone = {s["id"] for g in groups if g["kind"] == "independent" for s in g["students"]}
    assert stuck and not stuck & alone
    placed = {s["id"] for g in groups for s in g["students"]}
    assert stuck <= placed, "every stuck student is in some group"


def test_heatmap_opens_on_recent_work_and_cells_open_the_evidence(app: FastAPI) -> None:
    section = _section(app)
    api = api_client(app, "teacher")
    data = api.get(f"/api/v1/sections/{section}/heatmap").json()
    current = data["current_unit"]
    assert current and data["unit"] is None
    first_unit = data["units"][0]["href"]
    assert current != first_unit, "the class's recent work is past the first unit"
    teacher = browser_client(app, "teacher")
    page = teacher.get(f"/sections/{section}/heatmap")
    assert f'<option value="{current}" selected>' in page.text
    assert "(recent work)" in page.text
    every = teacher.get(f"/sections/{section}/heatmap", params={"unit": "all"})
    assert every.text.count('class="comp"') == len(data["columns"])
    cell = re.search(r'href="(/sections/\d+/students/\d+/evidence/[^"]+)"', page.text)
    assert cell
    opened = teacher.get(cell.group(1))
    assert opened.status_code == 200
    assert "Attempts, newest first" in opened.text and "<svg" in opened.text
    assert "The estimate after each change" in opened.text


def test_evidence_shows_placement_as_its_own_kind_and_codes_with_slashes(app: FastAPI) -> None:
    engine = engine_of(app)
    section = _section(app)
    student = user_id(engine, "student01")
    with transaction(engine) as session:
        code, step = session.execute(
            select(CompetencyRow.code, StepRow.id)
            .join(StepAlignment, StepAlignment.competency_id == CompetencyRow.id)
            .join(StepRow, StepRow.id == StepAlignment.step_id)
            .where(CompetencyRow.code.contains("/"))
            .limit(1)
        ).one()
        session.add(
            Attempt(
                id="placement-test-1", student_id=student, step_id=step, correct=True,
                score=1.0, hints_used=0, response="42", timestamp=dt.datetime.now(dt.UTC),
                source="web", kind="placement",
            )
        )  # fmt: skip
        framework = session.scalar(
            select(CompetencyRow.framework_id).where(CompetencyRow.code == code)
        )
        session.add(  # the check that asked it, as the placement pages record it
            Placement(
                student_id=student, framework_id=framework, status="done",
                answers=[{"competency": code, "step": step, "correct": True,
                          "attempt": "placement-test-1"}],
            )
        )  # fmt: skip
    api = api_client(app, "teacher")
    data = api.get(f"/api/v1/sections/{section}/students/{student}/evidence/{code}").json()
    assert data["competency"] == code
    assert [a["kind"] for a in data["attempts"] if a["response"] == "42"] == ["placement"]
    heat = api.get(f"/api/v1/sections/{section}/heatmap").json()
    column = [c["code"] for c in heat["columns"]].index(code)
    row = next(r for r in heat["rows"] if r["student"]["id"] == student)
    assert row["placement"][column] == 1
    assert sum(map(sum, (r["placement"] for r in heat["rows"]))) == 1
    teacher = browser_client(app, "teacher")
    unit = heat["columns"][column]["unit"]
    cells = teacher.get(f"/sections/{section}/heatmap", params={"unit": unit}).text
    assert cells.count('<span class="placed" aria-hidden="true">P</span>') == 1
    page = teacher.get(f"/sections/{section}/students/{student}/evidence/{code}")
    assert page.status_code == 200 and "Placement check" in page.text
    # the student's practice link for the same code, with its slash, opens a problem
    learner = browser_client(app, "student01")
    practice = learner.get(f"/practice/competency/{code}")
    assert practice.status_code == 200 and "/practice/" in str(practice.url)


def test_pacing_has_charts_with_band_deadline_and_data(app: FastAPI) -> None:
    section = _section(app)
    teacher = browser_client(app, "teacher")
    page = teacher.get(f"/sections/{section}/pacing")
    assert page.status_code == 200
    assert page.text.count("<svg") == 1 and 'class="band"' in page.text
    assert 'class="deadline"' in page.text and "How the forecast works" in page.text
    assert "Only demonstrated mastery counts" in page.text
    one = re.search(r'href="(/sections/\d+/pacing/\d+)"', page.text)
    assert one
    student = teacher.get(one.group(1))
    assert student.status_code == 200 and 'class="forecast"' in student.text
    assert "The chart's data" in student.text


# --- no dead ends ----------------------------------------------------------------------------


def test_a_group_without_members_keeps_the_form_and_says_why(app: FastAPI) -> None:
    section = _section(app)
    teacher = browser_client(app, "teacher")
    csrf = csrf_of(teacher.get(f"/sections/{section}/groups").text)
    response = teacher.post(
        f"/sections/{section}/groups",
        data={"csrf_token": csrf, "name": "Typed name", "reason": "Fractions again"},
    )
    assert response.status_code == 422
    assert _errors(response.text) == ["Choose at least one."]
    assert 'value="Typed name"' in response.text and 'value="Fractions again"' in response.text
    assert not RAW.search(response.text)
    assert 'aria-label="Main"' in response.text


def test_competencies_are_chosen_by_title_never_by_internal_code(app: FastAPI) -> None:
    engine = engine_of(app)
    student = user_id(engine, "student01")
    teacher = browser_client(app, "teacher")
    page = teacher.get(f"/students/{student}")
    assert "(code)" not in page.text and 'list="assign-competency-list"' in page.text
    csrf = csrf_of(page.text)
    vague = teacher.post(
        "/assignments",
        data={"csrf_token": csrf, "student_id": str(student), "competency": "solve equations",
              "note": "Try these", "back": f"/students/{student}"},
    )  # fmt: skip
    assert vague.status_code == 422
    (message,) = _errors(vague.text)
    assert "choose one from the list" in message and "Solve equations" in message
    assert 'value="solve equations"' in vague.text and 'value="Try these"' in vague.text
    with transaction(engine) as session:
        title = session.scalar(
            select(CompetencyRow.title).where(CompetencyRow.code == "classify_equations")
        )
    chosen = teacher.post(
        "/assignments",
        data={"csrf_token": csrf, "student_id": str(student), "competency": title,
              "back": f"/students/{student}"},
        follow_redirects=False,
    )  # fmt: skip
    assert chosen.status_code == 303
    recs = api_client(app, "student01").get(f"/api/v1/students/{student}/recommendations")
    assert title in {a["competency_title"] for a in recs.json()["assigned"]}


def test_a_goal_with_a_bad_date_keeps_the_title(app: FastAPI) -> None:
    student = user_id(engine_of(app), "student01")
    client = browser_client(app, "student01")
    csrf = csrf_of(client.get(f"/students/{student}/goals").text)
    response = client.post(
        f"/students/{student}/goals",
        data={"csrf_token": csrf, "title": "Finish unit 2", "target_date": "next week"},
    )
    assert response.status_code == 422
    assert _errors(response.text) == ["Enter a date, like 2026-12-01."]
    assert 'value="Finish unit 2"' in response.text


def test_error_pages_have_the_navigation_and_a_way_back(app: FastAPI) -> None:
    teacher = browser_client(app, "teacher")
    for path in ("/no/such/page", "/students/999999", "/sections/999999/heatmap"):
        page = teacher.get(path, headers={"referer": "http://testserver/sections"})
        assert page.status_code == 404
        assert 'aria-label="Main"' in page.text and "My classes" in page.text
        assert 'href="http://testserver/sections">Go back' in page.text


# --- practice, guardians ----------------------------------------------------------------------


def _last_step_target(app: FastAPI) -> tuple[str, int, str, int]:
    """An item of two text-box steps: (key, last step id, its answer, steps)."""
    with transaction(engine_of(app)) as session:
        items = session.execute(
            select(ItemRow.id, ItemRow.key)
            .join(StepRow, StepRow.item_id == ItemRow.id)
            .group_by(ItemRow.id, ItemRow.key)
            .having(func.count(StepRow.id) == 2)
            .order_by(ItemRow.key)
        ).all()
        for item_id, key in items:
            steps = session.scalars(
                select(StepRow).where(StepRow.item_id == item_id).order_by(StepRow.position)
            ).all()
            last = steps[-1]
            if last.problem_type == "TextBox" and last.answer_type == "arithmetic":
                return key, last.id, str(last.answers[0]).replace("$$", ""), len(steps)
    pytest.fail("no item of two text-box steps in the content")


def test_practice_shows_reached_steps_and_a_next_problem(app: FastAPI) -> None:
    key, last, answer, _ = _last_step_target(app)
    client = browser_client(app, "student01")
    page = client.get(f"/practice/{key}")
    assert page.text.count('<li class="step') == 1, "only the reached step is shown"
    assert "Step 1 of 2" in page.text
    title = re.search(r"<title>(.*?)</title>", page.text)
    assert title and "$$" not in title.group(1) and title.group(1).startswith("Practice: ")
    csrf = csrf_of(page.text)
    done = client.post(
        f"/practice/steps/{last}/answer",
        data={"csrf_token": csrf, "response": answer, "attempt_id": "web-test-next-0001"},
    )
    assert "Problem complete." in done.text
    assert done.text.count('<li class="step') == 2
    found = re.search(r'<a class="button" href="([^"]+)">Next problem</a>', done.text)
    assert found and f"/practice/{key}" != found.group(1)
    assert 'class="next-pick"' in done.text


def test_a_guardian_reads_plain_words(app: FastAPI) -> None:
    engine = engine_of(app)
    guardian = browser_client(app, "guardian01")
    listing = guardian.get("/students")
    child = re.search(r'href="/students/(\d+)"', listing.text)
    assert child
    page = guardian.get(f"/students/{child.group(1)}")
    assert page.status_code == 200
    for heading in ("worked on", "learned", "What comes next", "How you can help"):
        assert heading in page.text
    text = re.sub(r"<[^>]+>", " ", page.text.split("<main", 1)[1])
    for label in ("Stuck", "p_mastery", "Practising", "Likely known", "sure", "Review due"):
        assert label not in text, label
    week = api_client(app, "guardian01").get(f"/api/v1/students/{child.group(1)}/week").json()
    assert week["help"] and week["problems"] >= 0
    with transaction(engine) as session:
        assert session.get(Section, _section(app)) is not None


def test_pacing_follows_the_class_calendar(app: FastAPI) -> None:
    section = _section(app)
    client = api_client(app, "teacher")
    every_day = client.get(f"/api/v1/sections/{section}/pacing").json()
    with transaction(engine_of(app)) as session:
        row = session.get(Section, section)
        assert row is not None
        row.practice_weekdays = "1000000"  # Mondays only
    mondays = client.get(f"/api/v1/sections/{section}/pacing").json()
    before = {r["student"]["id"]: r for r in every_day["students"]}
    later = [
        r for r in mondays["students"]
        if r["forecast"] and before[r["student"]["id"]]["forecast"]
        and r["forecast"] > before[r["student"]["id"]]["forecast"]
    ]  # fmt: skip
    assert later, "practising one day a week, the forecasts move later"


def test_other_forms_refuse_in_plain_words(app: FastAPI) -> None:
    key, last, _, _ = _last_step_target(app)
    student = user_id(engine_of(app), "student01")
    client = browser_client(app, "student01")
    page = client.get(f"/practice/{key}")
    empty = client.post(
        f"/practice/steps/{last}/answer", data={"csrf_token": csrf_of(page.text), "response": ""}
    )
    assert empty.status_code == 422 and "An answer needs at least 1 character." in empty.text
    goals = client.get(f"/students/{student}/goals")
    goal = client.post(
        f"/students/{student}/goals",
        data={"csrf_token": csrf_of(goals.text), "title": "Fractions"},
        follow_redirects=True,
    )
    goal_id = re.search(rf'action="/students/{student}/goals/(\d+)"', goal.text)
    assert goal_id
    bad = client.post(
        f"/students/{student}/goals/{goal_id.group(1)}",
        data={"csrf_token": csrf_of(goals.text), "target_date": "soon"},
    )
    assert bad.status_code == 422 and "Target date: Enter a date" in bad.text
    for response in (empty, bad):
        assert not RAW.search(response.text) and 'aria-label="Main"' in response.text
