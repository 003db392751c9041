"""The authorization matrix: every route x every role x own and other data.

"Other" data is, for each role, every student, class and group it must not reach: another
school's and another district's, a second teacher's class in the same school, a student whose
enrollment has ended, and a disabled student (the roster's ``enabledUser`` false or
``tobedeleted``); a teacher's own ended class too. Every one must answer 404: 0 leaks.

The routes come from the application's route table. Each must carry a rule (a role gate or the
public marker); its path parameters must have own/other values below and its writes a body.
A new route without these fails here, so no route escapes the matrix.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from learnway.store import transaction
from learnway.store._schema import (
    Course,
    Enrollment,
    Experiment,
    Goal,
    Group,
    GroupMember,
    Guardianship,
    ItemRow,
    Org,
    Section,
    StepRow,
    User,
)
from learnway.web import DEMO_PASSWORD, create_app
from learnway.web._deps import Roles, _Public
from learnway.web._security import hash_password
from web.support import SETTINGS, csrf_of, engine_of

ROLES = {
    "student": "student01",
    "teacher": "teacher",
    "school_admin": "principal",
    "district_admin": "district",
    "guardian": "guardian01",
}


def rule_of(route: Any) -> Roles | _Public | None:
    """The role gate or public marker among the route's dependencies (searched in depth)."""
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Roles | _Public):
            return dep.call
        stack.extend(dep.dependencies)
    return None


def api_routes(app: FastAPI) -> list[Any]:
    """Every FastAPI route of the application, with its full path (included routers too)."""
    return [c for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)]


def _routes() -> list[Any]:
    return api_routes(create_app("sqlite://", settings=SETTINGS))


ROUTES = [(method, route.path) for route in _routes() for method in sorted(route.methods)]


def test_every_route_has_a_rule() -> None:
    missing = [f"{sorted(r.methods)} {r.path}" for r in _routes() if rule_of(r) is None]
    assert missing == [], f"routes without a role gate or the public marker: {missing}"


CODE = "solve_equations_using_the_subtraction_and_addition_properties_of_equality"


@dataclass
class World:
    """Ids of the demo school plus a second school and a second district (the 'other' data)."""

    app: FastAPI
    ids: dict[str, int]
    item: str
    step: int
    code: str
    new_group: Callable[[int], int]
    new_student: Callable[[], int]


def _add_school(engine: Engine, tag: str, district_id: int | None) -> dict[str, int]:
    hashed = hash_password(DEMO_PASSWORD)
    with transaction(engine) as s:
        course = s.scalar(select(Course).where(Course.sourced_id == "demo-course-algebra"))
        assert course is not None
        if district_id is None:
            district = Org(sourced_id=f"{tag}-district", name=f"{tag} district", type="district")
            s.add(district)
            s.flush()
            district_id = district.id
        school = Org(sourced_id=f"{tag}-school", name=f"{tag} school", type="school",
                     parent_id=district_id)  # fmt: skip
        s.add(school)
        s.flush()
        people = {}
        for role, name in (("teacher", f"{tag}_teacher"), ("student", f"{tag}_student")):
            user = User(
                sourced_id=f"{tag}-{name}", username=name, given_name=name,
                family_name=tag, role=role, org_id=school.id, password_hash=hashed,
            )  # fmt: skip
            s.add(user)
            s.flush()
            people[role] = user.id
        section = Section(sourced_id=f"{tag}-section", title=f"{tag} class",
                          course_id=course.id, school_id=school.id,
                          deadline=dt.date.today() + dt.timedelta(days=90))  # fmt: skip
        s.add(section)
        s.flush()
        for role, uid in people.items():
            s.add(Enrollment(sourced_id=f"{tag}-enr-{uid}", section_id=section.id, user_id=uid,
                             role=role))  # fmt: skip
        group = Group(section_id=section.id, name=f"{tag} group")
        s.add(group)
        s.flush()
        s.add(GroupMember(group_id=group.id, student_id=people["student"]))
        return {"student": people["student"], "section": section.id, "group": group.id}


