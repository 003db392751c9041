"""Teacher pages: classes, heatmap, who needs me today, groups and assignments, pacing."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape
from sqlalchemy import select

from learnway.store._schema import Group
from learnway.web._access import open_group, open_section, open_student, section_students
from learnway.web._catalog import Catalog
from learnway.web._classes import section_course
from learnway.web._deps import ContextDep, FormDep, Id, SessionDep, Staff, Teacher
from learnway.web._forms import (
    FormError,
    competency_choices,
    parse_form,
    parse_plain,
    resolve_competency,
)
from learnway.web._learning import course_for, person
from learnway.web._schemas import (
    AssignmentIn,
    GroupIn,
    GroupPatch,
    HeatmapOut,
    MemberIn,
    NeedSeenIn,
)
from learnway.web._svg import estimate_chart, pacing_chart
from learnway.web.api import _classes as api
from learnway.web.api import _students as students_api
from learnway.web.pages._render import render

router = APIRouter()


@router.get("/sections", response_class=HTMLResponse)
def sections_page(request: Request, user: Staff, session: SessionDep) -> HTMLResponse:
    data = api.list_sections(user, session)
    return render(request, "sections.html", title="Classes", data=data)


@router.get("/sections/{section_id}/heatmap", response_class=HTMLResponse)
def heatmap_page(
    request: Request,
    section_id: Id,
    user: Staff,
    session: SessionDep,
    context: ContextDep,
    unit: Annotated[str | None, Query(max_length=120)] = None,
    sort: Annotated[str, Query(max_length=120)] = "name",
    likely_known: bool = True,
) -> HTMLResponse:
    # no unit chosen: the unit of the class's recent work; "all": every unit
    data = api.get_heatmap(
        section_id, user, session, context, unit=None if unit in (None, "", ALL) else unit,
        sort=sort, likely_known=likely_known, open_current=unit is None,
    )  # fmt: skip
    return render(
        request, "heatmap.html", title=f"Heatmap: {data.section.title}", data=data,
        body=heatmap_body(data),
    )  # fmt: skip


ALL = "all"
SYMBOLS = {"mastered": "●", "practicing": "◐", "due_for_review": "↻", "stuck": "⚠",
           "likely_known": "◇", "not_started": ""}  # fmt: skip


def heatmap_body(data: HeatmapOut) -> Markup:
    """The heatmap's rows as HTML, built in one pass (thousands of cells: no template loop)."""
    out: list[str] = []
    base = f"/sections/{data.section.id}/students"
    codes = [quote(c.code, safe="") for c in data.columns]
    for row in data.rows:
        who = row.student
        out.append(f'<tr><th scope="row"><a href="/students/{who.id}">{escape(who.name)}</a></th>'
                   f"<td>{row.mastered}</td>")  # fmt: skip
        placed = row.placement or [0] * len(codes)
        for p, n, st, code, k in zip(row.p, row.evidence, row.status, codes, placed, strict=True):
            mark = (f'<span class="placed" aria-hidden="true">P</span><span class="sr-only">'
                    f", {k} from the placement check</span>" if k else "")  # fmt: skip
            if p is None:
                out.append(f'<td class="h">{mark}</td>')
            else:
                out.append(f'<td class="h s-{st} b{round(p * 10)}"><a href="{base}/{who.id}/'
                           f'evidence/{code}">{SYMBOLS[st]}{round(p * 100)}'
                           f"<small>{n}{mark}</small></a></td>")  # fmt: skip
        out.append("</tr>")
    return Markup("".join(out))


@router.get("/sections/{section_id}/needs", response_class=HTMLResponse)
def needs_page(
    request: Request, section_id: Id, user: Staff, session: SessionDep, context: ContextDep
) -> HTMLResponse:
    data = api.get_needs(section_id, user, session, context)
    groups = session.scalars(
        select(Group).where(Group.section_id == section_id).order_by(Group.name, Group.id)
    ).all()
    return render(
        request, "needs.html", title=f"Who needs me today: {data.section.title}", data=data,
        groups=groups, can_edit=user.role == "teacher",
    )  # fmt: skip


@router.post("/sections/{section_id}/needs/seen")
def needs_seen(section_id: Id, user: Teacher, session: SessionDep, form: FormDep) -> Response:
    body = parse_plain(NeedSeenIn, {"student_id": form.get("student_id"), "kind": form.get("kind")})
    api.post_need_seen(section_id, body, user, session)
    return RedirectResponse(f"/sections/{section_id}/needs?seen=1", 303)


