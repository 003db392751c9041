"""A teacher's classes: heatmap, needs, groups, assignments and pacing."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response

from learnway.web._access import open_group, open_section, open_student, section_students
from learnway.web._classes import (
    assign,
    create_group,
    delete_group,
    group_member_ids,
    groups_view,
    heatmap_view,
    pacing_view,
    section_course,
    section_history,
    sections_view,
    update_group,
)
from learnway.web._deps import ContextDep, Id, SessionDep, Staff, Teacher
from learnway.web._learning import course_for
from learnway.web._needs import add_member, evidence_view, mark_seen, needs_view
from learnway.web._profile import assignment_out
from learnway.web._schemas import (
    AssignmentIn,
    AssignmentsOut,
    EvidenceOut,
    GroupIn,
    GroupOut,
    GroupPatch,
    GroupsOut,
    HeatmapOut,
    MemberIn,
    NeedSeenIn,
    NeedsOut,
    PacingOut,
    Problem,
    SectionListOut,
)

router = APIRouter(tags=["classes"], responses={404: {"model": Problem}})

UnitQuery = Annotated[str | None, Query(max_length=120)]
SortQuery = Annotated[str, Query(max_length=120)]


@router.get("/sections", response_model=SectionListOut)
def list_sections(user: Staff, session: SessionDep) -> SectionListOut:
    """The classes the user teaches (teachers) or oversees (administrators)."""
    return sections_view(session, user)


@router.get("/sections/{section_id}/heatmap", response_model=HeatmapOut)
def get_heatmap(
    section_id: Id,
    user: Staff,
    session: SessionDep,
    context: ContextDep,
    unit: UnitQuery = None,
    sort: SortQuery = "name",
    likely_known: Annotated[
        bool, Query(description="Show credit from advanced work (likely known, not yet shown)")
    ] = True,
    open_current: Annotated[
        bool, Query(description="Without a unit: show the unit of the class's recent work")
    ] = False,
) -> HeatmapOut:
    """Students x competencies: mastery and evidence, sortable, filterable by unit."""
    section = open_section(session, actor=user, section_id=section_id)
    return heatmap_view(
        session, context, section, unit=unit, sort=sort, likely_known=likely_known,
        open_current=open_current,
    )  # fmt: skip


@router.get("/sections/{section_id}/needs", response_model=NeedsOut)
def get_needs(section_id: Id, user: Staff, session: SessionDep, context: ContextDep) -> NeedsOut:
    """Who needs me today: stuck, off pace, inactive, flagged for support, with evidence."""
    section = open_section(session, actor=user, section_id=section_id)
    return needs_view(session, context, section)


@router.post("/sections/{section_id}/needs/seen", status_code=204, response_class=Response)
def post_need_seen(
    section_id: Id, body: NeedSeenIn, user: Teacher, session: SessionDep
) -> Response:
    """Mark one need of a student as seen: it leaves today's list."""
    section = open_section(session, actor=user, section_id=section_id)
    open_student(session, actor=user, student_id=body.student_id, resource="needs", change=True)
    mark_seen(session, section=section, actor=user, student_id=body.student_id, kind=body.kind)
    return Response(status_code=204)


@router.get(
    "/sections/{section_id}/students/{student_id}/evidence/{code:path}",
    response_model=EvidenceOut,
)
def get_evidence(
    section_id: Id,
    student_id: Id,
    code: str,
    user: Staff,
    session: SessionDep,
    context: ContextDep,
) -> EvidenceOut:
    """One student's evidence on one competency: attempts with answers and hints, and the
    model's estimate over time (a heatmap cell, opened)."""
    section = open_section(session, actor=user, section_id=section_id)
    student = open_student(session, actor=user, student_id=student_id, resource="evidence")
    if student.id not in {s.id for s in section_students(session, section_id=section.id)}:
        raise HTTPException(404, f"There is no student {student_id} in this class.")
    return evidence_view(session, context, section=section, student=student, code=code)


