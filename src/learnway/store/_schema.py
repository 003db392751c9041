"""The school's data: one SQLAlchemy table per concept, in the vocabulary of docs/architecture.md.

People and structure use the OneRoster words (org, user, academic session, course, class
called *section* here, enrollment, demographics). Demographics live in their own table and
are read only by equity reports. Attempts are append-only and keyed by their own id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ROLES = ("student", "teacher", "school_admin", "district_admin", "guardian")
ORG_TYPES = ("district", "school")
SESSION_TYPES = ("schoolYear", "semester", "term", "gradingPeriod")
ACTIVITY_KINDS = ("lesson", "video", "reading", "project", "practice")
SUPPORT_KINDS = ("tutoring", "mentoring", "counselling", "health", "family", "other")
MASTERY_STATUSES = (
    "not_started", "practicing", "mastered", "due_for_review", "stuck", "likely_known",
)  # fmt: skip
EVENT_CAUSES = ("attempt", "replay", "recalibration", "placement")
JOB_STATUSES = ("queued", "running", "done", "failed")
MODEL_STATUSES = ("building", "active", "retired")
ATTEMPT_SOURCES = ("web", "xapi", "import", "simulation", "lti")
#: What a piece of evidence is: an answer (right or wrong), a placement check's answer, or a
#: worked example the student studied (neither right nor wrong: it informs learning only).
ATTEMPT_KINDS = ("answer", "placement", "worked_example")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    allowed = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_allowed")


class Timestamp(TypeDecorator[dt.datetime]):
    """A point in time, stored in UTC and always read back timezone-aware.

    SQLite has no time zones, so values go in as UTC wall-clock time; a naive value is refused.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"timestamp {value.isoformat()} has no time zone")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


# --- people and structure (OneRoster) ---------------------------------------------------


class Org(Base):
    __tablename__ = "orgs"
    __table_args__ = (_one_of("type", ORG_TYPES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sourced_id: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(20))
    identifier: Mapped[str | None] = mapped_column(String(255))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("orgs.id"))
    extensions: Mapped[dict[str, str] | None] = mapped_column(JSON)
    """The roster's ``ext_*``, ``metadata.*`` and other columns OneRoster does not define."""


class User(Base):
    __tablename__ = "users"
    __table_args__ = (_one_of("role", ROLES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sourced_id: Mapped[str] = mapped_column(String(255), unique=True)
    username: Mapped[str] = mapped_column(String(255), unique=True)
    given_name: Mapped[str] = mapped_column(String(255))
    family_name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    grade: Mapped[str | None] = mapped_column(String(8))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    identifier: Mapped[str | None] = mapped_column(String(255), index=True)
    """The roster's ``identifier`` (a student or staff number), searchable."""
    extensions: Mapped[dict[str, str] | None] = mapped_column(JSON)


class Guardianship(Base):
    """A guardian (OneRoster *agent*) of a student."""

    __tablename__ = "guardianships"

    guardian_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    relation: Mapped[str] = mapped_column(String(40), default="parent")


class UserIdentifier(Base):
    """One of a person's identifiers in other systems (OneRoster ``userIds``: LDAP, LTI, ...),
    searchable by value."""

    __tablename__ = "user_identifiers"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    type: Mapped[str] = mapped_column(String(255), primary_key=True)
    identifier: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class Demographics(Base):
    """The OneRoster demographics fields, kept apart: read only by equity reports."""

    __tablename__ = "demographics"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(20))
    american_indian_or_alaska_native: Mapped[bool | None] = mapped_column(Boolean)
    asian: Mapped[bool | None] = mapped_column(Boolean)
    black_or_african_american: Mapped[bool | None] = mapped_column(Boolean)
    native_hawaiian_or_other_pacific_islander: Mapped[bool | None] = mapped_column(Boolean)
    white: Mapped[bool | None] = mapped_column(Boolean)
    demographic_race_two_or_more_races: Mapped[bool | None] = mapped_column(Boolean)
    hispanic_or_latino_ethnicity: Mapped[bool | None] = mapped_column(Boolean)
    country_of_birth_code: Mapped[str | None] = mapped_column(String(8))
    state_of_birth_abbreviation: Mapped[str | None] = mapped_column(String(8))
    city_of_birth: Mapped[str | None] = mapped_column(String(255))
    public_school_residence_status: Mapped[str | None] = mapped_column(String(255))
    extensions: Mapped[dict[str, str] | None] = mapped_column(JSON)


class AcademicSession(Base):
    __tablename__ = "academic_sessions"
    __table_args__ = (_one_of("type", SESSION_TYPES),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sourced_id: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(20))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    school_year: Mapped[int] = mapped_column(Integer)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("academic_sessions.id"))
    extensions: Mapped[dict[str, str] | None] = mapped_column(JSON)