@router.post("/sections/{section_id}/needs/group")
def needs_add_to_group(
    section_id: Id, user: Teacher, session: SessionDep, context: ContextDep, form: FormDep
) -> Response:
    open_section(session, actor=user, section_id=section_id)
    group_id = str(form.get("group_id", ""))
    if not group_id.isdigit() or _section_of(session, int(group_id)) != section_id:
        raise HTTPException(422, "Choose one of this class's groups.")
    body = parse_plain(MemberIn, {"student_id": form.get("student_id")})
    saved = api.post_member(int(group_id), body, user, session, context)
    return RedirectResponse(f"/sections/{section_id}/needs?added={quote(saved.name, safe='')}", 303)


@router.get(
    "/sections/{section_id}/students/{student_id}/evidence/{code:path}",
    response_class=HTMLResponse,
)
def evidence_page(
    request: Request,
    section_id: Id,
    student_id: Id,
    code: str,
    user: Staff,
    session: SessionDep,
    context: ContextDep,
) -> HTMLResponse:
    data = api.get_evidence(section_id, student_id, code, user, session, context)
    chart = estimate_chart([(e.at, e.p) for e in data.estimate])
    return render(
        request, "evidence.html", title=f"{data.student.name}: {data.title}", data=data,
        chart=chart,
    )  # fmt: skip


@router.get("/sections/{section_id}/pacing", response_class=HTMLResponse)
def pacing_page(
    request: Request, section_id: Id, user: Staff, session: SessionDep, context: ContextDep
) -> HTMLResponse:
    data = api.get_pacing(section_id, user, session, context)
    history = api.section_history_of(section_id, user, session, context)
    students = len(data.students)
    total = sum(r.mastered + r.remaining for r in data.students)
    chart = pacing_chart(
        history, total=total, today=dt.date.today(), forecast=_median(r.forecast for r in
        data.students), early=_median(r.early for r in data.students),
        late=_median(r.late for r in data.students), deadline=data.deadline,
    )  # fmt: skip
    return render(
        request, "pacing.html", title=f"Pacing: {data.section.title}", data=data, chart=chart,
        history=history, students=students,
    )  # fmt: skip


@router.get("/sections/{section_id}/pacing/{student_id}", response_class=HTMLResponse)
def pacing_student_page(
    request: Request,
    section_id: Id,
    student_id: Id,
    user: Staff,
    session: SessionDep,
    context: ContextDep,
) -> HTMLResponse:
    data = api.get_pacing(section_id, user, session, context)
    row = next((r for r in data.students if r.student.id == student_id), None)
    if row is None:
        raise HTTPException(404, f"There is no student {student_id} in this class.")
    growth = students_api.get_growth(student_id, user, session, context)
    history = [(p.day, p.mastered) for p in growth.points]
    chart = pacing_chart(
        history, total=row.mastered + row.remaining, today=dt.date.today(),
        forecast=row.forecast, early=row.early, late=row.late, deadline=data.deadline,
    )  # fmt: skip
    return render(
        request, "pacing_student.html", title=f"Pacing: {row.student.name}", data=data,
        row=row, chart=chart, history=history,
    )  # fmt: skip


