"""Student pages: my path with recommendations, goals, growth, interests; the student page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from learnway.store._schema import User
from learnway.web._deps import (
    AnyUser,
    ContextDep,
    FormDep,
    Id,
    SessionDep,
    StudentOrTeacher,
    Teacher,
)
from learnway.web._forms import FormError, competency_choices, parse_form, parse_plain
from learnway.web._learning import course_for
from learnway.web._placement import placement_due
from learnway.web._schemas import GoalIn, GoalPatch, InterestsIn, MessageIn
from learnway.web._svg import growth_chart
from learnway.web.api import _students as api
from learnway.web.api._placement import map_of
from learnway.web.pages._render import render

router = APIRouter()


@router.get("/students", response_class=HTMLResponse)
def students_page(request: Request, user: AnyUser, session: SessionDep) -> HTMLResponse:
    data = api.list_students(user, session)
    return render(request, "students.html", title="Students", data=data)


@router.get("/students/{student_id}", response_class=HTMLResponse)
def student_page(
    request: Request,
    student_id: Id,
    user: AnyUser,
    session: SessionDep,
    context: ContextDep,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    if user.role == "guardian":
        week = api.get_week(student_id, user, session, context)
        return render(request, "guardian.html", title=f"{week.student.name}'s week", data=week)
    data = api.get_student(student_id, user, session, context)
    messages = api.get_messages(student_id, user, session).messages
    mine = user.id == student_id
    choices: list[tuple[str, str, str]] = []
    if user.role == "teacher":
        student = session.get(User, student_id)
        if student is not None:
            choices = competency_choices(course_for(session, context, student)[1])
    return render(
        request, "student.html", title="My profile" if mine else data.student.name, data=data,
        messages=messages, mine=mine, choices=choices, errors=errors or {},
        values=values or {}, status_code=status_code,
    )  # fmt: skip


@router.post("/students/{student_id}/messages")
def messages_send(
    request: Request,
    student_id: Id,
    user: Teacher,
    session: SessionDep,
    context: ContextDep,
    form: FormDep,
) -> Response:
    back = str(form.get("back") or f"/students/{student_id}")
    if not back.startswith("/") or back.startswith("//"):
        back = f"/students/{student_id}"
    try:
        body = parse_form(MessageIn, {"body": form.get("body", "")})
    except FormError as exc:
        values = {"body": str(form.get("body", ""))}
        return student_page(
            request, student_id, user, session, context, errors=exc.errors, values=values,
            status_code=422,
        )  # fmt: skip
    api.post_message(student_id, body, user, session)
    sep = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{sep}sent=1", 303)


@router.get("/students/{student_id}/path", response_class=HTMLResponse)
def path_page(
    request: Request, student_id: Id, user: AnyUser, session: SessionDep, context: ContextDep
) -> Response:
    if user.id == student_id and placement_due(session, user):
        return RedirectResponse(f"/students/{student_id}/placement", 303)
    path = api.get_path(student_id, user, session, context)
    recs = api.get_recommendations(student_id, user, session, context)
    mine = user.id == student_id
    title = "My path" if mine else f"Path of {path.student.name}"
    student = session.get(User, student_id)
    way = map_of(session, context, student) if student is not None else None
    return render(request, "path.html", title=title, path=path, recs=recs, mine=mine, way=way)


@router.get("/students/{student_id}/goals", response_class=HTMLResponse)
def goals_page(
    request: Request,
    student_id: Id,
    user: AnyUser,
    session: SessionDep,
    context: ContextDep,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    data = api.get_goals(student_id, user, session, context)
    path = api.get_path(student_id, user, session, context)
    mine = user.id == student_id
    return render(
        request, "goals.html", title="My goals" if mine else f"Goals of {data.student.name}",
        data=data, path=path, can_edit=user.role in ("student", "teacher"),
        errors=errors or {}, values=values or {}, status_code=status_code,
    )  # fmt: skip


@router.post("/students/{student_id}/goals")
def goals_add(
    request: Request,
    student_id: Id,
    user: StudentOrTeacher,
    session: SessionDep,
    context: ContextDep,
    form: FormDep,
) -> Response:
    values = {k: str(form.get(k) or "") for k in ("title", "competency", "target_date")}
    try:
        goal = parse_form(
            GoalIn, {k: v or None for k, v in values.items()} | {"title": values["title"]}
        )
    except FormError as exc:
        return goals_page(
            request, student_id, user, session, context, errors=exc.errors, values=values,
            status_code=422,
        )  # fmt: skip
    api.post_goal(student_id, goal, user, session, context)
    return RedirectResponse(f"/students/{student_id}/goals", 303)


@router.post("/students/{student_id}/goals/{goal_id}")
def goals_edit(
    request: Request,
    student_id: Id,
    goal_id: Id,
    user: StudentOrTeacher,
    session: SessionDep,
    context: ContextDep,
    form: FormDep,
) -> Response:
    patch = parse_plain(
        GoalPatch,
        {
            "title": form.get("title") or None,
            "target_date": form.get("target_date") or None,
            "status": form.get("status") or None,
        },
    )
    api.patch_goal(student_id, goal_id, patch, user, session, context)
    return RedirectResponse(f"/students/{student_id}/goals", 303)


@router.get("/students/{student_id}/growth", response_class=HTMLResponse)
def growth_page(
    request: Request, student_id: Id, user: AnyUser, session: SessionDep, context: ContextDep
) -> HTMLResponse:
    data = api.get_growth(student_id, user, session, context)
    mine = user.id == student_id
    return render(
        request, "growth.html", title="My growth" if mine else f"Growth of {data.student.name}",
        data=data, chart=growth_chart(data),
    )  # fmt: skip


@router.get("/students/{student_id}/interests", response_class=HTMLResponse)
def interests_page(
    request: Request, student_id: Id, user: AnyUser, session: SessionDep
) -> HTMLResponse:
    data = api.get_interests(student_id, user, session)
    mine = user.id == student_id
    return render(
        request, "interests.html", data=data, can_edit=user.role in ("student", "teacher"),
        title="My interests" if mine else f"Interests of {data.student.name}",
    )  # fmt: skip


@router.post("/students/{student_id}/interests")
def interests_save(
    request: Request, student_id: Id, user: StudentOrTeacher, session: SessionDep, form: FormDep
) -> Response:
    body = parse_plain(InterestsIn, {"interests": [str(v) for v in form.getlist("interests")]})
    api.put_interests(student_id, body, user, session)
    return RedirectResponse(f"/students/{student_id}/interests", 303)