@router.get("/sections/{section_id}/pacing", response_model=PacingOut)
def get_pacing(section_id: Id, user: Staff, session: SessionDep, context: ContextDep) -> PacingOut:
    """Each student's forecast against the class deadline."""
    section = open_section(session, actor=user, section_id=section_id)
    return pacing_view(session, context, section)


def section_history_of(
    section_id: int, user: Staff, session: SessionDep, context: ContextDep
) -> list[tuple[dt.date, int]]:
    section = open_section(session, actor=user, section_id=section_id)
    return section_history(session, context, section)


@router.get("/sections/{section_id}/groups", response_model=GroupsOut)
def get_groups(section_id: Id, user: Staff, session: SessionDep, context: ContextDep) -> GroupsOut:
    """Suggested small groups for today with reasons, and the saved groups."""
    section = open_section(session, actor=user, section_id=section_id)
    return groups_view(session, context, section)


@router.post("/sections/{section_id}/groups", response_model=GroupOut, status_code=201)
def post_group(
    section_id: Id, group: GroupIn, user: Teacher, session: SessionDep, context: ContextDep
) -> GroupOut:
    """Save a group (from a suggestion or made by hand) of students of this class."""
    section = open_section(session, actor=user, section_id=section_id)
    row = create_group(session, context, section=section, actor=user, group=group)
    saved = groups_view(session, context, section).saved
    return next(g for g in saved if g.id == row.id)


@router.patch("/groups/{group_id}", response_model=GroupOut)
def patch_group(
    group_id: Id, patch: GroupPatch, user: Teacher, session: SessionDep, context: ContextDep
) -> GroupOut:
    """Rename a group or change its members."""
    group, section = open_group(session, actor=user, group_id=group_id)
    update_group(session, group=group, section=section, patch=patch)
    saved = groups_view(session, context, section).saved
    return next(g for g in saved if g.id == group.id)


@router.post("/groups/{group_id}/members", response_model=GroupOut)
def post_member(
    group_id: Id, body: MemberIn, user: Teacher, session: SessionDep, context: ContextDep
) -> GroupOut:
    """Add one student of the class to a group."""
    group, section = open_group(session, actor=user, group_id=group_id)
    open_student(session, actor=user, student_id=body.student_id, resource="group", change=True)
    add_member(session, group_id=group.id, student_id=body.student_id, section=section)
    saved = groups_view(session, context, section).saved
    return next(g for g in saved if g.id == group.id)


@router.delete("/groups/{group_id}", status_code=204, response_class=Response)
def remove_group(group_id: Id, user: Teacher, session: SessionDep) -> Response:
    """Delete a group (its assignments stay with the students)."""
    group, _ = open_group(session, actor=user, group_id=group_id)
    delete_group(session, group=group)
    return Response(status_code=204)


@router.post(
    "/assignments",
    response_model=AssignmentsOut,
    status_code=201,
    responses={422: {"model": Problem}},
)
def post_assignment(
    body: AssignmentIn, user: Teacher, session: SessionDep, context: ContextDep
) -> AssignmentsOut:
    """Assign a competency or an activity to one student or to a group."""
    if (body.student_id is None) == (body.group_id is None):
        raise HTTPException(422, "Give either student_id or group_id.")
    if body.group_id is not None:
        group, section = open_group(session, actor=user, group_id=body.group_id)
        _, catalog = section_course(session, context, section)
        ids = group_member_ids(session, group)
        for sid in ids:
            open_student(session, actor=user, student_id=sid, resource="assignment", change=True)
    else:
        assert body.student_id is not None
        student = open_student(
            session, actor=user, student_id=body.student_id, resource="assignment", change=True
        )
        _, catalog = course_for(session, context, student)
        group, ids = None, [student.id]
    rows = assign(
        session, catalog=catalog, actor=user, student_ids=ids, group=group,
        competency=body.competency, activity=body.activity, note=body.note, due_on=body.due_on,
    )  # fmt: skip
    return AssignmentsOut(
        assignments=[assignment_out(session, catalog, r) for r in rows], students=len(ids)
    )
