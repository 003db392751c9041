"""What the pages show comes from the live learner state: true to the evidence, the same figure
on every page, updating after late answers, and unchanged in shape when the model changes."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from learnway.store import (
    JOB_HANDLERS,
    AttemptIn,
    build_model,
    calibrate_course,
    load_course,
    record_practice,
    run_pending,
    transaction,
)
from learnway.store._schema import Attempt, FrameworkRow, Section, StepAlignment
from web.support import api_client, browser_client, engine_of, user_id

PAGES = ("", "/path", "/goals", "/growth", "/interests")


def _sections(app: FastAPI) -> list[int]:
    with transaction(engine_of(app)) as session:
        return list(session.scalars(select(Section.id).order_by(Section.id)))


def test_the_heatmap_shows_no_mastery_without_an_attempt(app: FastAPI) -> None:
    client = api_client(app, "teacher")
    shown = credited = 0
    for section in _sections(app):
        data = client.get(f"/api/v1/sections/{section}/heatmap").json()
        for row in data["rows"]:
            for status, attempts, p in zip(row["status"], row["evidence"], row["p"], strict=True):
                if status in ("mastered", "due_for_review"):
                    shown += 1
                    assert attempts >= 1 and p >= 0.85
                credited += status == "likely_known"
        hidden = client.get(
            f"/api/v1/sections/{section}/heatmap", params={"likely_known": "false"}
        ).json()
        assert all(s != "likely_known" for r in hidden["rows"] for s in r["status"])
    assert shown and credited


def test_path_growth_and_profile_agree(app: FastAPI) -> None:
    client = api_client(app, "teacher")
    for username in ("student01", "student02", "student17"):
        student = user_id(engine_of(app), username)
        path = client.get(f"/api/v1/students/{student}/path").json()
        growth = client.get(f"/api/v1/students/{student}/growth").json()
        assert growth["points"] and growth["points"][-1]["mastered"] == path["mastered"]
        by_units = sum(u["mastered"] for u in path["units"])
        assert by_units == path["mastered"]


def test_a_late_answer_shows_updating_until_the_worker_has_replayed(app: FastAPI) -> None:
    engine = engine_of(app)
    student = user_id(engine, "student03")
    with transaction(engine) as session:
        framework_id = session.scalar(
            select(FrameworkRow.id).where(FrameworkRow.key.like("oatutor-%"))
        )
        assert framework_id is not None
        first = session.scalar(
            select(func.min(Attempt.timestamp)).where(Attempt.student_id == student)
        )
        step = session.scalar(select(StepAlignment.step_id).limit(1))
        assert first is not None and step is not None
        late = AttemptIn(
            id="tablet-7", student_id=student, step_id=step, correct=True,
            timestamp=first - dt.timedelta(hours=1), source="import",
        )  # fmt: skip
        record_practice(session, load_course(session, framework_id), framework_id, [late])
    client = api_client(app, "teacher")
    assert client.get(f"/api/v1/students/{student}/path").json()["updating"] is True
    page = browser_client(app, "teacher").get(f"/students/{student}/path")
    assert "Updating" in page.text
    assert run_pending(engine, JOB_HANDLERS) == 1
    assert client.get(f"/api/v1/students/{student}/path").json()["updating"] is False


@pytest.mark.parametrize("family", ["bkt-forgetting", "elo", "pfa"])
def test_every_page_renders_after_the_live_model_changes(app: FastAPI, family: str) -> None:
    engine = engine_of(app)
    student = user_id(engine, "student05")
    teacher = browser_client(app, "teacher")
    before = api_client(app, "teacher").get(f"/api/v1/students/{student}/path").json()
    with transaction(engine) as session:
        framework_id = session.scalar(
            select(FrameworkRow.id).where(FrameworkRow.key.like("oatutor-%"))
        )
        assert framework_id is not None
        report = calibrate_course(session, framework_id, candidates=(family,))
    assert report.version is not None and report.family == family
    build_model(engine, report.version)
    after = api_client(app, "teacher").get(f"/api/v1/students/{student}/path").json()
    assert after["total"] == before["total"]
    changed = [
        (a["p_mastery"], b["p_mastery"])
        for ua, ub in zip(after["units"], before["units"], strict=True)
        for a, b in zip(ua["competencies"], ub["competencies"], strict=True)
        if a["p_mastery"] != b["p_mastery"]
    ]
    assert changed  # the new model's estimates are the ones shown
    for suffix in PAGES:
        assert teacher.get(f"/students/{student}{suffix}").status_code == 200, suffix
    for section in _sections(app):
        for view in ("heatmap", "needs", "pacing", "groups"):
            assert teacher.get(f"/sections/{section}/{view}").status_code == 200, view
    leader = browser_client(app, "principal")
    for report_page in ("/reports/mastery", "/reports/gaps", "/reports/supports"):
        assert leader.get(report_page).status_code == 200, report_page
    own = browser_client(app, "student05")
    for suffix in PAGES:
        assert own.get(f"/students/{student}{suffix}").status_code == 200, suffix
