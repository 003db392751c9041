"""LTI Advantage end to end against a third-party platform (``lti1p3platform``, see
``lti_platform.py``): both served by uvicorn on loopback, a browser played by ``requests``.

One journey per backend: dynamic registration, a teacher's deep linking, a student's launch of
the placed link, mastery posted to the gradebook (and retried when the gradebook is down), a
roster synced from the course's membership, and a launch by a person the sync made.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
import requests
from sqlalchemy import Engine, select, update
from typer.testing import CliRunner

from learnway.cli import app as cli
from learnway.store import live_versions, transaction
from learnway.store._schema import Enrollment, Mastery, Org, Section, User
from learnway.web._lti_models import LtiLink, LtiScore
from learnway.web._lti_services import sync_grades
from learnway.web._models import LtiPlatform
from web.lti_platform import CLIENT_ID, DEPLOYMENT, Platform, form_of, serve
from web.support import make_app

TOKEN = "one-time-registration-token"


@dataclass
class World:
    tool: str
    platform: Platform
    engine: Engine

    def cli(self, *args: str) -> str:
        url = self.engine.url.render_as_string(hide_password=False)
        result = CliRunner().invoke(cli, [*args, "--database", url])
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())  # as one line, however the console wraps it


@pytest.fixture
def world(demo_engine: Engine) -> Iterator[World]:
    with serve(make_app(demo_engine)) as tool:
        platform = Platform(tool)
        with serve(platform.app) as base:
            platform.base = base
            yield World(tool, platform, demo_engine)


def _people(engine: Engine) -> dict[str, str]:
    """A class of the demo school: its teacher's, one student's and its own sourcedIds."""
    with transaction(engine) as session:
        teacher = session.scalars(select(User).where(User.username == "teacher")).one()
        section_id = session.scalars(
            select(Enrollment.section_id).where(
                Enrollment.user_id == teacher.id, Enrollment.role == "teacher"
            )
        ).first()
        student = session.scalars(
            select(User)
            .join(Enrollment, Enrollment.user_id == User.id)
            .where(Enrollment.section_id == section_id, Enrollment.role == "student")
            .order_by(User.id)
        ).first()
        section = session.get(Section, section_id)
        school = session.scalars(select(Org.sourced_id).where(Org.type == "school")).first()
        assert student is not None and section is not None and school is not None
        return {
            "teacher": teacher.sourced_id, "student": student.sourced_id,
            "student_id": str(student.id), "section": section.sourced_id,
            "section_id": str(section.id), "school": school,
        }  # fmt: skip


def _launch(
    world: World, browser: requests.Session, user: str, plan: dict[str, object]
) -> requests.Response:
    """The LMS sends the browser to Learnway's login; Learnway to the LMS's authorization
    endpoint; the LMS answers with the signed launch, which the browser posts to Learnway."""
    page = browser.get(world.platform.login_url(user, plan), timeout=30)
    assert page.status_code == 200, page.text
    action, fields = form_of(page.text)
    assert action == f"{world.tool}/lti/launch" and set(fields) == {"id_token", "state"}
    return browser.post(action, data=fields, allow_redirects=False, timeout=30)


def _register(world: World, school: str) -> None:
    output = world.cli("lti-registration-url", "--server", world.tool, "--school", school)
    url = re.search(r"(http://\S+/lti/register\?code=\S+)", output)
    assert url, output
    config = f"{world.platform.base}/.well-known/openid-configuration"
    query = urlencode({"openid_configuration": config, "registration_token": TOKEN})
    page = requests.get(f"{url.group(1)}&{query}", timeout=30)
    assert page.status_code == 200 and "registered" in page.text, page.text
    assert f"frame-ancestors {world.platform.base}" in page.headers["content-security-policy"]
    assert "x-frame-options" not in page.headers
    sent = world.platform.registered
    assert sent is not None and sent["jwks_uri"] == f"{world.tool}/lti/jwks"
    assert sent["initiate_login_uri"] == f"{world.tool}/lti/login"
    again = requests.get(f"{url.group(1)}&{query}", timeout=30)  # the code is spent
    assert again.status_code == 403 and "used" in again.text


def _practised(engine: Engine, student: int) -> set[int]:
    """The competencies the student has a learner state for (the demo's practice history)."""
    with transaction(engine) as session:
        return set(
            session.scalars(
                select(Mastery.competency_id).where(
                    Mastery.student_id == student, Mastery.model_version.in_(live_versions(session))
                )
            )
        )


def _mastery(engine: Engine, student: int, competencies: list[int]) -> float:
    with transaction(engine) as session:
        found = dict(
            session.execute(
                select(Mastery.competency_id, Mastery.p_mastery).where(
                    Mastery.student_id == student,
                    Mastery.competency_id.in_(competencies),
                    Mastery.model_version.in_(live_versions(session)),
                )
            ).all()
        )
    return round(100 * sum(found.get(c, 0.0) for c in competencies) / len(competencies), 2)


def _set_mastery(engine: Engine, student: int, competency: int, p: float) -> None:
    with transaction(engine) as session:
        changed = session.execute(
            update(Mastery)
            .where(Mastery.student_id == student, Mastery.competency_id == competency)
            .values(p_mastery=p)
        )
        assert changed.rowcount >= 1  # type: ignore[attr-defined]


def test_deep_linking_grades_and_rosters_with_a_third_party_platform(world: World) -> None:
    people = _people(world.engine)
    _register(world, people["school"])
    with transaction(world.engine) as session:
        registered = session.scalars(select(LtiPlatform)).one()
        assert (registered.client_id, registered.deployment_ids) == (CLIENT_ID, [DEPLOYMENT])
        assert registered.jwks_url == f"{world.platform.base}/jwks"
    course = {"context": "course-1", "title": "Algebra 1", "section": people["section"]}

    # 1. Deep linking: the teacher picks two competencies; the LMS gets a line item.
    teacher = requests.Session()
    picker = _launch(world, teacher, "lms-teacher-1",
                     {"role": "Instructor", "sourced_id": people["teacher"], "deep_linking": True,
                      **course})  # fmt: skip
    assert picker.status_code == 200, picker.text
    assert f"frame-ancestors {world.platform.base}" in picker.headers["content-security-policy"]
    offered = [int(i) for i in re.findall(r'name="competency" value="(\d+)"', picker.text)]
    assert len(offered) > 10
    _, hidden = form_of(picker.text)
    practised = _practised(world.engine, int(people["student_id"]))
    chosen = [c for c in offered if c in practised][:2]
    assert len(chosen) == 2
    answer = teacher.post(
        f"{world.tool}/lti/deep-link",
        data={"ticket": hidden["ticket"], "competency": [str(c) for c in chosen],
              "title": "Unit 1 mastery"},
        timeout=30,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert f"form-action 'self' {world.platform.base}" in answer.headers["content-security-policy"]
    back, jwt_field = form_of(answer.text)
    assert back == f"{world.platform.base}/deep-link-return" and set(jwt_field) == {"JWT"}
    placed = teacher.post(back, data=jwt_field, timeout=30)  # checked by lti1p3platform
    assert placed.status_code == 200 and placed.json() == {"placed": 1}, placed.text
    item = world.platform.placed[0]
    assert item["type"] == "ltiResourceLink" and item["title"] == "Unit 1 mastery"
    line_item = f"{world.platform.base}/lineitems/1"
    assert world.platform.line_items[line_item].score_maximum == 100

    # 2. The student opens the placed link: signed in, their account and the line item kept.
    student = requests.Session()
    launch = _launch(world, student, "lms-student-1",
                     {"role": "Learner", "sourced_id": people["student"], "resource_link": "rl-1",
                      "custom": item["custom"], **course})  # fmt: skip
    assert launch.status_code == 303, launch.text
    assert launch.headers["location"] == f"/students/{people['student_id']}/path"
    me = student.get(f"{world.tool}/api/v1/me", timeout=30).json()["user"]
    assert me["id"] == int(people["student_id"])
    # an instructor's launch of the same link lands on the teacher's view of that class
    view = _launch(world, requests.Session(), "lms-teacher-1",
                   {"role": "Instructor", "sourced_id": people["teacher"], "resource_link": "rl-1",
                    "custom": item["custom"], **course})  # fmt: skip
    assert view.headers["location"] == f"/sections/{people['section_id']}/heatmap"

    # 3. Grades: the student's mastery of the two competencies, out of 100. The launches named
    # no line item: Learnway finds the one the LMS made, through its line items service.
    student_id = int(people["student_id"])
    expected = _mastery(world.engine, student_id, chosen)
    output = world.cli("lti-sync", "--no-rosters")
    assert "1 changed, 1 sent" in output, output
    with transaction(world.engine) as session:
        assert session.scalars(select(LtiLink.lineitem_url)).one() == line_item
    scores = world.platform.line_items[line_item].scores
    assert set(scores) == {"lms-student-1"}
    assert scores["lms-student-1"]["scoreGiven"] == expected
    assert scores["lms-student-1"]["scoreMaximum"] == 100
    assert "0 changed, 0 sent" in world.cli("lti-sync", "--no-rosters")  # nothing changed

    # ... a change is posted again; the gradebook down, it waits and is retried.
    _set_mastery(world.engine, student_id, chosen[0], 0.123456)
    world.platform.fail_scores = 1
    now = dt.datetime.now(dt.UTC)
    first = sync_grades(world.engine, now=now)
    assert (first.queued, first.sent, first.retrying) == (1, 0, 1), first
    with transaction(world.engine) as session:
        row = session.scalars(select(LtiScore)).one()
        assert (row.status, row.attempts) == ("pending", 1) and "503" in (row.last_error or "")
        assert row.next_try_at == now + dt.timedelta(minutes=1)
    assert sync_grades(world.engine, now=now + dt.timedelta(seconds=30)).sent == 0  # not due
    second = sync_grades(world.engine, now=now + dt.timedelta(minutes=2))
    assert (second.sent, second.retrying) == (1, 0)
    assert scores["lms-student-1"]["scoreGiven"] == _mastery(world.engine, student_id, chosen)
    assert scores["lms-student-1"]["scoreGiven"] != expected

    # ... and a placement the LMS made no column for gets one through that service.
    with transaction(world.engine) as session:
        placed_link = session.scalars(select(LtiLink)).one()
        session.add(LtiLink(key="placed-without-a-column", context_id=placed_link.context_id,
                            title="Unit 1, first skill", competency_ids=chosen[:1],
                            created_by_id=placed_link.created_by_id))  # fmt: skip
    made = sync_grades(world.engine)
    assert (made.queued, made.sent) == (1, 1), made
    column = world.platform.line_items[f"{world.platform.base}/lineitems/2"]
    assert (column.resource_id, column.label) == ("placed-without-a-column", "Unit 1, first skill")
    assert set(column.scores) == {"lms-student-1"}

    # 4. Rosters: a course with no OneRoster class becomes a section from its membership.
    other = {"context": "course-2", "title": "Geometry club"}
    opened = _launch(
        world,
        requests.Session(),
        "lms-teacher-1",
        {"role": "Instructor", "sourced_id": people["teacher"], "resource_link": "rl-9", **other},
    )
    assert opened.status_code == 303
    learner = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
    world.platform.members = [
        {"user_id": "lms-teacher-1", "lis_person_sourcedid": people["teacher"],
         "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]},
        {"user_id": "lms-student-1", "lis_person_sourcedid": people["student"], "roles": [learner]},
        {"user_id": "lms-new-9", "name": "Ada Byron", "given_name": "Ada",
         "family_name": "Byron", "email": "ada@example.edu", "roles": [learner]},
        {"user_id": "lms-gone-3", "name": "Al Left", "roles": [learner], "status": "Inactive"},
    ]  # fmt: skip
    output = world.cli("lti-sync", "--no-grades")
    assert "1 courses synced, 1 left to OneRoster, 1 people made, 3 enrolled" in output, output
    with transaction(world.engine) as session:
        section = session.scalars(select(Section).where(Section.sourced_id.like("lti-%"))).one()
        enrolled = session.execute(
            select(User.given_name, Enrollment.role)
            .join(Enrollment, Enrollment.user_id == User.id)
            .where(Enrollment.section_id == section.id)
            .order_by(User.given_name)
        ).all()
        assert section.title == "Geometry club"
    assert ("Ada", "student") in enrolled and len(enrolled) == 3
    world.platform.members = world.platform.members[:3]
    world.platform.members.pop(1)  # the student left the club
    assert "1 unenrolled" in world.cli("lti-sync", "--no-grades")

    # 5. The person the sync made launches without a person_sourcedid: found by the sync's link.
    ada = requests.Session()
    came = _launch(world, ada, "lms-new-9", {"role": "Learner", "resource_link": "rl-9", **other})
    assert came.status_code == 303, came.text
    assert ada.get(f"{world.tool}/api/v1/me", timeout=30).json()["user"]["name"] == "Ada Byron"
