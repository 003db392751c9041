"""The JSON shapes of the API; the pages render the very same objects."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

MAX_TEXT = 500
MAX_RESPONSE = 200
MAX_NAME = 120
MAX_PASSWORD = 128
"""The longest password, for setting and for signing in alike (learnway.web._passwords)."""
DbId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class Input(BaseModel):
    """Base of every request body: no text in it may hold a NUL character, which PostgreSQL
    cannot store (refused here with the field's name, never a server error)."""

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("must not contain a NUL character")
        return value


class Problem(BaseModel):
    detail: str
    errors: list[dict[str, object]] | None = None


class SignInIn(Input):
    username: str = Field(min_length=1, max_length=MAX_NAME)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD)
    code: str | None = Field(
        default=None, max_length=10, description="the one-time code, for accounts that use one"
    )


class PasswordChangeIn(Input):
    current_password: str = Field(min_length=1, max_length=MAX_PASSWORD)
    new_password: str = Field(
        min_length=1, max_length=MAX_PASSWORD,
        description="at least 10 characters; not common, repetitive or the username",
    )  # fmt: skip


class TotpCodeIn(Input):
    code: str = Field(min_length=6, max_length=10, pattern=r"^[0-9]+$")


class ErasureOut(BaseModel):
    deleted: dict[str, int] = Field(description="rows deleted, by table")
    emptied: dict[str, int] = Field(description="references to the student emptied, by column")
    subject: str = Field(description="the keyed hash kept in the audit record of the deletion")


class TotpOut(BaseModel):
    secret: str = Field(description="base32; shown once")
    uri: str = Field(description="an otpauth:// link for an authenticator app")