def _add_roster_cases(engine: Engine, section1: int) -> dict[str, int]:
    """In the demo school: a student whose enrollment in the teacher's class ended yesterday,
    a disabled student in that class (a guardian of theirs too), a second teacher with a class
    and a student of their own, and a class the teacher taught until last week."""
    hashed = hash_password(DEMO_PASSWORD)
    yesterday = dt.date.today() - dt.timedelta(days=1)
    with transaction(engine) as s:
        teacher = s.scalars(select(User).where(User.username == "teacher")).one()
        guardian = s.scalars(select(User).where(User.username == "guardian01")).one()
        course_id = s.scalars(select(Section.course_id).where(Section.id == section1)).one()

        def person(name: str, role: str, enabled: bool = True) -> int:
            user = User(sourced_id=f"r-{name}", username=name, given_name=name,
                        family_name="Roster", role=role, org_id=teacher.org_id,
                        password_hash=hashed, enabled=enabled)  # fmt: skip
            s.add(user)
            s.flush()
            return user.id

        def section(tag: str) -> int:
            row = Section(sourced_id=f"r-{tag}", title=f"{tag} class", course_id=course_id,
                          school_id=teacher.org_id)  # fmt: skip
            s.add(row)
            s.flush()
            return row.id

        def enroll(section_id: int, user_id: int, role: str, end: dt.date | None = None) -> None:
            s.add(Enrollment(sourced_id=f"r-enr-{section_id}-{user_id}", section_id=section_id,
                             user_id=user_id, role=role, end_date=end))  # fmt: skip

        ended, disabled = (
            person("ended_student", "student"),
            person("off_student", "student", False),
        )
        enroll(section1, ended, "student", yesterday)
        enroll(section1, disabled, "student")
        s.add(Guardianship(guardian_id=guardian.id, student_id=disabled))
        teacher2, a2_student, a2_section = (
            person("teacher2", "teacher"),
            person("a2_student", "student"),
            section("a2"),
        )
        enroll(a2_section, teacher2, "teacher")
        enroll(a2_section, a2_student, "student")
        a2_group = Group(section_id=a2_section, name="a2 group")
        s.add(a2_group)
        ended_section = section("ended")
        enroll(ended_section, teacher.id, "teacher", yesterday - dt.timedelta(days=6))
        enroll(ended_section, a2_student, "student")
        s.flush()
        return {
            "ended_student": ended, "off_student": disabled, "a2_student": a2_student,
            "a2_section": a2_section, "a2_group": a2_group.id, "ended_section": ended_section,
        }  # fmt: skip


@pytest.fixture(scope="module")
def world(shared_app: FastAPI) -> Iterator[World]:
    engine = engine_of(shared_app)
    with transaction(engine) as s:
        district_id = s.scalar(select(Org.id).where(Org.sourced_id == "demo-district"))
        uid = dict(s.execute(select(User.username, User.id)).all())
        section1 = s.scalar(select(Section.id).where(Section.sourced_id == "demo-section-1"))
        assert section1 is not None
        uid_org = s.scalars(select(User.org_id).where(User.username == "student01")).one()
    b = _add_school(engine, "b", district_id)  # same district, another school
    c = _add_school(engine, "c", None)  # another district
    roster = _add_roster_cases(engine, section1)
    with transaction(engine) as s:
        goals = {}
        for name in ("student01", "student02"):
            goal = Goal(student_id=uid[name], title=f"goal of {name}")
            s.add(goal)
            s.flush()
            goals[name] = goal.id
        group = Group(section_id=section1, name="own group")
        s.add(group)
        s.flush()
        s.add(GroupMember(group_id=group.id, student_id=uid["student01"]))
        experiment = s.scalar(select(Experiment.id).where(Experiment.key == "demo-check-ins"))
        item, step = s.execute(
            select(ItemRow.key, StepRow.id).join(StepRow, StepRow.item_id == ItemRow.id).limit(1)
        ).one()
    ids = {
        "student01": uid["student01"], "student02": uid["student02"], "b_student": b["student"],
        "c_student": c["student"], "section1": section1, "b_section": b["section"],
        "c_section": c["section"], "own_group": group.id, "b_group": b["group"],
        "c_group": c["group"], "own_goal": goals["student01"], "other_goal": goals["student02"],
        "experiment": experiment,  # the demo's running experiment, on demo-school classes
        **roster,
    }  # fmt: skip

    def new_student() -> int:
        """A student of the teacher's class with a guardian, for routes that delete one."""
        with transaction(engine) as s:
            n = len(s.scalars(select(User.id).where(User.sourced_id.like("fresh-%"))).all())
            fresh = User(sourced_id=f"fresh-{n}", username=f"fresh{n}", given_name="Fresh",
                         family_name=f"Student{n}", role="student", org_id=uid_org)  # fmt: skip
            s.add(fresh)
            s.flush()
            s.add(Enrollment(sourced_id=f"fresh-enr-{n}", section_id=section1,
                             user_id=fresh.id, role="student"))  # fmt: skip
            return fresh.id

    def new_group(section_id: int) -> int:
        with transaction(engine) as s:
            fresh = Group(section_id=section_id, name="to delete")
            s.add(fresh)
            s.flush()
            return fresh.id

    yield World(
        shared_app,
        ids,
        item,
        step,
        "solve_equations_using_the_subtraction_and_addition_properties_of_equality",
        new_group,
        new_student,
    )