def _median(values: Iterable[dt.date | None]) -> dt.date | None:
    """The median of dates where a missing one (beyond a year) counts as the latest."""
    far = dt.date.max
    days = sorted(v or far for v in values)
    if not days:
        return None
    middle = days[len(days) // 2]
    return None if middle == far else middle


@router.get("/sections/{section_id}/groups", response_class=HTMLResponse)
def groups_page(
    request: Request,
    section_id: Id,
    user: Staff,
    session: SessionDep,
    context: ContextDep,
    *,
    errors: dict[str, str] | None = None,
    values: Mapping[str, object] | None = None,
    form_id: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    data = api.get_groups(section_id, user, session, context)
    students = section_students(session, section_id=section_id)
    section = open_section(session, actor=user, section_id=section_id)
    _, catalog = section_course(session, context, section)
    return render(
        request, "groups.html", title=f"Groups: {data.section.title}", data=data,
        students=[person(s) for s in students], can_edit=user.role == "teacher",
        choices=competency_choices(catalog), errors=errors or {}, values=values or {},
        form_id=form_id, status_code=status_code,
    )  # fmt: skip


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


@router.post("/sections/{section_id}/groups")
def groups_create(
    request: Request,
    section_id: Id,
    user: Teacher,
    session: SessionDep,
    context: ContextDep,
    form: FormDep,
) -> Response:
    values = {
        "name": str(form.get("name", "")),
        "reason": str(form.get("reason", "")),
        "student_ids": _ids([str(v) for v in form.getlist("student_ids")]),
    }
    try:
        group = parse_form(GroupIn, {**values, "competency": form.get("competency") or None})
    except FormError as exc:
        return groups_page(
            request, section_id, user, session, context, errors=exc.errors, values=values,
            form_id="new", status_code=422,
        )  # fmt: skip
    api.post_group(section_id, group, user, session, context)
    return RedirectResponse(f"/sections/{section_id}/groups", 303)


@router.post("/groups/{group_id}/edit")
def groups_edit(
    request: Request,
    group_id: Id,
    user: Teacher,
    session: SessionDep,
    context: ContextDep,
    form: FormDep,
) -> Response:
    patch = parse_plain(
        GroupPatch,
        {
            "name": form.get("name") or None,
            "student_ids": _ids([str(v) for v in form.getlist("student_ids")]) or None,
        },
    )
    saved = api.patch_group(group_id, patch, user, session, context)
    return RedirectResponse(f"/sections/{_section_of(session, saved.id or 0)}/groups", 303)


@router.post("/groups/{group_id}/delete")
def groups_delete(group_id: Id, user: Teacher, session: SessionDep) -> Response:
    section_id = _section_of(session, group_id)
    api.remove_group(group_id, user, session)
    return RedirectResponse(f"/sections/{section_id}/groups", 303)


def _section_of(session: SessionDep, group_id: int) -> int:
    group = session.get(Group, group_id)
    return group.section_id if group else 0


@router.post("/assignments")
def assignments_create(
    request: Request, user: Teacher, session: SessionDep, context: ContextDep, form: FormDep
) -> Response:
    raw = {k: form.get(k) or None for k in ("student_id", "group_id", "competency", "activity",
                                            "due_on")}  # fmt: skip
    back = str(form.get("back", "/sections"))
    if not back.startswith("/") or back.startswith("//"):
        back = "/sections"
    values = {k: str(v or "") for k, v in raw.items()} | {"note": str(form.get("note", ""))}
    try:
        body = parse_form(AssignmentIn, {**raw, "note": form.get("note", "")})
        if body.competency:
            body.competency = resolve_competency(
                _catalog_for(session, context, user, body), body.competency
            )
        elif not body.activity:
            raise FormError({"competency": "Choose a competency or an activity to assign."})
    except FormError as exc:
        return _form_again(request, back, user, session, context, exc.errors, values)
    result = api.post_assignment(body, user, session, context)
    sep = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{sep}assigned={result.students}", 303)


def _catalog_for(
    session: SessionDep, context: ContextDep, user: Teacher, body: AssignmentIn
) -> Catalog:
    if body.group_id is not None:
        _, section = open_group(session, actor=user, group_id=body.group_id)
        return section_course(session, context, section)[1]
    student = open_student(
        session, actor=user, student_id=body.student_id or 0, resource="assignment"
    )
    return course_for(session, context, student)[1]


def _form_again(
    request: Request,
    back: str,
    user: Teacher,
    session: SessionDep,
    context: ContextDep,
    errors: dict[str, str],
    values: dict[str, str],
) -> HTMLResponse:
    """The page the form was on, again, with what was typed and the errors beside it."""
    on_groups = re.fullmatch(r"/sections/(\d+)/groups", back)
    if on_groups:
        return groups_page(
            request, int(on_groups.group(1)), user, session, context, errors=errors,
            values=values, form_id=f"assign-{values.get('group_id', '')}", status_code=422,
        )  # fmt: skip
    on_student = re.fullmatch(r"/students/(\d+)", back)
    if on_student:
        from learnway.web.pages._students import student_page

        return student_page(
            request, int(on_student.group(1)), user, session, context, errors=errors,
            values=values, status_code=422,
        )  # fmt: skip
    raise HTTPException(422, " ".join(errors.values()))
