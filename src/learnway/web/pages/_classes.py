"""Teacher pages: classes, heatmap, who needs me today, groups and assignments, pacing."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape

from learnway.web._deps import ContextDep, FormDep, Id, SessionDep, Staff, Teacher
from learnway.web._schemas import AssignmentIn, GroupIn, GroupPatch, HeatmapOut
from learnway.web.api import _classes as api
from learnway.web.pages._render import parse, render

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
    data = api.get_heatmap(
        section_id, user, session, context, unit=unit or None, sort=sort,
        likely_known=likely_known,
    )  # fmt: skip
    return render(
        request, "heatmap.html", title=f"Heatmap: {data.section.title}", data=data,
        body=heatmap_body(data),
    )  # fmt: skip


SYMBOLS = {"mastered": "●", "practicing": "◐", "due_for_review": "↻", "stuck": "⚠",
           "likely_known": "◇", "not_started": ""}  # fmt: skip


def heatmap_body(data: HeatmapOut) -> Markup:
    """The heatmap's rows as HTML, built in one pass (thousands of cells: no template loop)."""
    out: list[str] = []
    for row in data.rows:
        who = row.student
        out.append(f'<tr><th scope="row"><a href="/students/{who.id}">{escape(who.name)}</a></th>'
                   f"<td>{row.mastered}</td>")  # fmt: skip
        for p, n, st in zip(row.p, row.evidence, row.status, strict=True):
            if p is None:
                out.append('<td class="h"></td>')
            else:
                out.append(f'<td class="h s-{st} b{round(p * 10)}">{SYMBOLS[st]}{round(p * 100)}'
                           f"<small>{n}</small></td>")  # fmt: skip
        out.append("</tr>")
    return Markup("".join(out))


@router.get("/sections/{section_id}/needs", response_class=HTMLResponse)
def needs_page(
    request: Request, section_id: Id, user: Staff, session: SessionDep, context: ContextDep
) -> HTMLResponse:
    data = api.get_needs(section_id, user, session, context)
    return render(
        request, "needs.html", title=f"Who needs me today: {data.section.title}", data=data
    )


@router.get("/sections/{section_id}/pacing", response_class=HTMLResponse)
def pacing_page(
    request: Request, section_id: Id, user: Staff, session: SessionDep, context: ContextDep
) -> HTMLResponse:
    data = api.get_pacing(section_id, user, session, context)
    return render(request, "pacing.html", title=f"Pacing: {data.section.title}", data=data)


@router.get("/sections/{section_id}/groups", response_class=HTMLResponse)
def groups_page(
    request: Request, section_id: Id, user: Staff, session: SessionDep, context: ContextDep
) -> HTMLResponse:
    data = api.get_groups(section_id, user, session, context)
    students = api.get_heatmap(section_id, user, session, context, unit=None, sort="name").rows
    return render(
        request, "groups.html", title=f"Groups: {data.section.title}", data=data,
        students=[r.student for r in students], can_edit=user.role == "teacher",
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
    group = parse(
        GroupIn,
        {
            "name": form.get("name", ""),
            "competency": form.get("competency") or None,
            "reason": form.get("reason", ""),
            "student_ids": _ids([str(v) for v in form.getlist("student_ids")]),
        },
    )
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
    patch = parse(
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
    from learnway.store._schema import Group

    group = session.get(Group, group_id)
    return group.section_id if group else 0


@router.post("/assignments")
def assignments_create(
    request: Request, user: Teacher, session: SessionDep, context: ContextDep, form: FormDep
) -> Response:
    raw = {k: form.get(k) or None for k in ("student_id", "group_id", "competency", "activity",
                                            "due_on")}  # fmt: skip
    body = parse(AssignmentIn, {**raw, "note": form.get("note", "")})
    result = api.post_assignment(body, user, session, context)
    back = str(form.get("back", "/sections"))
    if not back.startswith("/") or back.startswith("//"):
        back = "/sections"
    sep = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{sep}assigned={result.students}", 303)