# For each role, every student, class and group it must not reach (each must answer 404).
OTHER_STUDENTS = {
    "student": ["student02", "off_student", "c_student"],
    "teacher": ["b_student", "c_student", "a2_student", "ended_student", "off_student"],
    "guardian": ["student02", "off_student", "c_student"],
    "school_admin": ["b_student", "c_student", "off_student"],
    "district_admin": ["c_student", "off_student"],
}
OTHER_SECTIONS = {
    "teacher": ["b_section", "c_section", "a2_section", "ended_section"],
    "school_admin": ["b_section", "c_section"],
    "district_admin": ["c_section"],
}
OTHER_GROUPS = {
    "teacher": ["b_group", "c_group", "a2_group"],
    "school_admin": ["b_group", "c_group"],
    "district_admin": ["c_group"],
}


def others(role: str) -> list[int]:
    """How many distinct "other" targets a role is tried on (the longest of its lists)."""
    return list(range(max(len(OTHER_STUDENTS[role]), len(OTHER_SECTIONS.get(role, [])),
                          len(OTHER_GROUPS.get(role, [])))))  # fmt: skip


def _pick(table: dict[str, list[str]], role: str, n: int, default: str) -> str:
    keys = table.get(role, [default])
    return keys[min(n, len(keys) - 1)]


def path_values(
    world: World, role: str, own: bool, method: str, path: str, n: int = 0
) -> dict[str, str]:
    ids = world.ids
    student = "student01" if own else _pick(OTHER_STUDENTS, role, n, "b_student")
    section = "section1" if own else _pick(OTHER_SECTIONS, role, n, "b_section")
    group = "own_group" if own else _pick(OTHER_GROUPS, role, n, "b_group")
    values: dict[str, str] = {}
    for name in re.findall(r"{(\w+)(?::\w+)?}", path):
        if name == "student_id":
            deletes = method == "DELETE" or path.endswith("/delete")
            values[name] = str(world.new_student() if own and deletes else ids[student])
        elif name == "section_id":
            values[name] = str(ids[section])
        elif name == "group_id":
            if method == "DELETE" or path.endswith("/delete"):
                values[name] = str(world.new_group(ids[section]))
            else:
                values[name] = str(ids[group])
        elif name == "goal_id":
            values[name] = str(ids["own_goal"])
        elif name == "item_key":
            values[name] = world.item
        elif name == "step_id":
            values[name] = str(world.step)
        elif name == "code":
            values[name] = world.code
        elif name == "experiment_id":
            values[name] = str(ids["experiment"])
        elif name == "figure":
            values[name] = "results"
        else:
            pytest.fail(f"no own/other values for path parameter {name!r} of {path}")
    return values


OWNABLE = {"student_id", "section_id", "group_id"}


