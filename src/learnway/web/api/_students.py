"""A student's data: profile page, path, recommendations, goals, growth, interests.

Each route opens the student through the data access (authorized, audited) first.
"""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from learnway.store._schema import User
from learnway.web._access import audit_many, open_student, visible_students
from learnway.web._deps import AnyUser, ContextDep, Id, SessionDep, StudentOrTeacher, Teacher
from learnway.web._learning import (
    add_goal,
    course_for,
    goals_view,
    growth_view,
    interests_view,
    path_view,
    person,
    recommendation_list,
    set_interests,
    update_goal,
)
from learnway.web._needs import messages_view, send_message
from learnway.web._profile import assignments_of, family_view, student_page
from learnway.web._schemas import (
    FamilyOut,
    GoalIn,
    GoalOut,
    GoalPatch,
    GoalsOut,
    GrowthOut,
    InterestsIn,
    InterestsOut,
    MessageIn,
    MessagesOut,
    PathOut,
    Problem,
    RecommendationsOut,
    StudentListOut,
    StudentOut,
)

router = APIRouter(tags=["students"], responses={404: {"model": Problem}})


@router.get("/students", response_model=StudentListOut)
def list_students(user: AnyUser, session: SessionDep) -> StudentListOut:
    """The students the signed-in user may see (a student sees only themself)."""
    rows = session.scalars(
        select(User)
        .where(User.id.in_(visible_students(user)))
        .order_by(User.family_name, User.given_name, User.id)
    ).all()
    audit_many(session, actor=user, student_ids=[u.id for u in rows], resource="student list")
    return StudentListOut(students=[person(u) for u in rows])


@router.get("/students/{student_id}", response_model=StudentOut)
def get_student(
    student_id: Id, user: AnyUser, session: SessionDep, context: ContextDep
) -> StudentOut:
    """The student page: profile, strengths and needs, goals, supports, recent attempts."""
    student = open_student(session, actor=user, student_id=student_id, resource="student")
    return student_page(session, context, student)


@router.get("/students/{student_id}/path", response_model=PathOut)
def get_path(student_id: Id, user: AnyUser, session: SessionDep, context: ContextDep) -> PathOut:
    """The course's competency map with the student's mastery, unit by unit."""
    student = open_student(session, actor=user, student_id=student_id, resource="path")
    return path_view(session, context, student)


@router.get("/students/{student_id}/recommendations", response_model=RecommendationsOut)
def get_recommendations(
    student_id: Id, user: AnyUser, session: SessionDep, context: ContextDep
) -> RecommendationsOut:
    """Three to five next activities with their reasons, and the teacher's assignments."""
    student = open_student(session, actor=user, student_id=student_id, resource="recommendations")
    _, catalog = course_for(session, context, student)
    return RecommendationsOut(
        student=person(student),
        recommendations=recommendation_list(session, context, student),
        assigned=assignments_of(session, catalog, student),
    )


@router.get("/students/{student_id}/goals", response_model=GoalsOut)
def get_goals(student_id: Id, user: AnyUser, session: SessionDep, context: ContextDep) -> GoalsOut:
    """The student's goals with progress and a forecast."""
    student = open_student(session, actor=user, student_id=student_id, resource="goals")
    return goals_view(session, context, student)


@router.post("/students/{student_id}/goals", response_model=GoalOut, status_code=201)
def post_goal(
    student_id: Id, goal: GoalIn, user: StudentOrTeacher, session: SessionDep, context: ContextDep
) -> GoalOut:
    """Set a goal (the student, or one of their teachers)."""
    student = open_student(
        session, actor=user, student_id=student_id, resource="goals", change=True
    )
    row = add_goal(session, context, student=student, actor=user, goal=goal)
    return next(g for g in goals_view(session, context, student).goals if g.id == row.id)


@router.patch("/students/{student_id}/goals/{goal_id}", response_model=GoalOut)
def patch_goal(
    student_id: Id,
    goal_id: Id,
    patch: GoalPatch,
    user: StudentOrTeacher,
    session: SessionDep,
    context: ContextDep,
) -> GoalOut:
    """Edit a goal: its title, target date or status."""
    student = open_student(
        session, actor=user, student_id=student_id, resource="goals", change=True
    )
    row = update_goal(session, student=student, goal_id=goal_id, patch=patch)
    return next(g for g in goals_view(session, context, student).goals if g.id == row.id)


@router.get("/students/{student_id}/growth", response_model=GrowthOut)
def get_growth(
    student_id: Id, user: AnyUser, session: SessionDep, context: ContextDep
) -> GrowthOut:
    """Competencies mastered over time, replayed from the evidence."""
    student = open_student(session, actor=user, student_id=student_id, resource="growth")
    return growth_view(session, context, student)


@router.get("/students/{student_id}/interests", response_model=InterestsOut)
def get_interests(student_id: Id, user: AnyUser, session: SessionDep) -> InterestsOut:
    """The student's interests (the planner favours problems about them)."""
    student = open_student(session, actor=user, student_id=student_id, resource="interests")
    return interests_view(session, student)


@router.put("/students/{student_id}/interests", response_model=InterestsOut)
def put_interests(
    student_id: Id, body: InterestsIn, user: StudentOrTeacher, session: SessionDep
) -> InterestsOut:
    """Replace the student's interests."""
    student = open_student(
        session, actor=user, student_id=student_id, resource="interests", change=True
    )
    set_interests(session, student=student, interests=body.interests)
    return interests_view(session, student)


@router.get("/students/{student_id}/messages", response_model=MessagesOut)
def get_messages(student_id: Id, user: AnyUser, session: SessionDep) -> MessagesOut:
    """Messages from the student's teachers, newest first (read by the student: marked read)."""
    student = open_student(session, actor=user, student_id=student_id, resource="messages")
    return messages_view(session, student=student, mark_read=user.id == student.id)


@router.post("/students/{student_id}/messages", response_model=MessagesOut, status_code=201)
def post_message(
    student_id: Id, body: MessageIn, user: Teacher, session: SessionDep
) -> MessagesOut:
    """Send the student a short message (one of their teachers); it shows on their path."""
    student = open_student(
        session, actor=user, student_id=student_id, resource="messages", change=True
    )
    send_message(session, student=student, actor=user, body=body.body)
    return messages_view(session, student=student, mark_read=False)


@router.get("/students/{student_id}/week", response_model=FamilyOut)
def get_week(student_id: Id, user: AnyUser, session: SessionDep, context: ContextDep) -> FamilyOut:
    """The last week in plain words, for a guardian: worked on, mastered, next, how to help."""
    student = open_student(session, actor=user, student_id=student_id, resource="week")
    return family_view(session, context, student)
