"""A synthetic state at district or state scale, written with COPY (``learnway bench scale``).

On top of the demo school's content and roster, ``students`` more students in sections of
:data:`SECTION_SIZE`, each with ``attempts_per_student`` attempts over one school year; the
answers follow a known BKT per competency (random initial, learning, guess and slip
probabilities), competency after competency, so that calibration has something true to find.
Each student's learner state (one mastery row per competency practised, its BKT posterior) and
a mastery event for every competency that became mastered are written too, as the live path
would have left them. Rows go in with ``COPY`` in chunks of students; on PostgreSQL as a
superuser the foreign-key triggers are skipped for the session (every id is made here).
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, insert, select, text

from learnway.store._engine import transaction
from learnway.store._scale import ensure_partitions
from learnway.store._schema import (
    CompetencyRow,
    Course,
    Section,
    StepAlignment,
    User,
)
from learnway.store._state import count_mastered

SECTION_SIZE = 30
SEQUENCE = 25
"""Attempts on one competency in a row."""
MASTERED = 0.95
CHUNK_STUDENTS = 2000


@dataclass(frozen=True)
class ScaleReport:
    students: int
    attempts: int
    mastery_rows: int
    events: int
    seconds: float


def generate_scale(
    engine: Engine,
    *,
    students: int,
    attempts_per_student: int,
    seed: int = 11,
    year_start: dt.date = dt.date(2025, 9, 1),
    days: int = 270,
    progress: Callable[[str], None] | None = None,
    append: bool = False,
) -> ScaleReport:
    """Write the synthetic state into ``engine``'s database (PostgreSQL), which must hold the
    demo school (``learnway demo --no-serve``) and nothing synthetic yet, unless ``append``
    (more students on top of an earlier run, answering from the same BKT truth)."""
    if engine.dialect.name != "postgresql":
        raise ValueError("the scale generator writes with PostgreSQL's COPY: use PostgreSQL")
    if students < 1 or attempts_per_student < SEQUENCE:
        raise ValueError(f"need at least 1 student and {SEQUENCE} attempts per student")
    started = time.perf_counter()
    say = progress or (lambda _m: None)
    rng = np.random.default_rng(seed)
    with transaction(engine) as session:
        if not append and session.scalar(select(func.count()).where(User.sourced_id.like("syn-%"))):
            raise ValueError("this database already holds a synthetic state (add to it: --append)")
        course = session.execute(select(Course.id, Course.org_id, Course.framework_id)).first()
        if course is None:
            raise ValueError("no course: build the demo school first (learnway demo --no-serve)")
        course_id, school_id, _ = course
        pairs = session.execute(
            select(StepAlignment.competency_id, StepAlignment.step_id)
            .join(CompetencyRow, CompetencyRow.id == StepAlignment.competency_id)
            .order_by(StepAlignment.competency_id, StepAlignment.step_id)
        ).all()
        first_user = (session.scalar(select(func.max(User.id))) or 0) + 1
        sections = -(-students // SECTION_SIZE)
        first_section = (session.scalar(select(func.max(Section.id))) or 0) + 1
        session.execute(
            insert(Section),
            [{"id": k, "sourced_id": f"syn-section-{k}", "title": f"S{k}",
              "course_id": course_id, "school_id": school_id}
             for k in range(first_section, first_section + sections)],
        )  # fmt: skip
        for table in ("users", "sections"):
            session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                     f"(SELECT max(id) FROM {table}) + :more)"),
                {"more": students if table == "users" else 0},
            )  # fmt: skip
    competencies = np.array(sorted({c for c, _ in pairs}))
    steps_of = {c: np.array([s for cc, s in pairs if cc == c]) for c in competencies}
    truth = {
        "init": rng.uniform(0.05, 0.4, len(competencies)),
        "learn": rng.uniform(0.05, 0.3, len(competencies)),
        "guess": rng.uniform(0.1, 0.3, len(competencies)),
        "slip": rng.uniform(0.05, 0.15, len(competencies)),
    }
    rng = np.random.default_rng([seed, first_user])  # students added later answer anew
    with engine.begin() as connection:  # the year's months, so no row lands in a default
        ensure_partitions(connection, first=year_start,
                          through=year_start + dt.timedelta(days=days))  # fmt: skip
    say(f"{students:,} students, {sections:,} sections, {len(competencies)} competencies")
    counts = {"attempts": 0, "mastery": 0, "events": 0}
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()
        if superuser and superuser[0]:
            cursor.execute("SET session_replication_role = replica")
        for lo in range(0, students, CHUNK_STUDENTS):
            n = min(CHUNK_STUDENTS, students - lo)
            ids = np.arange(first_user + lo, first_user + lo + n)
            frames = _chunk(rng, ids, lo, attempts_per_student, competencies, steps_of, truth,
                            year_start, days, school_id, first_section)  # fmt: skip
            for table, frame in frames.items():
                _copy(cursor, table, frame)
            raw.commit()
            counts["attempts"] += len(frames["attempts"])
            counts["mastery"] += len(frames["mastery"])
            counts["events"] += len(frames["mastery_events"])
            say(f"{lo + n:,} students, {counts['attempts']:,} attempts "
                f"({time.perf_counter() - started:.0f} s)")  # fmt: skip
        cursor.execute("SET session_replication_role = DEFAULT")
        raw.commit()
    finally:
        raw.close()
    with engine.begin() as connection:  # the triggers that keep these were off
        count_mastered(connection, first_user, first_user + students - 1)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for table in ("users", "enrollments", "attempts", "mastery", "mastery_events"):
            connection.execute(text(f"ANALYZE {table}"))
    return ScaleReport(students, counts["attempts"], counts["mastery"], counts["events"],
                       time.perf_counter() - started)  # fmt: skip


def _chunk(
    rng: np.random.Generator,
    ids: np.ndarray,
    offset: int,
    per_student: int,
    competencies: np.ndarray,
    steps_of: dict[int, np.ndarray],
    truth: dict[str, np.ndarray],
    year_start: dt.date,
    days: int,
    school_id: int,
    first_section: int,
) -> dict[str, pd.DataFrame]:
    n = len(ids)
    k = max(1, per_student // SEQUENCE)
    length = per_student // k  # k sequences of `length` attempts (the remainder dropped)
    total = n * k * length
    # which competencies each student practises: k distinct, in a random order
    keys = rng.random((n, len(competencies)))
    chosen = np.argsort(keys, axis=1)[:, : min(k, len(competencies))]
    if chosen.shape[1] < k:  # more sequences than competencies: some practised again
        chosen = np.concatenate([chosen] * -(-k // chosen.shape[1]), axis=1)[:, :k]
    comp_index = chosen.reshape(-1)  # one per sequence
    init, learn = truth["init"][comp_index], truth["learn"][comp_index]
    guess, slip = truth["guess"][comp_index], truth["slip"][comp_index]
    known = rng.random(len(comp_index)) < init
    correct = np.empty((len(comp_index), length), dtype=bool)
    posterior = init.copy()
    crossed = np.full(len(comp_index), -1)
    for t in range(length):
        u = rng.random(len(comp_index))
        correct[:, t] = np.where(known, u >= slip, u < guess)
        # the live state: BKT's posterior after this answer, then the learning step
        right = correct[:, t]
        p_obs = np.where(right, posterior * (1 - slip), posterior * slip)
        p_all = np.where(
            right, p_obs + (1 - posterior) * guess, p_obs + (1 - posterior) * (1 - guess)
        )
        posterior = p_obs / p_all
        posterior = posterior + (1 - posterior) * learn
        crossed = np.where((crossed < 0) & (posterior >= MASTERED), t, crossed)
        known = known | (rng.random(len(comp_index)) < learn)
    # times: each student's attempts sorted over the year, sequence after sequence
    seconds = np.sort(rng.integers(0, days * 86400, size=(n, k * length)), axis=1)
    origin = np.datetime64(dt.datetime(year_start.year, year_start.month, year_start.day), "s")
    stamps = (origin + seconds.astype("timedelta64[s]")).reshape(-1)
    student = np.repeat(ids, k * length)
    comp_ids = competencies[comp_index]
    step = np.empty(total, dtype=np.int64)
    flat_comp = np.repeat(comp_ids, length)
    for c in np.unique(flat_comp):
        where = flat_comp == c
        step[where] = rng.choice(steps_of[int(c)], size=int(where.sum()))
    serial = np.tile(np.arange(k * length), n)
    when = pd.to_datetime(stamps).tz_localize("UTC")
    attempts = pd.DataFrame({
        "id": pd.Series(student).astype(str).radd("g").str.cat(pd.Series(serial).astype(str), "-"),
        "student_id": student, "step_id": step, "correct": correct.reshape(-1),
        "hints_used": 0, "timestamp": when, "source": "simulation", "kind": "answer",
        "recorded_at": when,
    })  # fmt: skip
    last = when.values.reshape(-1, length)[:, -1]
    seq_student = np.repeat(ids, k)
    mastered = posterior >= MASTERED
    frame = pd.DataFrame({"student_id": seq_student, "competency_id": comp_ids,
                          "posterior": posterior, "last": pd.to_datetime(last).tz_localize("UTC"),
                          "mastered": mastered, "count": length})  # fmt: skip
    frame = frame.drop_duplicates(["student_id", "competency_id"], keep="last")
    mastery = pd.DataFrame({
        "student_id": frame.student_id, "competency_id": frame.competency_id,
        "model_version": 0, "p_mastery": frame.posterior, "evidence": frame["count"].astype(float),
        "evidence_count": frame["count"], "no_progress": 0, "peak": frame.posterior,
        "hint_rate": 0.0, "reviews": 0, "mastered_once": frame.mastered,
        "last_evidence_at": frame["last"], "status": np.where(frame.mastered, "mastered",
                                                              "practicing"),
        "updated_at": frame["last"],
    })  # fmt: skip
    became = crossed >= 0
    at = when.values.reshape(-1, length)[np.arange(len(crossed)), np.maximum(crossed, 0)]
    events = pd.DataFrame({
        "student_id": seq_student[became], "competency_id": comp_ids[became],
        "model_version": 0, "at": pd.to_datetime(at[became]).tz_localize("UTC"),
        "from_status": "practicing", "to_status": "mastered", "p_before": MASTERED - 0.01,
        "p_after": MASTERED, "mastered_change": 1, "cause": "attempt",
    })  # fmt: skip
    events = events.drop_duplicates(["student_id", "competency_id"], keep="first")
    users = pd.DataFrame({
        "id": ids, "sourced_id": [f"syn-{i}" for i in ids], "username": [f"syn{i}" for i in ids],
        "given_name": "Student", "family_name": [f"S{i}" for i in ids], "role": "student",
        "org_id": school_id, "enabled": True,
    })  # fmt: skip
    section = first_section + (np.arange(offset, offset + n) // SECTION_SIZE)
    enrollments = pd.DataFrame({
        "sourced_id": [f"syn-enrollment-{i}" for i in ids], "section_id": section,
        "user_id": ids, "role": "student", "primary": False,
    })  # fmt: skip
    return {"users": users, "enrollments": enrollments, "attempts": attempts,
            "mastery": mastery, "mastery_events": events}  # fmt: skip


def _copy(cursor: object, table: str, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, date_format="%Y-%m-%d %H:%M:%S+00")
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:  # type: ignore[attr-defined]
        copy.write(buffer.getvalue())