class TokenOut(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: dt.datetime


class PersonOut(BaseModel):
    id: int
    username: str
    name: str
    role: str
    grade: str | None = None


class Link(BaseModel):
    label: str
    href: str


class MeOut(BaseModel):
    user: PersonOut
    home: str
    links: list[Link]


# --- students ---------------------------------------------------------------------------


class CompetencyState(BaseModel):
    code: str
    title: str
    status: str
    status_label: str
    p_mastery: float | None
    evidence: int


class Unit(BaseModel):
    code: str
    title: str
    mastered: int
    total: int
    competencies: list[CompetencyState]


class PathOut(BaseModel):
    student: PersonOut
    course: str
    mastered: int
    total: int
    units: list[Unit]
    updating: bool = False
    """Late answers (from an offline device or an import) are being added to this state."""


class ReasonOut(BaseModel):
    code: str
    text: str


class RecommendationOut(BaseModel):
    rank: int
    competency: str
    competency_title: str
    kind: str
    item: str | None
    step: str | None
    href: str
    reasons: list[ReasonOut]


class RecommendationsOut(BaseModel):
    student: PersonOut
    recommendations: list[RecommendationOut]
    assigned: list[AssignmentOut]


class GoalIn(Input):
    title: str = Field(min_length=1, max_length=MAX_NAME)
    competency: str | None = Field(default=None, max_length=MAX_NAME)
    target_date: dt.date | None = None


class GoalPatch(Input):
    title: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    target_date: dt.date | None = None
    status: Literal["active", "met", "dropped"] | None = None


class GoalOut(BaseModel):
    id: int
    title: str
    competency: str | None
    competency_title: str | None
    target_date: dt.date | None
    status: str
    progress: float | None = Field(description="probability of mastery of the goal's competency")
    forecast: str


class GoalsOut(BaseModel):
    student: PersonOut
    goals: list[GoalOut]


class GrowthPoint(BaseModel):
    day: dt.date
    mastered: int
    attempts: int


class GrowthOut(BaseModel):
    student: PersonOut
    total: int
    points: list[GrowthPoint]


class InterestsIn(Input):
    interests: list[str] = Field(max_length=12)


class InterestsOut(BaseModel):
    student: PersonOut
    interests: list[str]
    choices: list[str]


class AttemptOut(BaseModel):
    at: dt.datetime
    item: str
    item_title: str
    correct: bool
    hints_used: int


class SupportOut(BaseModel):
    kind: str
    provider: str | None
    start_date: dt.date
    end_date: dt.date | None


class AccommodationOut(BaseModel):
    kind: str
    description: str


class AssignmentOut(BaseModel):
    id: int
    competency: str | None
    competency_title: str | None
    activity: str | None
    note: str
    due_on: dt.date | None
    status: str
    group: str | None
    activity_url: str | None = None


class StudentOut(BaseModel):
    student: PersonOut
    sections: list[str]
    interests: list[str]
    about: str
    strengths: list[CompetencyState]
    needs: list[CompetencyState]
    goals: list[GoalOut]
    supports: list[SupportOut]
    accommodations: list[AccommodationOut]
    assignments: list[AssignmentOut]
    recent_attempts: list[AttemptOut]
    mastered: int
    total: int


class WeekTopic(BaseModel):
    title: str
    problems: int


class FamilyOut(BaseModel):
    """A guardian's summary of a week, in plain words (no model figures, no status labels)."""

    student: PersonOut
    since: dt.date
    problems: int
    days: int
    worked_on: list[WeekTopic]
    mastered: list[str]
    next: list[str]
    goals: list[GoalOut]
    help: list[str]


class StudentListOut(BaseModel):
    students: list[PersonOut]


# --- practice ---------------------------------------------------------------------------


class HintOut(BaseModel):
    position: int
    kind: str
    title: str
    text: str
    answer: str | None = None


class StepOut(BaseModel):
    id: int
    key: str
    position: int
    prompt: str
    body: str
    problem_type: str
    choices: list[str]
    hints_available: int


class ItemOut(BaseModel):
    key: str
    title: str
    body: str
    attribution: str
    license: str
    competencies: list[str]
    steps: list[StepOut]


class HintsOut(BaseModel):
    step: int
    hints: list[HintOut]
    available: int


class AnswerIn(Input):
    """An answer to a step, or (``kind`` ``worked_example``) that the student studied the step's
    worked example: evidence that is neither right nor wrong, recorded with no response checked
    (``response`` is then ignored and may be empty)."""

    kind: Literal["answer", "worked_example"] = "answer"
    response: str = Field(default="", max_length=MAX_RESPONSE)
    hints_used: int = Field(
        default=0, ge=0, le=50, description="ignored: the server counts the hints it has shown"
    )
    attempt_id: str | None = Field(default=None, min_length=8, max_length=64,
                                   pattern=r"^[A-Za-z0-9_.:-]+$")  # fmt: skip
    duration_s: float | None = Field(default=None, ge=0, le=86_400)

    @model_validator(mode="after")
    def _answered(self) -> AnswerIn:
        if self.kind == "answer" and not self.response:
            raise ValueError("response: an answer needs at least 1 character")
        return self


class MasteryChange(BaseModel):
    competency: str
    title: str
    before: float | None
    after: float | None
    status: str
    status_label: str


class AnswerOut(BaseModel):
    step: int
    correct: bool
    reason: str
    recorded: bool
    duplicate: bool
    mastery: list[MasteryChange]
    next_step: int | None


# --- teachers ---------------------------------------------------------------------------


class SectionOut(BaseModel):
    id: int
    title: str
    class_code: str | None
    students: int
    deadline: dt.date | None


class SectionListOut(BaseModel):
    sections: list[SectionOut]


class HeatColumn(BaseModel):
    code: str
    title: str
    unit: str


class HeatRow(BaseModel):
    student: PersonOut
    mastered: int
    mean_p: float
    p: list[float | None]
    evidence: list[int]
    status: list[str]
    placement: list[int] = Field(
        default_factory=list, description="answers to a placement check, per competency"
    )


class HeatmapOut(BaseModel):
    section: SectionOut
    unit: str | None
    current_unit: str | None = Field(
        default=None, description="the unit of the section's most recent work"
    )
    units: list[Link]
    sort: str
    likely_known: bool = True
    """Whether cells known only on credit from advanced work are shown."""
    columns: list[HeatColumn]
    rows: list[HeatRow]


class NeedOut(BaseModel):
    student: PersonOut
    kind: Literal["stuck", "off_pace", "inactive", "support"]
    rule: str = Field(description="the rule that fired, in words")
    evidence: str
    competency: str | None = None
    competency_title: str | None = None
    prerequisite: str | None = Field(
        default=None, description="a direct prerequisite to assign first, where there is one"
    )
    prerequisite_title: str | None = None


class NeedSeenIn(Input):
    student_id: DbId
    kind: Literal["stuck", "off_pace", "inactive", "support"]


class MessageIn(Input):
    body: str = Field(min_length=1, max_length=MAX_TEXT)


class MessageOut(BaseModel):
    id: int
    sender: str
    body: str
    created_at: dt.datetime
    read: bool


class MessagesOut(BaseModel):
    student: PersonOut
    messages: list[MessageOut]


class MemberIn(Input):
    student_id: DbId


class EvidenceAttempt(BaseModel):
    at: dt.datetime
    item: str
    item_title: str
    step_prompt: str
    response: str | None
    correct: bool
    hints_used: int
    kind: str = Field(description="answer, placement or worked_example")


class EvidencePoint(BaseModel):
    at: dt.datetime
    p: float
    status: str
    cause: str


class EvidenceOut(BaseModel):
    """One student's evidence on one competency: attempts and the model's estimate over time."""

    student: PersonOut
    section: SectionOut
    competency: str
    title: str
    status: str
    status_label: str
    p_mastery: float | None
    attempts: list[EvidenceAttempt]
    estimate: list[EvidencePoint]


class NeedsOut(BaseModel):
    section: SectionOut
    needs: list[NeedOut]
    seen: int = Field(default=0, description="needs marked as seen today, left out of the list")


class GroupOut(BaseModel):
    id: int | None
    name: str
    kind: str
    competency: str | None
    competency_title: str | None
    reason: str
    students: list[PersonOut]


class GroupsOut(BaseModel):
    section: SectionOut
    suggested: list[GroupOut]
    saved: list[GroupOut]
    activities: list[Link] = []
    """Activities aligned to the class's course, to assign (``href`` is the activity key)."""


class GroupIn(Input):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    competency: str | None = Field(default=None, max_length=MAX_NAME)
    reason: str = Field(default="", max_length=MAX_TEXT)
    student_ids: list[DbId] = Field(min_length=1, max_length=200)


class GroupPatch(Input):
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    student_ids: list[DbId] | None = Field(default=None, min_length=1, max_length=200)


class AssignmentIn(Input):
    student_id: DbId | None = None
    group_id: DbId | None = None
    competency: str | None = Field(default=None, max_length=MAX_NAME)
    activity: str | None = Field(default=None, max_length=MAX_NAME)
    note: str = Field(default="", max_length=MAX_TEXT)
    due_on: dt.date | None = None


class AssignmentsOut(BaseModel):
    assignments: list[AssignmentOut]
    students: int


class PacingRow(BaseModel):
    student: PersonOut
    mastered: int
    remaining: int
    rate_per_week: float
    forecast: dt.date | None
    early: dt.date | None
    late: dt.date | None
    at_risk: bool


class PacingOut(BaseModel):
    section: SectionOut
    deadline: dt.date | None
    students: list[PacingRow]
    at_risk: int
    median_forecast: dt.date | None


# --- leaders ----------------------------------------------------------------------------


class ReportCell(BaseModel):
    group: str
    students: int | None = Field(description="null when suppressed (fewer than 10 students)")
    suppressed: bool
    mean_mastered: float | None
    mean_growth: float | None


class ReportOut(BaseModel):
    by: str
    min_cell: int
    cells: list[ReportCell]


class GapPoint(BaseModel):
    week: dt.date
    cells: list[ReportCell]


class GapOut(BaseModel):
    subgroup: str
    min_cell: int
    points: list[GapPoint]


class SupportCoverage(BaseModel):
    kind: str
    students: int | None
    suppressed: bool
    share: float | None


class SupportsOut(BaseModel):
    min_cell: int
    students: int
    coverage: list[SupportCoverage]
    flagged_without_support: int | None
