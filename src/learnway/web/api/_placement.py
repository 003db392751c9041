"""Placement: the adaptive check a student new to a course takes, and a teacher's "place again"."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from sqlalchemy.orm import Session

from learnway.store._schema import User
from learnway.web._access import open_section, open_student, section_students
from learnway.web._deps import (
    AnyUser,
    ContextDep,
    Id,
    SessionDep,
    Staff,
    Student,
    StudentOrTeacher,
)
from learnway.web._learning import active_goal_codes, course_for, path_view
from learnway.web._pathmap import PathMap, path_map
from learnway.web._placement import (
    PlacementAnswerIn,
    PlacementOut,
    SectionPlacementOut,
    answer,
    placement_view,
    section_placement,
    skip,
    start,
)
from learnway.web._schemas import Problem

router = APIRouter(tags=["placement"], responses={404: {"model": Problem}})


@router.get("/students/{student_id}/placement", response_model=PlacementOut)
def get_placement(
    student_id: Id, user: AnyUser, session: SessionDep, context: ContextDep
) -> PlacementOut:
    """The student's placement check: the question to answer now, or where it placed them.
    Only the student's own request moves the check on."""
    student = open_student(session, actor=user, student_id=student_id, resource="placement")
    return placement_view(session, context, student, advance=user.id == student.id)


@router.post("/students/{student_id}/placement", response_model=PlacementOut)
def post_placement(
    student_id: Id, user: StudentOrTeacher, session: SessionDep, context: ContextDep
) -> PlacementOut:
    """Ask for a check: the student starts one (the first question comes back), or their
    teacher asks them to place again (their next visit to their path begins it)."""
    student = open_student(
        session, actor=user, student_id=student_id, resource="placement", change=True
    )
    if user.role == "student" and user.id != student.id:
        raise HTTPException(404, f"There is no student {student_id} that you can see.")
    return start(session, context, student, user)


@router.post("/students/{student_id}/placement/answers", response_model=PlacementOut)
def post_placement_answer(
    student_id: Id,
    given: PlacementAnswerIn,
    user: Student,
    session: SessionDep,
    context: ContextDep,
) -> PlacementOut:
    """Answer the question the check asks now: checked at once and stored as an attempt of
    kind ``placement``; the next question comes back, or the result when the check is done."""
    return answer(session, context, own_student(session, user, student_id), given)


@router.post("/students/{student_id}/placement/skip", response_model=PlacementOut)
def post_placement_skip(
    student_id: Id, user: Student, session: SessionDep, context: ContextDep
) -> PlacementOut:
    """Start without the check (it can be taken later from the path)."""
    return skip(session, context, own_student(session, user, student_id))


@router.get("/sections/{section_id}/placement", response_model=SectionPlacementOut)
def get_section_placement(
    section_id: Id, user: Staff, session: SessionDep, context: ContextDep
) -> SectionPlacementOut:
    """Who in the class has placed, and where (the unit each starts at)."""
    section = open_section(session, actor=user, section_id=section_id)
    students = section_students(session, section_id=section.id)
    return section_placement(session, context, section, students)


@router.get("/students/{student_id}/path/map", response_model=PathMap, tags=["path"])
def get_path_map(
    student_id: Id, user: AnyUser, session: SessionDep, context: ContextDep
) -> PathMap:
    """The student's path as a map: the units toward their goal (the course's end when they
    have none), in course order, each with the units on the map it builds on."""
    student = open_student(session, actor=user, student_id=student_id, resource="path map")
    return map_of(session, context, student)


def map_of(session: Session, context: ContextDep, student: User) -> PathMap:
    course, catalog = course_for(session, context, student)
    path = path_view(session, context, student)
    return path_map(course, catalog, path, active_goal_codes(session, student, catalog))


def own_student(session: Session, user: User, student_id: int) -> User:
    """The signed-in student themself: only they answer their check."""
    if user.id != student_id:
        raise HTTPException(404, f"There is no student {student_id} that you can see.")
    return open_student(
        session, actor=user, student_id=student_id, resource="placement", change=True
    )