def body_of(
    world: World, role: str, own: bool, method: str, path: str, n: int = 0
) -> dict[str, Any]:
    """JSON (API) or form (page) body of a write; every write route must be listed."""
    ids = world.ids
    student = ids["student01" if own else _pick(OTHER_STUDENTS, role, n, "b_student")]
    members = [student]
    same_password = {"current_password": DEMO_PASSWORD, "new_password": DEMO_PASSWORD}
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/api/v1/tokens"): {"json": {"username": "teacher", "password": DEMO_PASSWORD}},
        ("DELETE", "/api/v1/tokens/current"): {},
        ("POST", "/api/v1/students/{student_id}/goals"): {"json": {"title": "Matrix goal"}},
        ("PATCH", "/api/v1/students/{student_id}/goals/{goal_id}"): {"json": {"title": "Edited"}},
        ("PUT", "/api/v1/students/{student_id}/interests"): {"json": {"interests": ["music"]}},
        ("POST", "/api/v1/steps/{step_id}/attempts"): {"json": {"response": "1"}},
        ("POST", "/api/v1/sections/{section_id}/groups"): {
            "json": {"name": "Matrix", "student_ids": members}},
        ("PATCH", "/api/v1/groups/{group_id}"): {"json": {"name": "Renamed"}},
        ("DELETE", "/api/v1/groups/{group_id}"): {},
        ("POST", "/api/v1/assignments"): {
            "json": {"student_id": student, "competency": world.code}},
        ("POST", "/login"): {"data": {"username": "x", "password": "y"}},
        ("POST", "/lti/login"): {"data": {"iss": "x", "login_hint": "y", "target_link_uri": "z"}},
        ("POST", "/lti/launch"): {"data": {"id_token": "a.b.c", "state": "s"}},
        ("POST", "/lti/continue"): {"data": {"ticket": "not-signed"}},
        ("POST", "/lti/deep-link"): {"data": {"ticket": "not-signed", "competency": "1"}},
        ("POST", "/logout"): {"data": {}},
        ("POST", "/students/{student_id}/goals"): {"data": {"title": "Matrix goal"}},
        ("POST", "/students/{student_id}/goals/{goal_id}"): {"data": {"title": "Edited"}},
        ("POST", "/students/{student_id}/interests"): {"data": {"interests": ["music"]}},
        ("POST", "/practice/steps/{step_id}/answer"): {"data": {"response": "1"}},
        ("POST", "/sections/{section_id}/groups"): {
            "data": {"name": "Matrix", "student_ids": [str(m) for m in members]}},
        ("POST", "/groups/{group_id}/edit"): {"data": {"name": "Renamed"}},
        ("POST", "/groups/{group_id}/delete"): {"data": {}},
        ("POST", "/assignments"): {"data": {"student_id": str(student), "competency": world.code}},
        ("DELETE", "/api/v1/tokens"): {},
        ("POST", "/logout/everywhere"): {"data": {}},
        ("PUT", "/api/v1/me/password"): {"json": same_password},
        ("POST", "/account/password"): {"data": same_password},
        ("POST", "/api/v1/me/totp"): {},
        ("POST", "/account/totp"): {"data": {}},
        ("POST", "/api/v1/me/totp/confirm"): {"json": {"code": "000000"}},
        ("POST", "/account/totp/confirm"): {"data": {"code": "000000"}},
        ("DELETE", "/api/v1/students/{student_id}"): {},
        ("POST", "/students/{student_id}/delete"): {"data": {"confirm": "delete"}},
        ("POST", "/api/v1/students/{student_id}/placement"): {},
        ("POST", "/api/v1/students/{student_id}/placement/answers"): {
            "json": {"step": world.step, "response": "1"}},
        ("POST", "/api/v1/students/{student_id}/placement/skip"): {},
        ("POST", "/students/{student_id}/placement/start"): {"data": {}},
        ("POST", "/students/{student_id}/placement/skip"): {"data": {}},
        ("POST", "/api/v1/sections/{section_id}/needs/seen"): {
            "json": {"student_id": student, "kind": "stuck"}},
        ("POST", "/sections/{section_id}/needs/seen"): {
            "data": {"student_id": str(student), "kind": "stuck"}},
        ("POST", "/sections/{section_id}/needs/group"): {
            "data": {"student_id": str(student), "group_id": str(ids["own_group"])}},
        ("POST", "/api/v1/groups/{group_id}/members"): {"json": {"student_id": student}},
        ("POST", "/api/v1/students/{student_id}/messages"): {"json": {"body": "Hello"}},
        ("POST", "/api/v1/experiments"): {"json": {
            "key": f"authz-{role.replace('_', '-')}-{n}", "title": "t", "kind": "intervention",
            "conditions": [{"name": "a", "share": 1}, {"name": "b", "share": 1}], "control": "a",
            "sections": [ids["section1"]], "start_date": "2026-01-01", "end_date": "2026-02-01"}},
        ("POST", "/experiments"): {"data": {
            "key": f"authz-page-{role.replace('_', '-')}-{n}", "title": "t", "kind": "intervention",
            "name_1": "a", "share_1": "1", "name_2": "b", "share_2": "1",
            "sections": [str(ids["section1"])], "outcome": "mastery_per_hour",
            "start_date": "2026-01-01", "end_date": "2026-02-01"}},
        ("POST", "/api/v1/experiments/{experiment_id}/launch"): {},
        ("POST", "/api/v1/experiments/{experiment_id}/finish"): {},
        ("POST", "/experiments/{experiment_id}/launch"): {"data": {}},
        ("POST", "/experiments/{experiment_id}/finish"): {"data": {}},
        ("POST", "/api/v1/experiments/{experiment_id}/exclusions"): {
            "json": {"student_id": student, "reason": "consent"}},
        ("POST", "/experiments/{experiment_id}/exclusions"): {
            "data": {"student_id": str(student), "reason": "consent"}},
        ("POST", "/students/{student_id}/messages"): {"data": {"body": "Hello"}},
        ("POST", "/students/{student_id}/placement/answer"): {
            "data": {"step": str(world.step), "response": "1"}},
    }  # fmt: skip
    if method in ("GET", "HEAD"):
        return {}
    if (method, path) not in bodies:
        pytest.fail(f"no body for {method} {path}: add one to the matrix")
    return bodies[(method, path)]


