"""The live learner state: stored per student and competency, updated with every attempt.

The attempt log is the truth. Beside it, the ``mastery`` table holds each student's
:class:`learnway.paths.LearnerState` under the course's live model version, and
``mastery_events`` records every change of status or probability band. A new attempt updates
the state in its own transaction in time independent of the student's history:

- the student's rows are read (at most one per competency of the course), the attempt applied
  by :func:`learnway.paths.apply_attempts`, the changed rows written back and the changes
  appended as events;
- an attempt older than the student's latest evidence (an offline device, a late import)
  cannot be applied on top: it is stored, and a background job replays that student
  (:func:`replay_students`), while the pages say the student's state is updating.

Reading the state (:func:`load_state`) costs one indexed query, whatever the history's length.
"""

from __future__ import annotations

import datetime as dt
import pickle
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import (
    Connection,
    Float,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    select,
    text,
    type_coerce,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from learnway.learner import Attempt as ModelAttempt
from learnway.learner import KTModel
from learnway.learner._base import decode_state, encode_state
from learnway.paths import (
    P_MAX,
    P_MIN,
    CourseGraph,
    LearnerState,
    MasteryPolicy,
    Planner,
    Recommendation,
    SchoolCalendar,
    Status,
    apply_attempts,
    is_mastered,
    mastery_status,
    replay_attempts,
    stored_policy,
)
from learnway.store._assignment import planner_config
from learnway.store._attempts import AttemptIn, AttemptReport, record_attempts
from learnway.store._jobs import enqueue
from learnway.store._progress import (
    SECONDS_PER_DAY,
    day_of,
    evidence_of,
    load_course,
    moment_of,
)
from learnway.store._schema import (
    Attempt,
    CompetencyRow,
    ItemRow,
    Job,
    LearnerModelRow,
    LearnerModelState,
    MasteredTotal,
    Mastery,
    MasteryEvent,
    StepAlignment,
    StepRow,
    User,
)

STATUS_NAMES = {
    Status.NOT_STARTED: "not_started",
    Status.PRACTICING: "practicing",
    Status.MASTERED: "mastered",
    Status.DUE_FOR_REVIEW: "due_for_review",
    Status.STUCK: "stuck",
    Status.LIKELY_KNOWN: "likely_known",
}
MASTERED_NAMES = ("mastered", "due_for_review")
"""The statuses that count as mastered in every figure (review due is still mastered)."""
BANDS = np.array([0.25, 0.5, 0.75])
"""Probability bands: a move from one to another is a mastery event even without a change of
status."""
REPLAY_JOB = "replay_student"


def band(p: NDArray[np.float64]) -> NDArray[np.int64]:
    return np.digitize(p, BANDS).astype(np.int64)


@dataclass(frozen=True)
class LiveCourse:
    """A course as the live path needs it: the planner's graph, the database ids of its
    competencies (in the graph's order) and the model version whose state is served."""

    course: CourseGraph
    framework_id: int
    competency_ids: NDArray[np.int64]
    version: int
    model: KTModel | None = None
    """The version's fitted estimator when its family is not BKT: its online update then
    gives each answered competency's estimate (see :func:`_believe`); ``None``: the course's
    BKT parameters give it."""
    planner: dict[str, Any] | None = None
    """The planner's settings stored with the version by ``learnway calibrate`` (the
    configuration the policy benchmark measures); ``None``: the course's defaults."""
    step_columns: dict[int, tuple[int, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    """The columns each step is aligned to, read once per step (:func:`columns_of_steps`):
    content does not change under a live course."""

    @cached_property
    def policy(self) -> MasteryPolicy:
        policy = self.course.policy()
        if self.planner:
            policy = stored_policy(self.planner, self.course.graph.codes, policy)
        # Credit from advanced work is a BKT observation on a prerequisite; another model has
        # no such observation, so each competency moves on its own evidence only.
        return policy if self.model is None else replace(policy, prereq_credit=0.0)


def active_version(session: Session, framework_id: int) -> int:
    """The live model version of a course (0: the content's default parameters)."""
    version = session.scalar(
        select(LearnerModelRow.id).where(
            LearnerModelRow.framework_id == framework_id, LearnerModelRow.status == "active"
        )
    )
    return int(version or 0)


def live_course(
    session: Session, course: CourseGraph, framework_id: int, *, version: int | None = None
) -> LiveCourse:
    ids = dict(
        session.execute(
            select(CompetencyRow.code, CompetencyRow.id).where(
                CompetencyRow.framework_id == framework_id
            )
        ).all()
    )
    version = active_version(session, framework_id) if version is None else version
    blob = session.scalar(select(LearnerModelRow.model).where(LearnerModelRow.id == version))
    figures = session.scalar(select(LearnerModelRow.figures).where(LearnerModelRow.id == version))
    return LiveCourse(
        course=course,
        framework_id=framework_id,
        competency_ids=np.array([ids[code] for code in course.graph.codes], dtype=np.int64),
        version=version,
        model=None if blob is None else load_model(blob),
        planner=((figures or {}).get("planner") or {}).get("settings") or None,
    )


def dump_model(model: KTModel) -> bytes:
    """A fitted estimator as stored with its model version (only ``learnway calibrate``
    writes these, from models it has just fitted)."""
    return pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)


def load_model(blob: bytes) -> KTModel:
    model = pickle.loads(blob)  # written by calibrate, into the school database only
    if not isinstance(model, KTModel) or not model.bounded_state():
        raise TypeError("a stored learner model must be a fitted model with a bounded state")
    return model


EVENTS_INSERT = insert(MasteryEvent)
STATE_COLUMNS = (
    Mastery.student_id, Mastery.competency_id, Mastery.p_mastery, Mastery.evidence,
    Mastery.evidence_count, Mastery.no_progress, Mastery.peak, Mastery.hint_rate,
    Mastery.reviews, Mastery.mastered_once, Mastery.last_evidence_at,
)  # fmt: skip


def load_state(session: Session, live: LiveCourse, student_ids: Sequence[int]) -> LearnerState:
    """The stored state of ``student_ids`` (rows in that order): one indexed read, its rows
    taken as the driver gives them and converted in bulk, column by column (the time of last
    evidence exactly as :func:`day_of` gives it)."""
    return _load_state(session, live, student_ids)[0]


def _load_state(
    session: Session, live: LiveCourse, student_ids: Sequence[int], *, stamped: bool = False
) -> tuple[LearnerState, tuple[Any, ...]]:
    """:func:`load_state`, and with ``stamped`` the :func:`_stamp` of the rows it read."""
    state = LearnerState.new(len(student_ids), live.course.params)
    if not student_ids:
        return state, ()
    dialect = session.get_bind().dialect
    postgres = dialect.name == "postgresql"
    stmt, sql = _state_read(dialect)
    params = {"students": [int(i) for i in student_ids], "version": live.version}
    rows = plain_rows(session, stmt, params, sql=sql)
    stamp = tuple(tuple(r) for r in rows) if stamped else ()
    if not rows:
        return state, stamp
    table = np.array(rows, dtype=np.float64 if postgres else object)  # one pass over the rows
    values = table[:, :10].astype(np.float64).T
    r = positions(np.asarray(student_ids, dtype=np.int64), values[0].astype(np.int64))
    c = positions(live.competency_ids, values[1].astype(np.int64))
    keep = (r >= 0) & (c >= 0)
    r, c, values = r[keep], c[keep], values[:, keep]
    state.p_known[r, c], state.evidence[r, c] = values[2], values[3]
    state.attempts[r, c], state.no_progress[r, c] = values[4], values[5]
    state.peak[r, c], state.hint_rate[r, c] = values[6], values[7]
    state.reviews[r, c], state.mastered_once[r, c] = values[8], values[9] > 0
    state.last_seen[r, c] = _days(table[:, 10], postgres)[keep]
    return state, stamp


_STATE_READS: dict[str, tuple[Select[Any], str | None]] = {}


def _state_read(dialect: Any) -> tuple[Select[Any], str | None]:
    """The read of :func:`_load_state`, built once per dialect, its students and model version
    bound at each call (``students``, ``version``); on PostgreSQL with its SQL, compiled once,
    the students an array."""
    found = _STATE_READS.get(dialect.name)
    if found is None:
        postgres = dialect.name == "postgresql"
        last: Any
        if postgres:
            last = cast(func.extract("epoch", Mastery.last_evidence_at), Float)
            students = Mastery.student_id == any_(bindparam("students", type_=ARRAY(Integer)))
        else:
            last = type_coerce(Mastery.last_evidence_at, String)
            students = Mastery.student_id.in_(bindparam("students", expanding=True))
        stmt = select(*STATE_COLUMNS[:-1], last).where(
            students, Mastery.model_version == bindparam("version")
        )
        sql = str(stmt.compile(dialect=dialect)) if postgres else None
        found = _STATE_READS[dialect.name] = (stmt, sql)
    return found


def plain_rows(
    session: Session,
    stmt: Select[*tuple[Any, ...]],
    params: dict[str, Any] | None = None,
    *,
    sql: str | None = None,
) -> list[tuple[Any, ...]]:
    """The rows of ``stmt`` as plain tuples from the driver, in the session's transaction,
    without a result row object each (for reads of many rows converted in bulk). Columns come
    as the driver types them: no ORM conversion. PostgreSQL sends them in binary, its
    parameters going to the driver as they are (psycopg adapts numbers, text, dates, aware
    times and lists itself); ``sql``, the statement compiled for it once, saves compiling it
    again; SQLite's are bound as SQLAlchemy binds them. ``params``: values of the statement's
    bound parameters."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        result = connection.execute(stmt, params or {})
        try:
            return list(result.cursor.fetchall())
        finally:
            result.close()
    if sql is None:
        compiled = stmt.compile(
            dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        sql, params = str(compiled), {**compiled.params, **(params or {})}
    driver: Any = connection.connection.driver_connection
    with driver.cursor(binary=True) as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def positions(keys: NDArray[np.int64], values: NDArray[np.int64]) -> NDArray[np.int64]:
    """The index in ``keys`` of each of ``values``, -1 where it is not there (of equal keys
    the last, as a dictionary built from ``keys`` gives)."""
    order = np.argsort(keys, kind="stable")
    ranked = keys[order]
    at = np.searchsorted(ranked, values, side="right") - 1
    found = at >= 0
    found[found] = ranked[at[found]] == values[found]
    return np.where(found, order[np.maximum(at, 0)] if len(keys) else -1, -1)


def _days(stamps: NDArray[Any], postgres: bool) -> NDArray[np.float64]:
    """Stored times (PostgreSQL: seconds since the epoch; SQLite: UTC wall-clock text) on the
    planner's clock, exactly as :func:`day_of` gives them; ``nan`` where there is none."""
    if postgres:
        return stamps.astype(np.float64) / SECONDS_PER_DAY
    micros = stamps.astype("datetime64[us]")
    seconds = (micros - np.datetime64(0, "us")).astype(np.int64) / 1e6
    return np.where(np.isnat(micros), np.nan, seconds / SECONDS_PER_DAY)


def _row(
    live: LiveCourse,
    state: LearnerState,
    r: int,
    c: int,
    student_id: int,
    status: str,
    moment: dt.datetime,
) -> dict[str, Any]:
    last = state.last_seen[r, c]
    return {
        "student_id": student_id,
        "competency_id": int(live.competency_ids[c]),
        "model_version": live.version,
        "p_mastery": float(state.p_known[r, c]),
        "evidence": float(state.evidence[r, c]),
        "evidence_count": int(state.attempts[r, c]),
        "no_progress": int(state.no_progress[r, c]),
        "peak": float(state.peak[r, c]),
        "hint_rate": float(state.hint_rate[r, c]),
        "reviews": int(state.reviews[r, c]),
        "mastered_once": bool(state.mastered_once[r, c]),
        "last_evidence_at": None if np.isnan(last) else moment_of(float(last)),
        "status": status,
        "updated_at": moment,
    }


_UPSERTS: dict[str, Any] = {}


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert or update state rows (every row has the keys of :func:`_row`): one statement,
    built once per dialect."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    stmt = _UPSERTS.get(dialect)
    if stmt is None:
        module: Any = postgresql if dialect == "postgresql" else sqlite
        stmt = module.insert(Mastery.__table__)
        keys = ("student_id", "competency_id", "model_version")
        stmt = _UPSERTS[dialect] = stmt.on_conflict_do_update(
            index_elements=list(keys),
            set_={k: stmt.excluded[k] for k in rows[0] if k not in keys},
        )
    session.connection().execute(stmt, rows)


def _events(
    events: list[dict[str, Any]],
    live: LiveCourse,
    before: LearnerState,
    after: LearnerState,
    rows: NDArray[np.int64],
    student_ids: Sequence[int],
    days: NDArray[np.float64],
    *,
    cause: str,
    attempt_ids: Sequence[str | None],
) -> None:
    """Append an event for every cell of the students at ``rows`` whose status or probability
    band changed between ``before`` and ``after`` (the evidence of the students' attempts at
    ``days``)."""
    policy = live.policy
    b, a = before.rows(rows), after.rows(rows)
    now = days[:, None]
    old_status, new_status = mastery_status(b, policy, now), mastery_status(a, policy, now)
    moved = (old_status != new_status) | (band(a.p_known) != band(b.p_known))
    if not moved.any():
        return
    old_m, new_m = is_mastered(b, policy), is_mastered(a, policy)
    for i, c in zip(*np.nonzero(moved), strict=True):
        events.append(
            {
                "student_id": student_ids[int(rows[i])],
                "competency_id": int(live.competency_ids[c]),
                "model_version": live.version,
                "at": moment_of(float(days[i])),
                "from_status": STATUS_NAMES[Status(int(old_status[i, c]))],
                "to_status": STATUS_NAMES[Status(int(new_status[i, c]))],
                "p_before": float(b.p_known[i, c]),
                "p_after": float(a.p_known[i, c]),
                "mastered_change": int(new_m[i, c]) - int(old_m[i, c]),
                "cause": cause,
                "attempt_id": attempt_ids[i],
            }
        )


def _write(
    session: Session,
    live: LiveCourse,
    state: LearnerState,
    cells: NDArray[np.bool_],
    student_ids: Sequence[int],
    events: list[dict[str, Any]],
    moment: dt.datetime,
) -> None:
    """Write the state of the marked cells (upsert) and the events."""
    _put(session, _state_rows(live, state, cells, student_ids, moment), events)


def _state_rows(
    live: LiveCourse,
    state: LearnerState,
    cells: NDArray[np.bool_],
    student_ids: Sequence[int],
    moment: dt.datetime,
) -> list[dict[str, Any]]:
    """The stored rows of the marked cells, with their status at ``moment``."""
    status = mastery_status(state, live.policy, day_of(moment))
    return [
        _row(live, state, r, c, student_ids[r], STATUS_NAMES[Status(int(status[r, c]))], moment)
        for r, c in zip(*(x.tolist() for x in np.nonzero(cells)), strict=True)
    ]


def _put(session: Session, rows: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    """Upsert state rows (:func:`_state_rows`) and append events, in batches."""
    for start in range(0, len(rows), 5000):
        _upsert(session, rows[start : start + 5000])
    for start in range(0, len(events), 5000):
        session.connection().execute(EVENTS_INSERT, events[start : start + 5000])


@dataclass(frozen=True)
class Observation:
    """One attempt on one competency, on the planner's clock."""

    attempt_id: str
    competency: int
    correct: bool
    hints: int
    day: float
    kind: str = "answer"


def lock_student(session: Session, student_id: int) -> None:
    """Serialize writers of one student's state. PostgreSQL locks the student's row; SQLite
    already holds the database's write lock once the attempt is inserted."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_LOCK_STUDENT, {"student": student_id})


_LOCK_STUDENT = select(User.id).where(User.id == bindparam("student")).with_for_update()


@dataclass(frozen=True)
class StateChange:
    """One student's stored state (one row) before and after their new attempts."""

    before: LearnerState
    after: LearnerState


def advance(
    session: Session,
    live: LiveCourse,
    student_id: int,
    observations: Sequence[Observation],
    *,
    now: dt.datetime | None = None,
) -> StateChange | None:
    """Apply a student's new observations (in time order) to the stored state; return the
    state before and after them.

    Returns None, changing nothing, when the first is older than the student's latest
    evidence: the caller then has the student replayed.
    """
    if not observations:
        state = load_state(session, live, [student_id])
        return StateChange(state, state)
    ahead = _prepare(session, live, student_id, observations, now=now)
    return None if ahead is None else _store(session, live, ahead)


@dataclass(frozen=True)
class _Ahead:
    """A student's change of state computed from what is stored, not yet written."""

    before: LearnerState
    after: LearnerState
    events: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    """The state rows to write (:func:`_state_rows` of the changed cells)."""
    beliefs: dict[int, dict[str, Any]]
    moment: dt.datetime
    stamp: tuple[Any, ...] = ()
    """The :func:`_stamp` of the stored state it was computed from."""


def _prepare(
    session: Session,
    live: LiveCourse,
    student_id: int,
    observations: Sequence[Observation],
    *,
    now: dt.datetime | None,
) -> _Ahead | None:
    """The change that ``observations`` make to the stored state (reads only); None when the
    first is older than the student's latest evidence."""
    on_sqlite = session.get_bind().dialect.name != "postgresql"  # PostgreSQL needs no stamp
    state, stamp = _load_state(session, live, [student_id], stamped=on_sqlite)
    latest = np.nanmax(state.last_seen) if np.isfinite(state.last_seen).any() else -np.inf
    if observations[0].day < latest:
        return None
    beliefs = _model_states(session, live, [student_id])
    events: list[dict[str, Any]] = []
    after = _apply(live, state, student_id, observations, beliefs.get(student_id), events,
                   cause="attempt")  # fmt: skip
    moment = now or dt.datetime.now(dt.UTC)
    rows = _state_rows(live, after, _changed(state, after), [student_id], moment)
    return _Ahead(state, after, events, rows, beliefs, moment, stamp)


def _store(session: Session, live: LiveCourse, ahead: _Ahead) -> StateChange:
    """Write a change computed by :func:`_prepare` (nothing left to compute: on SQLite every
    other writer waits while it runs)."""
    _put(session, ahead.rows, ahead.events)
    _save_model_states(session, live, ahead.beliefs, ahead.moment)
    return StateChange(ahead.before, ahead.after)


def _stamp(session: Session, live: LiveCourse, student_id: int) -> tuple[Any, ...]:
    """The student's stored state rows as read: any other writer's change of them shows,
    whatever its clock says (a time of update, set by a replay or by a clock behind, could
    hide it). Nothing on PostgreSQL, where the student's row lock, taken before the state is
    read, keeps every other writer of it out until the commit."""
    if session.get_bind().dialect.name == "postgresql":
        return ()
    stmt, sql = _state_read(session.get_bind().dialect)
    rows = plain_rows(session, stmt, {"students": [student_id], "version": live.version}, sql=sql)
    return tuple(tuple(r) for r in rows)


def _apply(
    live: LiveCourse,
    state: LearnerState,
    student_id: int,
    observations: Sequence[Observation],
    belief: dict[str, Any] | None,
    events: list[dict[str, Any]],
    *,
    cause: str,
) -> LearnerState:
    """One student's observations applied in order to a one-row state (and, when the live
    model is not BKT, to its online state ``belief``), each change of status or band appended
    to ``events``."""
    course, policy = live.course, live.policy
    row = np.zeros(1, dtype=np.int64)
    for obs in observations:
        after = apply_attempts(
            state, row, [obs.competency], [obs.correct], now=[obs.day], params=course.params,
            graph=course.graph, policy=policy, hints=[obs.hints], kind=[obs.kind],
        )  # fmt: skip
        if live.model is not None and belief is not None:
            _believe(live.model, belief, state, after, obs, course.graph.codes[obs.competency])
        _events(
            events, live, state, after, row, [student_id], np.array([obs.day]),
            cause=cause, attempt_ids=[obs.attempt_id],
        )  # fmt: skip
        state = after
    return state


def _believe(
    model: KTModel,
    belief: dict[str, Any],
    before: LearnerState,
    after: LearnerState,
    obs: Observation,
    code: str,
) -> None:
    """The estimate of a model other than BKT for the competency just observed: its online
    update on the answer (right only without hints, as it was fitted), then its probability of
    a right next answer there. Evidence moves the estimate in its own direction only (a right
    answer never lowers it, a wrong one never raises it), within ``[P_MIN, P_MAX]``. A worked
    example is not an answer: the model does not see it."""
    if obs.kind == "worked_example":
        return
    right = obs.correct and obs.hints == 0
    model.update(belief, ModelAttempt(code, int(right)))
    c = obs.competency
    old = float(before.p_known[0, c])
    p = model.predict_next(belief, code)
    p = max(p, old) if obs.correct else min(p, old)
    after.p_known[0, c] = min(max(p, P_MIN), P_MAX)
    after.peak[0, c] = max(float(after.peak[0, c]), float(after.p_known[0, c]))


def _model_states(
    session: Session, live: LiveCourse, student_ids: Sequence[int], *, fresh: bool = False
) -> dict[int, dict[str, Any]]:
    """The live model's online state of each student (a new one where none is stored, or for
    every student with ``fresh``); empty when the live model is BKT."""
    if live.model is None:
        return {}
    stored: dict[int, Any] = {} if fresh else dict(
        session.execute(
            select(LearnerModelState.student_id, LearnerModelState.state).where(
                LearnerModelState.student_id.in_(student_ids),
                LearnerModelState.model_version == live.version,
            )
        ).all()
    )  # fmt: skip
    return {
        sid: decode_state(stored[sid]) if sid in stored else live.model.init_state()
        for sid in student_ids
    }


def _save_model_states(
    session: Session, live: LiveCourse, beliefs: dict[int, dict[str, Any]], moment: dt.datetime
) -> None:
    if not beliefs:
        return
    dialect = session.get_bind().dialect.name
    module: Any = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(LearnerModelState.__table__)
    stmt = stmt.on_conflict_do_update(
        index_elements=["student_id", "model_version"],
        set_={"state": stmt.excluded.state, "updated_at": stmt.excluded.updated_at},
    )
    session.connection().execute(
        stmt,
        [{"student_id": sid, "model_version": live.version, "state": encode_state(belief),
          "updated_at": moment} for sid, belief in beliefs.items()],
    )  # fmt: skip


def _changed(before: LearnerState, after: LearnerState) -> NDArray[np.bool_]:
    """The cells where any part of the state differs (two unseen cells, NaN last seen, are
    equal): only these rows are written."""
    out = np.zeros(after.shape, dtype=bool)
    for f in fields(after):
        a, b = getattr(before, f.name), getattr(after, f.name)
        out |= (a != b) & ~(np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a != b
    return out


def observations_of(
    session: Session, live: LiveCourse, attempts: Sequence[Any]
) -> dict[int, list[Observation]]:
    """The observations of stored attempts (``AttemptIn`` or rows), per student, in time
    order: one per competency of the course that the attempt's step is aligned to."""
    aligned = columns_of_steps(session, live, {a.step_id for a in attempts})
    out: dict[int, list[Observation]] = {}
    for a in sorted(attempts, key=lambda a: (a.timestamp, a.id)):
        for c in aligned.get(a.step_id, ()):
            out.setdefault(a.student_id, []).append(
                Observation(
                    a.id, c, bool(a.correct), int(a.hints_used), day_of(a.timestamp), a.kind
                )
            )
    return out


def columns_of_steps(
    session: Session, live: LiveCourse, step_ids: set[int]
) -> dict[int, tuple[int, ...]]:
    """The course's columns (in course order) that each step is aligned to; steps already
    read for ``live`` are not read again."""
    known = live.step_columns
    missing = [s for s in step_ids if s not in known]
    if missing:
        index = live.course.graph.index
        found: dict[int, list[int]] = {s: [] for s in missing}
        for chunk in range(0, len(missing), 5000):
            for step_id, code in session.execute(
                select(StepAlignment.step_id, CompetencyRow.code)
                .join(CompetencyRow, CompetencyRow.id == StepAlignment.competency_id)
                .where(StepAlignment.step_id.in_(missing[chunk : chunk + 5000]))
                .order_by(CompetencyRow.sequence)
            ):
                if code in index:
                    found[step_id].append(index[code])
        known.update({s: tuple(c) for s, c in found.items()})
    return {s: known[s] for s in step_ids if known.get(s)}


def apply_new_attempts(
    session: Session,
    live: LiveCourse,
    attempts: Sequence[Any],
    *,
    now: dt.datetime | None = None,
) -> dict[int, StateChange | None]:
    """Bring the state up to date with newly stored attempts; return each student's change of
    state, or None for a student queued for a replay because some attempt arrived out of
    order."""
    return apply_observations(session, live, observations_of(session, live, attempts), now=now)


def apply_observations(
    session: Session,
    live: LiveCourse,
    observed: dict[int, list[Observation]],
    *,
    now: dt.datetime | None = None,
) -> dict[int, StateChange | None]:
    """:func:`apply_new_attempts` for the observations of the new attempts, per student."""
    changes: dict[int, StateChange | None] = {}
    for student_id, observations in sorted(observed.items()):
        if not observations:
            continue
        lock_student(session, student_id)
        changes[student_id] = change = advance(session, live, student_id, observations, now=now)
        if change is None:
            enqueue(
                session, REPLAY_JOB, key=f"{REPLAY_JOB}:{student_id}",
                payload={"student_id": student_id, "framework_id": live.framework_id},
            )  # fmt: skip
    return changes


def replay_students(
    session: Session,
    live: LiveCourse,
    student_ids: Sequence[int],
    *,
    cause: str = "replay",
    now: dt.datetime | None = None,
) -> LearnerState:
    """Rebuild the stored state and events of ``student_ids`` under ``live.version`` from
    their attempts (background work: its cost grows with the history). Returns their state."""
    ids = list(student_ids)
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for table in (Mastery, MasteryEvent):
            session.execute(
                delete(table).where(
                    table.student_id.in_(chunk), table.model_version == live.version
                )
            )
    ev = evidence_of(session, live.course, ids)
    events: list[dict[str, Any]] = []
    from learnway.store._placement import starting_state  # a placement check's belief

    start, placed = starting_state(session, live, ids)
    if live.model is not None:
        return _replay_with_model(session, live, ids, ev, events, start, placed, cause, now)

    def on_round(at: NDArray[np.int64], before: LearnerState, after: LearnerState) -> None:
        _events(
            events, live, before, after, ev.students[at], ids, ev.days[at], cause=cause,
            attempt_ids=[ev.attempt_ids[i] for i in at],
        )  # fmt: skip

    state = replay_attempts(
        start, ev.students, ev.competencies,
        ev.correct, now=ev.days, params=live.course.params, graph=live.course.graph,
        policy=live.policy, hints=ev.hints, kind=ev.kinds, on_round=on_round,
    )  # fmt: skip
    written = (state.evidence > 0) | placed
    _write(session, live, state, written, ids, events, now or dt.datetime.now(dt.UTC))
    return state


def _replay_with_model(
    session: Session,
    live: LiveCourse,
    ids: list[int],
    ev: Any,
    events: list[dict[str, Any]],
    start: LearnerState,
    placed: NDArray[np.bool_],
    cause: str,
    now: dt.datetime | None,
) -> LearnerState:
    """Replay under a model other than BKT: its online update is sequential, so each student's
    observations are applied one by one from their starting state (background work only)."""
    beliefs = _model_states(session, live, ids, fresh=True)
    per_student: dict[int, list[Observation]] = {r: [] for r in range(len(ids))}
    for i in range(len(ev.attempt_ids)):
        per_student[int(ev.students[i])].append(
            Observation(ev.attempt_ids[i], int(ev.competencies[i]), bool(ev.correct[i]),
                        int(ev.hints[i]), float(ev.days[i]), str(ev.kinds[i]))
        )  # fmt: skip
    rows = []
    for r, sid in enumerate(ids):
        one = replace(start, **{f.name: getattr(start, f.name)[r : r + 1].copy()
                                for f in fields(start)})  # fmt: skip
        rows.append(_apply(live, one, sid, per_student[r], beliefs[sid], events, cause=cause))
    state = LearnerState(**{
        f.name: np.concatenate([getattr(x, f.name) for x in rows])
        if rows else getattr(LearnerState.new(0, live.course.params), f.name)
        for f in fields(LearnerState)
    })  # fmt: skip
    moment = now or dt.datetime.now(dt.UTC)
    session.execute(
        delete(LearnerModelState).where(
            LearnerModelState.student_id.in_(ids), LearnerModelState.model_version == live.version
        )
    )
    _write(session, live, state, (state.evidence > 0) | placed, ids, events, moment)
    _save_model_states(session, live, beliefs, moment)
    return state


def updating_students(session: Session, student_ids: Sequence[int]) -> set[int]:
    """Students whose state is being replayed in the background right now."""
    if not student_ids:
        return set()
    keys = [f"{REPLAY_JOB}:{sid}" for sid in student_ids]
    rows = session.scalars(
        select(Job.key).where(Job.status.in_(("queued", "running")), Job.key.in_(keys))
    )
    return {int(str(k).rsplit(":", 1)[1]) for k in rows}


@dataclass
class PracticeReport(AttemptReport):
    """What :func:`record_practice` did: the attempt log's report, and the state of each
    student brought up to date, before and after (a student queued for a replay, or with no
    new attempt, has none)."""

    changes: dict[int, StateChange] = field(default_factory=dict)


def record_practice(
    session: Session,
    course: CourseGraph,
    framework_id: int,
    attempts: Sequence[AttemptIn],
    *,
    now: dt.datetime | None = None,
    live: LiveCourse | None = None,
    known: bool = False,
) -> PracticeReport:
    """Store attempts and bring each of their students' live state up to date, in the caller's
    transaction (an out-of-order attempt queues a replay of its student instead). ``live`` is
    the course as a server already holds it (else it is read); ``known``: the caller has read
    the students and steps (see :func:`record_attempts`). The report carries each updated
    student's state before and after (:attr:`PracticeReport.changes`)."""
    live = live or live_course(session, course, framework_id)
    # Everything is read and each student's new state computed before the first write: on
    # SQLite that write takes the database's one write lock until the commit. A student's
    # state that changed meanwhile (a stamp taken before and after tells) is brought up to
    # date again once the lock is held.
    observed = observations_of(session, live, attempts)
    ahead: dict[int, _Ahead | None] = {}
    for sid, obs in sorted(observed.items()):
        if obs:
            lock_student(session, sid)
            ahead[sid] = _prepare(session, live, sid, obs, now=now)
    stored_report = record_attempts(session, attempts, known=known)
    report = PracticeReport(**{f.name: getattr(stored_report, f.name)
                               for f in fields(stored_report)})  # fmt: skip
    stored = set(report.stored)
    for sid, obs in sorted(observed.items()):
        new = [o for o in obs if o.attempt_id in stored]
        if not new:
            continue
        change = ahead[sid]
        if change is not None and new == obs and _stamp(session, live, sid) == change.stamp:
            report.changes[sid] = _store(session, live, change)
        else:  # some not stored, out of order, or changed meanwhile
            found = apply_observations(session, live, {sid: new}, now=now).get(sid)
            if found is not None:
                report.changes[sid] = found
    return report


def recommend(
    session: Session,
    live: LiveCourse,
    student_id: int,
    *,
    goals: Sequence[str] = (),
    interests: dict[str, float] | None = None,
    deadline: dt.date | None = None,
    now: dt.datetime | None = None,
    calendar: SchoolCalendar | None = None,
) -> list[Recommendation]:
    """The student's short ranked list of next activities, with reasons, from the stored
    state; ``calendar`` (day 0 the Unix epoch, as the planner's clock here) makes urgency count
    school days only."""
    course = live.course
    moment = now or dt.datetime.now(dt.UTC)
    state = load_state(session, live, [student_id])
    config = planner_config(session, student_id=student_id, now=moment)  # experiments
    planner = Planner(
        course.graph,
        course.bank,
        course.params,
        policy=live.policy,
        config=config,
        calendar=calendar,
    )
    deadline_day = None
    if deadline is not None:
        deadline_day = day_of(dt.datetime.combine(deadline, dt.time(), tzinfo=dt.UTC))
    return planner.recommend(
        state, day_of(moment), goals=[g for g in goals if g in course.graph.index],
        interests=interests, deadline=deadline_day, origin=dt.date(1970, 1, 1),
    )  # fmt: skip


def replay_job(session: Session, payload: dict[str, Any]) -> None:
    """Background job: replay one student of one course (queued by an out-of-order attempt)."""
    framework_id = int(payload["framework_id"])
    live = live_course(session, load_course(session, framework_id), framework_id)
    lock_student(session, int(payload["student_id"]))
    replay_students(session, live, [int(payload["student_id"])])


def rebuild_job(session: Session, payload: dict[str, Any]) -> None:
    """Background job: rebuild the live state of every student of every course (after an
    upgrade of the state's format)."""
    frameworks = session.scalars(select(ItemRow.framework_id).distinct()).all()
    for framework_id in frameworks:
        live = live_course(session, load_course(session, framework_id), framework_id)
        students = session.scalars(
            select(Attempt.student_id)
            .join(StepRow, StepRow.id == Attempt.step_id)
            .join(ItemRow, ItemRow.id == StepRow.item_id)
            .where(ItemRow.framework_id == framework_id)
            .distinct()
        ).all()
        replay_students(session, live, sorted(students))


def live_versions(session: Session) -> list[int]:
    """The model versions being served, across courses (0: content defaults)."""
    active = session.scalars(select(LearnerModelRow.id).where(LearnerModelRow.status == "active"))
    return [0, *active]


def mastered_counts(
    session: Session,
    students: Sequence[int] | Select[Any],
    *,
    until: dt.datetime | None = None,
) -> dict[int, int]:
    """Competencies each student has mastered (review due included) now, from the totals
    the database keeps beside the stored state (``mastered_totals``), or at ``until``: now
    less the changes the mastery events record since, so that the cost follows the recent
    events, not the history. ``students`` is a list of ids or a query of them (then one query
    each, whatever the number of students)."""
    counts: dict[int, int] = {} if isinstance(students, Select) else dict.fromkeys(students, 0)
    versions = live_versions(session)
    for chunk in _chunks(students):
        counts.update(
            plain_rows(
                session,
                select(MasteredTotal.student_id, func.sum(MasteredTotal.mastered))
                .where(
                    MasteredTotal.student_id.in_(chunk),
                    MasteredTotal.model_version.in_(versions),
                )
                .group_by(MasteredTotal.student_id)
                .having(func.sum(MasteredTotal.mastered) > 0),
            )
        )
    if until is None:
        return counts
    return {
        sid: max(n - later, 0)
        for sid, n, later in _with_changes(counts, mastered_changes(session, students, until))
    }


def count_mastered(connection: Connection, first: int, last: int) -> None:
    """Count again in ``mastered_totals`` the mastered competencies of students ``first`` to
    ``last`` (ids), from their state: for state loaded in bulk with the triggers that keep
    the totals switched off."""
    connection.execute(
        text(
            "INSERT INTO mastered_totals (student_id, model_version, mastered) "
            "SELECT student_id, model_version, count(*) FROM mastery "
            "WHERE status IN ('mastered', 'due_for_review') AND student_id BETWEEN :a AND :b "
            "GROUP BY student_id, model_version ON CONFLICT (student_id, model_version) "
            "DO UPDATE SET mastered = excluded.mastered"
        ),
        {"a": first, "b": last},
    )


def mastered_changes(
    session: Session, students: Sequence[int] | Select[Any], since: dt.datetime
) -> dict[int, int]:
    """Net competencies mastered by each student after ``since`` (mastery events only)."""
    versions = live_versions(session)
    changes: dict[int, int] = {}
    for chunk in _chunks(students):
        for sid, change in plain_rows(
            session,
            select(MasteryEvent.student_id, func.sum(MasteryEvent.mastered_change))
            .where(
                MasteryEvent.at > since,
                MasteryEvent.student_id.in_(chunk),
                MasteryEvent.model_version.in_(versions),
                MasteryEvent.mastered_change != 0,
            )
            .group_by(MasteryEvent.student_id),
        ):
            changes[sid] = int(change or 0)
    return changes


def _with_changes(counts: dict[int, int], changes: dict[int, int]) -> list[tuple[int, int, int]]:
    return [(sid, counts.get(sid, 0), changes.get(sid, 0)) for sid in counts.keys() | changes]


def _chunks(students: Sequence[int] | Select[Any]) -> list[Any]:
    if isinstance(students, Select):
        return [students]
    ids = list(students)
    return [ids[i : i + 5000] for i in range(0, len(ids), 5000)]


def daily_growth(
    session: Session, live: LiveCourse, student_id: int, *, points: int = 20
) -> list[tuple[dt.date, int, int]]:
    """(day, competencies mastered at its end, attempts so far) for the days with practice, at
    most ``points`` of them (the last always kept), from the events and a count of attempts
    per day."""
    if session.get_bind().dialect.name == "postgresql":
        day = func.date(func.timezone("UTC", Attempt.timestamp))
    else:
        day = func.date(Attempt.timestamp)
    per_day = [
        (d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)), int(n))
        for d, n in session.execute(
            select(day, func.count())
            .where(Attempt.student_id == student_id)
            .group_by(day)
            .order_by(day)
        )
    ]
    changes = session.execute(
        select(MasteryEvent.at, MasteryEvent.mastered_change)
        .where(
            MasteryEvent.student_id == student_id,
            MasteryEvent.model_version == live.version,
            MasteryEvent.mastered_change != 0,
            MasteryEvent.competency_id.in_(live.competency_ids.tolist()),
        )
        .order_by(MasteryEvent.at)
    ).all()
    stamps = np.array([day_of(at) for at, _ in changes])
    running = np.cumsum([change for _, change in changes])
    out, total = [], 0
    for d, n in per_day:
        total += n
        end = day_of(dt.datetime.combine(d, dt.time.max, tzinfo=dt.UTC))
        k = int(np.searchsorted(stamps, end, side="right"))
        out.append((d, int(running[k - 1]) if k else 0, total))
    if len(out) > points:
        keep = np.unique(np.linspace(0, len(out) - 1, points).round().astype(int))
        out = [out[i] for i in keep]
    return out
