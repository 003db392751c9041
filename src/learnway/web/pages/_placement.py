"""Placement pages: the check a student new to a course takes, one question at a time, and a
teacher's "place again"."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from learnway.web._deps import (
    AnyUser,
    ContextDep,
    FormDep,
    Id,
    SessionDep,
    Staff,
    Student,
    StudentOrTeacher,
)
from learnway.web._placement import PlacementAnswerIn, PlacementOut
from learnway.web.api import _placement as api
from learnway.web.pages._render import render

router = APIRouter()


def _page(
    request: Request,
    data: PlacementOut,
    *,
    mine: bool,
    error: str | None = None,
    response: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    title = "Placement check" if mine else f"Placement of {data.student.name}"
    return render(
        request, "placement.html", title=title, data=data, mine=mine, error=error,
        response=response, status_code=status_code,
    )  # fmt: skip


@router.get("/students/{student_id}/placement", response_class=HTMLResponse)
def placement_page(
    request: Request, student_id: Id, user: AnyUser, session: SessionDep, context: ContextDep
) -> HTMLResponse:
    data = api.get_placement(student_id, user, session, context)
    return _page(request, data, mine=user.id == student_id)


@router.post("/students/{student_id}/placement/start")
def placement_start(
    student_id: Id, user: StudentOrTeacher, session: SessionDep, context: ContextDep
) -> Response:
    api.post_placement(student_id, user, session, context)
    if user.id == student_id:
        return RedirectResponse(f"/students/{student_id}/placement", 303)
    return RedirectResponse(f"/students/{student_id}/placement?asked=1", 303)


@router.post("/students/{student_id}/placement/skip")
def placement_skip(
    student_id: Id, user: Student, session: SessionDep, context: ContextDep
) -> Response:
    api.post_placement_skip(student_id, user, session, context)
    return RedirectResponse(f"/students/{student_id}/path", 303)


@router.post("/students/{student_id}/placement/answer", response_class=HTMLResponse)
def placement_answer(
    request: Request,
    student_id: Id,
    user: Student,
    session: SessionDep,
    context: ContextDep,
    form: FormDep,
) -> Response:
    raw = str(form.get("response", "")).strip()
    step_text = str(form.get("step", ""))
    if not raw:
        data = api.get_placement(student_id, user, session, context)
        return _page(
            request, data, mine=True, error="Write an answer (or your best guess) first.",
            status_code=422,
        )  # fmt: skip
    try:
        given = PlacementAnswerIn(step=int(step_text) if step_text.isdigit() else 0, response=raw)
    except ValueError:
        data = api.get_placement(student_id, user, session, context)
        return _page(
            request, data, mine=True, error="That answer is too long to check.",
            response=raw[:200], status_code=422,
        )  # fmt: skip
    try:
        api.post_placement_answer(student_id, given, user, session, context)
    except HTTPException as exc:
        if exc.status_code == 404:
            raise
        # nothing was stored: the answer was refused before the attempt was written
        data = api.get_placement(student_id, user, session, context)
        return _page(
            request, data, mine=True, error=str(exc.detail), response=raw[:200],
            status_code=exc.status_code,
        )  # fmt: skip
    return RedirectResponse(f"/students/{student_id}/placement", 303)


@router.get("/sections/{section_id}/placement", response_class=HTMLResponse)
def section_placement_page(
    request: Request, section_id: Id, user: Staff, session: SessionDep, context: ContextDep
) -> HTMLResponse:
    data = api.get_section_placement(section_id, user, session, context)
    return render(request, "placement_section.html", title=f"Placement: {data.title}", data=data)