def signed_in(app: FastAPI, username: str) -> TestClient:
    client = TestClient(app)
    page = client.get("/login")
    client.post("/login", data={"username": username, "password": DEMO_PASSWORD,
                                "csrf_token": csrf_of(page.text)})  # fmt: skip
    client.headers["X-CSRF-Token"] = csrf_of(client.get("/students").text)
    return client


@pytest.fixture(scope="module")
def clients(world: World) -> dict[str, TestClient]:
    return {role: signed_in(world.app, name) for role, name in ROLES.items()}


# Routes that end every sign-in of the caller (the shared clients are signed in again after).
REVOKE_ALL = {"/logout/everywhere", "/api/v1/tokens", "/api/v1/me/password", "/account/password"}
# Routes by which administrators reach their school's disabled students too (a request to
# export or delete the record of someone who has left).
ON_REQUEST = {
    ("DELETE", "/api/v1/students/{student_id}"),
    ("POST", "/students/{student_id}/delete"),
    ("GET", "/api/v1/students/{student_id}/record"),
    ("GET", "/students/{student_id}/record"),
}
ADMINS = {"school_admin", "district_admin"}
# Answers that are right for the caller's own data: a one-time code of "000000" is wrong.
EXPECTED = {("POST", "/api/v1/me/totp/confirm"): 422, ("POST", "/account/totp/confirm"): 422}
# The demo's experiment is running (launch refused), then finished by the first leader (so
# the second leader's stop and every later exclusion are refused).
EXPECTED |= {
    (method, f"{prefix}/experiments/{{experiment_id}}/{step}"): 409
    for prefix in ("/api/v1", "") for step in ("launch", "finish", "exclusions")
    for method in ("POST",)
}  # fmt: skip
# A placement answer to a question the check is not asking (no check under way) is refused.
EXPECTED |= {
    ("POST", "/api/v1/students/{student_id}/placement/answers"): 409,
    ("POST", "/students/{student_id}/placement/answer"): 409,
}


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_route(method: str, path: str, world: World, clients: dict[str, TestClient]) -> None:
    route = next(r for r in api_routes(world.app) if r.path == path and method in r.methods)
    rule = rule_of(route)
    assert rule is not None
    api = path.startswith("/api/")
    ownable = bool(OWNABLE & set(re.findall(r"{(\w+)}", path))) or path.endswith("/assignments")
    revokes = path in ("/logout", "/api/v1/tokens/current") or path in REVOKE_ALL

    def call(client: TestClient, role: str, own: bool, n: int = 0) -> int:
        template = re.sub(r"{(\w+):\w+}", r"{\1}", path)  # a converter: {code:path}
        url = template.format(**path_values(world, role, own, method, path, n))
        body = body_of(world, role, own, method, path, n)
        return client.request(method, url, follow_redirects=False, **body).status_code

    anonymous = call(TestClient(world.app), "student", True)
    if isinstance(rule, _Public):
        # (the sign-in form may refuse a post without its CSRF cookie, but never asks to sign in)
        assert anonymous != 401, f"public route answered {anonymous}"
        return
    assert anonymous == (401 if api else 303), "anonymous callers must be refused"
    for role, username in ROLES.items():
        client = signed_in(world.app, username) if revokes else clients[role]
        status = call(client, role, True)
        if path in REVOKE_ALL:
            clients[role] = signed_in(world.app, username)
        if role not in rule.roles:
            assert status == 403, f"{role} on own data: {status}, expected 403"
            continue
        expected = EXPECTED.get((method, path))
        assert status < 400 or status == expected, f"{role} on own data: {status}, expected success"
        if ownable:
            for n in others(role):
                target = _pick(OTHER_STUDENTS, role, n, "b_student")
                if target == "off_student" and (method, path) in ON_REQUEST and role in ADMINS:
                    continue  # administrators answer requests about their disabled students
                status = call(client, role, False, n)
                assert status == 404, f"{role} on other data #{n}: {status}, expected 404"