class Course(Base):
    """A roster course, optionally following a framework (its required competencies)."""

    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    sourced_id: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    course_code: Mapped[str | None] = mapped_column(String(255))
    org_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    framework_id: Mapped[int | None] = mapped_column(ForeignKey("frameworks.id"))
    extensions: Mapped[dict[str, str] | None] = mapped_column(JSON)


class Section(Base):
    """A class (OneRoster ``class``): a course taught to a group of students in a term."""

    __tablename__ = "sections"

    id: Mapped[int] = mapped_column(primary_key=True)
    sourced_id: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    class_code: Mapped[str | None] = mapped_column(String(255))
    course_id: Mapped[int] = mapped_column(ForeignKey("courses.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("orgs.id"), index=True)
    term_id: Mapped[int | None] = mapped_column(ForeignKey("academic_sessions.id"))
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    #: The weekdays the class practises, Monday first, e.g. "1111100"; none means every day.
    practice_weekdays: Mapped[str | None] = mapped_column(String(7))
    extensions: Mapped[dict[str, str] | None] = mapped_column(JSON)


class SectionDayOff(Base):
    """Days a section does not practise (a holiday or a break), both ends included."""

    __tablename__ = "section_days_off"
    __table_args__ = (CheckConstraint("end_date >= start_date", name="ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(255), default="")


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (
        UniqueConstraint("section_id", "user_id"),
        _one_of("role", ("student", "teacher", "aide")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sourced_id: Mapped[str] = mapped_column(String(255), unique=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    primary: Mapped[bool] = mapped_column(Boolean, default=False)
    begin_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    extensions: Mapped[dict[str, str] | None] = mapped_column(JSON)


# --- frameworks and content ---------------------------------------------------------------


class FrameworkRow(Base):
    __tablename__ = "frameworks"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(Text)
    license: Mapped[str] = mapped_column(Text)
    attribution: Mapped[str] = mapped_column(Text)


class CompetencyRow(Base):
    __tablename__ = "competencies"
    __table_args__ = (UniqueConstraint("framework_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id"))
    code: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(20))
    grade: Mapped[str | None] = mapped_column(String(8))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("competencies.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    mastery_threshold: Mapped[float | None] = mapped_column(Float)
    p_init: Mapped[float | None] = mapped_column(Float)
    p_learn: Mapped[float | None] = mapped_column(Float)
    p_guess: Mapped[float | None] = mapped_column(Float)
    p_slip: Mapped[float | None] = mapped_column(Float)
    p_forget: Mapped[float | None] = mapped_column(Float)


# The knowledge-tracing parameters of a competency: columns of both ``competencies`` (the
# content's defaults) and ``competency_fits`` (fitted on the school's attempts).
KT_PARAMETERS = ("p_init", "p_learn", "p_guess", "p_slip", "p_forget")


class CompetencyFit(Base):
    """Knowledge-tracing parameters fitted on the school's own attempts (``learnway calibrate``).

    They take the place of the content's defaults in ``competencies`` wherever present, and are
    kept apart so that importing the content again (a new release, the same file) leaves them
    alone, and so that what was fitted, when and on how much evidence stays visible.
    """

    __tablename__ = "competency_fits"

    competency_id: Mapped[int] = mapped_column(
        ForeignKey("competencies.id", ondelete="CASCADE"), primary_key=True
    )
    p_init: Mapped[float] = mapped_column(Float)
    p_learn: Mapped[float] = mapped_column(Float)
    p_guess: Mapped[float] = mapped_column(Float)
    p_slip: Mapped[float] = mapped_column(Float)
    p_forget: Mapped[float] = mapped_column(Float)
    model: Mapped[str] = mapped_column(String(40))
    attempts: Mapped[int] = mapped_column(Integer)
    students: Mapped[int] = mapped_column(Integer)
    fitted_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class Prerequisite(Base):
    """``before_id`` must be learned before ``after_id``; together they form a DAG."""

    __tablename__ = "prerequisites"

    before_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), primary_key=True)
    after_id: Mapped[int] = mapped_column(
        ForeignKey("competencies.id"), primary_key=True, index=True
    )


class RelatedCompetency(Base):
    """A conceptual connection between two competencies: no order implied."""

    __tablename__ = "related_competencies"

    a_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), primary_key=True)
    b_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"), primary_key=True)


class ItemRow(Base):
    __tablename__ = "items"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id"), index=True)
    lesson_id: Mapped[int | None] = mapped_column(ForeignKey("competencies.id"))
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    license: Mapped[str] = mapped_column(String(255))
    attribution: Mapped[str] = mapped_column(Text)

    steps: Mapped[list[StepRow]] = relationship(order_by="StepRow.position")


class StepRow(Base):
    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("item_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    position: Mapped[int] = mapped_column(Integer)
    prompt: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    problem_type: Mapped[str] = mapped_column(String(40))
    answer_type: Mapped[str] = mapped_column(String(40))
    answers: Mapped[list[Any]] = mapped_column(JSON)
    choices: Mapped[list[Any]] = mapped_column(JSON)
    answer_latex: Mapped[str | None] = mapped_column(Text)


class HintRow(Base):
    __tablename__ = "hints"
    __table_args__ = (UniqueConstraint("step_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255))
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"))
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    depends_on: Mapped[list[Any]] = mapped_column(JSON)
    problem_type: Mapped[str | None] = mapped_column(String(40))
    answer_type: Mapped[str | None] = mapped_column(String(40))
    answers: Mapped[list[Any]] = mapped_column(JSON)
    choices: Mapped[list[Any]] = mapped_column(JSON)
    sub_hints: Mapped[list[Any]] = mapped_column(JSON)


class StepAlignment(Base):
    __tablename__ = "step_alignments"

    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"), primary_key=True)
    competency_id: Mapped[int] = mapped_column(
        ForeignKey("competencies.id"), primary_key=True, index=True
    )


class Activity(Base):
    """An unscored resource: a lesson, video, reading or project."""

    __tablename__ = "activities"
    __table_args__ = (_one_of("kind", ACTIVITY_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    modality: Mapped[str] = mapped_column(String(40), default="independent")
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(Text)
    minutes: Mapped[int | None] = mapped_column(Integer)
    interest_tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    license: Mapped[str | None] = mapped_column(String(255))
    attribution: Mapped[str | None] = mapped_column(Text)


class ActivityAlignment(Base):
    __tablename__ = "activity_alignments"

    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), primary_key=True)
    competency_id: Mapped[int] = mapped_column(
        ForeignKey("competencies.id"), primary_key=True, index=True
    )


# --- evidence and state -------------------------------------------------------------------


class Attempt(Base):
    """One piece of evidence. Append-only: rows are never updated; ``id`` makes it idempotent."""

    __tablename__ = "attempts"
    __table_args__ = (
        _one_of("source", ATTEMPT_SOURCES),
        _one_of("kind", ATTEMPT_KINDS),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 1)", name="score_range"),
        CheckConstraint("hints_used >= 0", name="hints_nonnegative"),
        Index("ix_attempts_student_time", "student_id", "timestamp"),
        Index("ix_attempts_step", "step_id"),
        # the recent-attempt figures (/metrics); BRIN: tiny, and cheap for an append-only log
        Index("ix_attempts_recorded_at", "recorded_at", postgresql_using="brin"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"))
    correct: Mapped[bool] = mapped_column(Boolean)
    score: Mapped[float | None] = mapped_column(Float)
    hints_used: Mapped[int] = mapped_column(Integer, default=0)
    duration_s: Mapped[float | None] = mapped_column(Float)
    response: Mapped[str | None] = mapped_column(Text)
    timestamp: Mapped[dt.datetime] = mapped_column(Timestamp())
    source: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20), default="answer", server_default="answer")
    recorded_at: Mapped[dt.datetime] = mapped_column(Timestamp(), server_default=func.now())


class Mastery(Base):
    """The learner state of one student and competency under one model version: the learner
    model's belief and the evidence bookkeeping of :class:`learnway.paths.LearnerState`,
    updated with every attempt in the attempt's own transaction."""

    __tablename__ = "mastery"
    __table_args__ = (_one_of("status", MASTERY_STATUSES),)

    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    competency_id: Mapped[int] = mapped_column(
        ForeignKey("competencies.id"), primary_key=True, index=True
    )
    model_version: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    p_mastery: Mapped[float] = mapped_column(Float)
    evidence: Mapped[float] = mapped_column(Float, default=0.0)
    evidence_count: Mapped[int] = mapped_column(Integer, default=0)
    no_progress: Mapped[int] = mapped_column(Integer, default=0)
    peak: Mapped[float] = mapped_column(Float)
    hint_rate: Mapped[float] = mapped_column(Float, default=0.0)
    reviews: Mapped[int] = mapped_column(Integer, default=0)
    mastered_once: Mapped[bool] = mapped_column(Boolean, default=False)
    last_evidence_at: Mapped[dt.datetime | None] = mapped_column(Timestamp())
    status: Mapped[str] = mapped_column(String(20), default="not_started")
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)


class MasteredTotal(Base):
    """Competencies a student has mastered (review due included) under one model version:
    kept by triggers on ``mastery`` (migration 0019), read by the district reports."""

    __tablename__ = "mastered_totals"

    student_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    model_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    mastered: Mapped[int] = mapped_column(Integer)


class MasteryEvent(Base):
    """A change of one student's status or probability band on one competency. Append-only;
    growth, gaps over time and pacing read these instead of replaying attempts."""

    __tablename__ = "mastery_events"
    __table_args__ = (
        _one_of("cause", EVENT_CAUSES),
        Index("ix_mastery_events_student_at", "student_id", "model_version", "at"),
        Index("ix_mastery_events_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    competency_id: Mapped[int] = mapped_column(ForeignKey("competencies.id"))
    model_version: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[dt.datetime] = mapped_column(Timestamp())
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    p_before: Mapped[float] = mapped_column(Float)
    p_after: Mapped[float] = mapped_column(Float)
    mastered_change: Mapped[int] = mapped_column(Integer, default=0)
    """+1 when the competency became mastered, -1 when it stopped being mastered, else 0."""
    cause: Mapped[str] = mapped_column(String(20))
    attempt_id: Mapped[str | None] = mapped_column(String(64))


class LearnerModelRow(Base):
    """A version of a course's live learner model: its family, parameters and held-out figures.
    Version 0 (no row) is the content's default BKT parameters."""

    __tablename__ = "learner_models"
    __table_args__ = (_one_of("status", MODEL_STATUSES),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id"), index=True)
    family: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default="building")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)
    activated_at: Mapped[dt.datetime | None] = mapped_column(Timestamp())
    model: Mapped[bytes | None] = mapped_column(LargeBinary)
    """The fitted estimator of a family other than BKT (pickled; written only by
    ``learnway calibrate``), whose online update then drives the live state."""


class LearnerModelState(Base):
    """One student's online state under a model version whose family is not BKT (the
    estimator's ``init_state``/``update`` state, bounded in size), updated with each attempt."""

    __tablename__ = "learner_model_states"

    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    model_version: Mapped[int] = mapped_column(
        ForeignKey("learner_models.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)


class Job(Base):
    """A unit of background work (replaying a student, rebuilding a course's state). Claimed
    by one worker at a time; a job whose worker died is claimed again after its lease."""

    __tablename__ = "jobs"
    __table_args__ = (
        _one_of("status", JOB_STATUSES),
        Index("ix_jobs_status_run_after", "status", "run_after"),
        Index("ix_jobs_key", "key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str | None] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="queued")
    tries: Mapped[int] = mapped_column(Integer, default=0)
    run_after: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)
    locked_at: Mapped[dt.datetime | None] = mapped_column(Timestamp())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Timestamp())


# --- learner profile and groups -------------------------------------------------------------


class Profile(Base):
    """What the student and teacher record together; strengths and needs are derived."""

    __tablename__ = "profiles"

    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    interests: Mapped[list[Any]] = mapped_column(JSON, default=list)
    preferences: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    about: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)


class Goal(Base):
    __tablename__ = "goals"
    __table_args__ = (_one_of("status", ("active", "met", "dropped")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    competency_id: Mapped[int | None] = mapped_column(ForeignKey("competencies.id"))
    target_date: Mapped[dt.date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)


class Accommodation(Base):
    __tablename__ = "accommodations"

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")


class Support(Base):
    """A non-academic support (tutoring, mentoring, counselling, health, ...) over a period."""

    __tablename__ = "supports"
    __table_args__ = (
        _one_of("kind", SUPPORT_KINDS),
        CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    provider: Mapped[str | None] = mapped_column(String(255))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")


class Group(Base):
    """A flexible group within a section, for a purpose and a period."""

    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    reason: Mapped[str] = mapped_column(Text, default="")
    competency_id: Mapped[int | None] = mapped_column(ForeignKey("competencies.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"), primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)


NEED_KINDS = ("stuck", "off_pace", "inactive", "support")


class Message(Base):
    """A short note from a teacher to a student, shown on the student's path until read."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_student_created", "student_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    sender_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(Timestamp())


class NeedSeen(Base):
    """A teacher saw one of a student's needs in one section on one day ("mark as seen"): that
    need leaves the day's list, and comes back the next day if its rule still fires."""

    __tablename__ = "needs_seen"
    __table_args__ = (_one_of("kind", NEED_KINDS),)

    section_id: Mapped[int] = mapped_column(ForeignKey("sections.id"), primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    seen_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    seen_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)


PLACEMENT_STATUSES = ("requested", "active", "done", "skipped")


class Placement(Base):
    """A student's placement check in one course: asked for (a new student, or a teacher's
    "place again"), under way, done or skipped. ``answers`` lists the questions answered
    (competency code, step id, right or wrong, attempt id); ``priors`` holds, when done, the
    starting belief it gave each competency it moved (code -> ``[p, evidence]``), from which
    every replay of the student starts. ``position`` is the number of competencies, in course
    order, placed as likely known."""

    __tablename__ = "placements"
    __table_args__ = (
        _one_of("status", PLACEMENT_STATUSES),
        Index("ix_placements_student_framework", "student_id", "framework_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    framework_id: Mapped[int] = mapped_column(ForeignKey("frameworks.id"))
    status: Mapped[str] = mapped_column(String(20))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(Timestamp())
    answers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    pending_step_id: Mapped[int | None] = mapped_column(ForeignKey("steps.id"))
    pending_competency: Mapped[str | None] = mapped_column(String(255))
    position: Mapped[int | None] = mapped_column(Integer)
    priors: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# --- xAPI learning record store (docs/xapi.md) -------------------------------------------------

XAPI_DOCUMENT_KINDS = ("state", "activity_profile", "agent_profile")
XAPI_TERM_KINDS = ("agent", "activity")


class XapiClient(Base):
    """A tool allowed to call the learning record store: its key, a hash of its secret, scopes."""

    __tablename__ = "xapi_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)


class XapiStatement(Base):
    """One stored statement, as the store returns it (``body``); ``seq`` orders them."""

    __tablename__ = "xapi_statements"

    seq: Mapped[int] = mapped_column(primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    body: Mapped[str] = mapped_column(Text)
    verb_hash: Mapped[str] = mapped_column(String(64), index=True)
    registration: Mapped[str | None] = mapped_column(String(36), index=True)
    voids: Mapped[str | None] = mapped_column(String(36), index=True)
    ref: Mapped[str | None] = mapped_column(String(36), index=True)
    """The statement this one targets, when its object is a StatementRef."""
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    stored: Mapped[dt.datetime] = mapped_column(Timestamp(), index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("xapi_clients.id"), index=True)
    attempt_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    """Set on the statements Learnway writes for its own attempts."""


class XapiStatementTerm(Base):
    """Who and what a statement is about, for the statement queries: hashes of agents' and
    activities' identifiers; ``direct`` for the actor and object, else related."""

    __tablename__ = "xapi_statement_terms"
    __table_args__ = (
        _one_of("kind", XAPI_TERM_KINDS),
        Index("ix_xapi_statement_terms_term", "kind", "term"),
    )

    statement_seq: Mapped[int] = mapped_column(
        ForeignKey("xapi_statements.seq", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    direct: Mapped[bool] = mapped_column(Boolean)


class XapiAttachment(Base):
    """An attachment's content, once per SHA-2 hash."""

    __tablename__ = "xapi_attachments"

    sha2: Mapped[str] = mapped_column(String(128), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(255))
    body: Mapped[bytes] = mapped_column(LargeBinary)


class XapiDocument(Base):
    """A state, activity profile or agent profile document. ``key`` hashes its whole address,
    ``scope`` the address without the document id (for listing)."""

    __tablename__ = "xapi_documents"
    __table_args__ = (_one_of("kind", XAPI_DOCUMENT_KINDS),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    doc_id: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(255))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(64))
    updated: Mapped[dt.datetime] = mapped_column(Timestamp())


class XapiActivity(Base):
    """The definition of an activity, as statements defined it (the Activities resource)."""

    __tablename__ = "xapi_activities"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    iri: Mapped[str] = mapped_column(Text)
    definition: Mapped[str] = mapped_column(Text)


class XapiActivityMap(Base):
    """An administrator's mapping: statements about this activity are evidence on this step."""

    __tablename__ = "xapi_activity_map"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    iri: Mapped[str] = mapped_column(Text)
    step_id: Mapped[int] = mapped_column(ForeignKey("steps.id"), index=True)


class XapiOutbox(Base):
    """Statements still to forward to the district's learning record store."""

    __tablename__ = "xapi_outbox"

    statement_seq: Mapped[int] = mapped_column(
        ForeignKey("xapi_statements.seq", ondelete="CASCADE"), primary_key=True
    )
    tries: Mapped[int] = mapped_column(Integer, default=0)
    next_try: Mapped[dt.datetime] = mapped_column(Timestamp(), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)


# --- Experiments (docs/evidence.md) ------------------------------------------------------------

EXPERIMENT_KINDS = (
    "content_variant", "hint_style", "review_schedule", "planner_policy", "intervention",
)  # fmt: skip
EXPERIMENT_UNITS = ("student", "section")
EXPERIMENT_STATUSES = ("draft", "running", "finished")
EXCLUSION_REASONS = ("consent", "accommodation", "other")


class Experiment(Base):
    """A randomized experiment: what varies, its conditions and shares, the unit of
    assignment, the population, the dates, the primary outcome and the analysis plan (in
    ``design``, fixed at launch); ``result`` is the analysis frozen when it finishes."""

    __tablename__ = "experiments"
    __table_args__ = (
        _one_of("kind", EXPERIMENT_KINDS),
        _one_of("unit", EXPERIMENT_UNITS),
        _one_of("status", EXPERIMENT_STATUSES),
        CheckConstraint("end_date >= start_date", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="draft")
    design: Mapped[dict[str, Any]] = mapped_column(JSON)
    analysis_plan: Mapped[str] = mapped_column(Text, default="")
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)
    launched_at: Mapped[dt.datetime | None] = mapped_column(Timestamp())
    finished_at: Mapped[dt.datetime | None] = mapped_column(Timestamp())
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ExperimentAssignment(Base):
    """A student's condition in an experiment (by their own hash, or their section's)."""

    __tablename__ = "experiment_assignments"

    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    section_id: Mapped[int | None] = mapped_column(ForeignKey("sections.id"))
    condition: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)


class ExperimentExclusion(Base):
    """A student kept out of an experiment (no consent, an accommodation): they see the
    usual product and are counted, never analysed."""

    __tablename__ = "experiment_exclusions"
    __table_args__ = (_one_of("reason", EXCLUSION_REASONS),)

    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), primary_key=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(20))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)


class ExperimentExposure(Base):
    """Append-only: a student was shown their condition (where: practice, planner)."""

    __tablename__ = "experiment_exposures"
    __table_args__ = (
        Index("ix_experiment_exposures_experiment_student", "experiment_id", "student_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    condition: Mapped[str] = mapped_column(String(64))
    context: Mapped[str] = mapped_column(String(20))
    at: Mapped[dt.datetime] = mapped_column(Timestamp(), default=_utcnow)
