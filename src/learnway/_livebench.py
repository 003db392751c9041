"""The live-path benchmark (``learnway bench live``): what students and teachers are shown,
measured through the functions the web routes call, on a real database.

- **truth**: simulated students (:mod:`learnway.sim`, whose knowledge is known) follow the live
  recommendations of the demo course for a school year; every answer goes through
  :func:`learnway.store.record_practice`. At the end, the cells shown as mastered are compared
  with what the students truly know, and the shown probability's next-answer AUC and
  calibration with those of the same BKT run offline on the same attempts;
- **speed**: one answer stored with the state updated, and one recommendation list, for one
  student at growing lengths of history, p50 and p99, on SQLite and PostgreSQL;
- **section**: the teacher's pages (heatmap, needs, groups, pacing) for a section of 150
  students with a year of history each, server time.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import Engine, func, insert, select, text

from learnway.demo import build_demo
from learnway.learner import bkt_update
from learnway.learner._metrics import auc
from learnway.paths import CourseGraph, Status, mastery_status
from learnway.sim import KNOWN, practise, retrieval, sample_students, simulate_history
from learnway.store import (
    AttemptIn,
    LiveCourse,
    day_of,
    learner_state,
    live_course,
    load_course,
    load_state,
    recommend,
    record_attempts,
    record_practice,
    replay_students,
    transaction,
)
from learnway.store._schema import (
    Course,
    Enrollment,
    FrameworkRow,
    MasteryEvent,
    Org,
    Section,
    StepAlignment,
    StepRow,
    User,
)

HISTORIES = (0, 1_000, 5_000, 20_000, 50_000)
SHOWN_MASTERED = (Status.MASTERED, Status.DUE_FOR_REVIEW)


def _percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.asarray(samples) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "max_ms": round(float(ms.max()), 2),
        "n": len(samples),
    }


@dataclass
class School:
    engine: Engine
    framework_id: int
    live: LiveCourse
    steps_of: dict[int, list[int]]  # competency index -> step ids aligned to it alone or first

    @property
    def course(self) -> CourseGraph:
        return self.live.course


def school(engine: Engine, *, seed: int = 7) -> School:
    """The demo school without its practice history, and the course's steps by competency."""
    build_demo(engine, seed=seed, history_days=0)
    with transaction(engine) as session:
        framework_id = session.scalar(
            select(FrameworkRow.id).where(FrameworkRow.key.like("oatutor-%"))
        )
        assert framework_id is not None
        course = load_course(session, framework_id)
        live = live_course(session, course, framework_id)
        steps_of: dict[int, list[int]] = {}
        first = (
            select(StepAlignment.step_id, func.min(StepAlignment.competency_id).label("c"))
            .group_by(StepAlignment.step_id)
            .subquery()
        )
        col_of = {int(cid): j for j, cid in enumerate(live.competency_ids)}
        for step_id, cid in session.execute(select(first.c.step_id, first.c.c)):
            if cid in col_of:
                steps_of.setdefault(col_of[cid], []).append(step_id)
    return School(engine, framework_id, live, steps_of)


def _new_students(
    engine: Engine, n: int, *, prefix: str, section_title: str | None = None
) -> tuple[list[int], int | None]:
    """``n`` new students, enrolled in the demo's first section or in a new one."""
    with transaction(engine) as session:
        school_id = session.scalar(select(Org.id).where(Org.type == "school"))
        course_id = session.scalar(select(Course.id).where(Course.framework_id.is_not(None)))
        assert school_id and course_id
        if section_title is None:
            section_id = session.scalar(select(Section.id).order_by(Section.id))
        else:
            section = Section(
                sourced_id=f"{prefix}-section", title=section_title, course_id=course_id,
                school_id=school_id, deadline=dt.date.today() + dt.timedelta(days=120),
            )  # fmt: skip
            session.add(section)
            session.flush()
            section_id = section.id
            teacher = session.scalar(select(User.id).where(User.username == "teacher"))
            session.add(Enrollment(sourced_id=f"{prefix}-teacher", user_id=teacher,
                                   section_id=section_id, role="teacher"))  # fmt: skip
        ids = []
        for k in range(n):
            user = User(
                sourced_id=f"{prefix}-{k}", username=f"{prefix}{k}", role="student",
                given_name="Bench", family_name=f"Student {k:03d}", grade="09", org_id=school_id,
            )  # fmt: skip
            session.add(user)
            session.flush()
            ids.append(user.id)
        session.execute(
            insert(Enrollment),
            [
                {
                    "sourced_id": f"{prefix}-e{i}",
                    "user_id": i,
                    "section_id": section_id,
                    "role": "student",
                }
                for i in ids
            ],
        )
    return ids, section_id


# --- speed ------------------------------------------------------------------------------------


def speed(engine: Engine, *, repeats: int = 100, histories: tuple[int, ...] = HISTORIES,
          seed: int = 0) -> list[dict[str, Any]]:  # fmt: skip
    """Answer and recommendation times for one student at each length of history."""
    where = school(engine)
    rng = np.random.default_rng(seed)
    steps = [s for c in sorted(where.steps_of) for s in where.steps_of[c][:2]]
    rows = []
    for length in histories:
        (student,), _ = _new_students(engine, 1, prefix=f"speed{length}-")
        now = dt.datetime.now(dt.UTC)
        start = now - dt.timedelta(days=365)
        picks = rng.integers(0, len(steps), length)
        right = rng.random(length) < 0.6
        offsets = np.sort(rng.uniform(0, 364 * 86400, length))
        history = [
            AttemptIn(id=f"h{length}-{k}", student_id=student, step_id=steps[picks[k]],
                      correct=bool(right[k]), timestamp=start + dt.timedelta(seconds=offsets[k]),
                      source="import")
            for k in range(length)
        ]  # fmt: skip
        for chunk in range(0, length, 20_000):
            with transaction(engine) as session:
                record_attempts(session, history[chunk : chunk + 20_000], all_or_nothing=True)
        with transaction(engine) as session:
            replay_students(session, where.live, [student])
        if engine.dialect.name == "postgresql":  # the statistics a server's autovacuum keeps
            with engine.connect() as connection:
                connection.execute(text("ANALYZE"))
                connection.commit()
        answer, recs, listed_total = [], [], 0
        for k in range(repeats):
            attempt = AttemptIn(
                id=f"t{length}-{k}", student_id=student, step_id=steps[k % len(steps)],
                correct=k % 3 != 0, timestamp=now + dt.timedelta(seconds=k),
            )  # fmt: skip
            t0 = time.perf_counter()
            with transaction(engine) as session:
                record_practice(
                    session, where.course, where.framework_id, [attempt], live=where.live
                )
            t1 = time.perf_counter()
            with transaction(engine) as session:
                listed = recommend(session, where.live, student)
            t2 = time.perf_counter()
            listed_total += len(listed)
            answer.append(t1 - t0)
            recs.append(t2 - t1)
        rows.append(
            {"history": length, "answer": _percentiles(answer), "recommend": _percentiles(recs),
             "mean_list_length": round(listed_total / repeats, 2)}
        )  # fmt: skip
    return rows


# --- a district ----------------------------------------------------------------------------------


def district(engine: Engine, *, runs: int = 3) -> dict[str, Any]:
    """The leader's reports over a whole district (the demo district's administrator, on a
    database filled by ``learnway bench scale``): server time of each, median of ``runs``."""
    from learnway.store import _reports as reports
    from learnway.store._schema import Attempt
    from learnway.web._access import visible_students

    with transaction(engine) as session:
        leader = session.scalar(select(User).where(User.username == "district"))
        assert leader is not None, "a district built on the demo school (learnway bench scale)"
        students = session.scalar(select(func.count()).where(User.role == "student"))
        attempts = session.scalar(select(func.count()).select_from(Attempt))
        events = session.scalar(select(func.count()).select_from(MasteryEvent))
        leader_id = leader.id
    figures: dict[str, Any] = {"students": students, "attempts": attempts, "events": events}
    kinds: dict[str, Callable[[Any, Any], Any]] = {
        "mastery by section": lambda s, who: reports.mastery_report(s, who, by="section"),
        "gaps by race": lambda s, who: reports.gap_report(s, who, subgroup="race"),
        "supports": lambda s, who: reports.supports_report(s, who),
    }
    for name, report in kinds.items():
        times = []
        for _ in range(runs):
            with transaction(engine) as session:
                user = session.get_one(User, leader_id)
                t0 = time.perf_counter()
                report(session, visible_students(user))
                times.append(time.perf_counter() - t0)
        figures[name] = {"median_ms": round(statistics.median(times) * 1000, 1),
                         "max_ms": round(max(times) * 1000, 1)}  # fmt: skip
    return figures


# --- a section of 150 students ----------------------------------------------------------------


def year_section(engine: Engine, *, students: int = 150, days: int = 250,
                 seed: int = 3) -> tuple[int, int]:  # fmt: skip
    """A new section of ``students`` with ``days`` of simulated practice each, stored and their
    state replayed; returns the section's id and the number of attempts."""
    where = school(engine)
    ids, section_id = _new_students(engine, students, prefix="year", section_title="Year class")
    assert section_id is not None
    start = dt.datetime.combine(dt.date.today() - dt.timedelta(days=days), dt.time(9, 0))
    history = simulate_history(where.course, students, days, seed, start=start,
                               minutes_per_day=40.0)  # fmt: skip
    with transaction(engine) as session:
        step_ids = dict(session.execute(select(StepRow.key, StepRow.id)).all())
    history = history[history["step"].isin(list(step_ids))]
    counter = history.groupby("student").cumcount()
    stamps = history["timestamp"].dt.round("us").dt.tz_localize(dt.UTC)
    attempts = [
        AttemptIn(id=f"year-{ids[s]}-{n}", student_id=ids[s], step_id=step_ids[step],
                  correct=bool(ok), timestamp=t.to_pydatetime(), source="import",
                  hints_used=int(h))
        for s, n, step, ok, h, t in zip(history["student"], counter, history["step"],
                                        history["correct"], history["hints_used"], stamps,
                                        strict=True)
    ]  # fmt: skip
    for chunk in range(0, len(attempts), 50_000):
        with transaction(engine) as session:
            record_attempts(session, attempts[chunk : chunk + 50_000], all_or_nothing=True)
    for chunk in range(0, students, 25):
        with transaction(engine) as session:
            replay_students(session, where.live, ids[chunk : chunk + 25])
    if engine.dialect.name == "postgresql":  # the statistics a server's autovacuum keeps
        with engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
    return section_id, len(attempts)


def section_pages(engine: Engine, *, students: int = 150, days: int = 250, runs: int = 7,
                  seed: int = 3) -> dict[str, Any]:  # fmt: skip
    """Server time of the teacher's pages for a section with a year of history."""
    section_id, attempts = year_section(engine, students=students, days=days, seed=seed)
    return {
        "students": students,
        "attempts": attempts,
        "attempts_per_student": round(attempts / students, 1),
        **page_times(engine, section_id, runs=runs),
    }


def page_times(engine: Engine, section_id: int, *, runs: int = 7) -> dict[str, Any]:
    """Server time of each teacher page of a section, median of ``runs`` (max), after one view
    that builds the course's catalog."""
    from learnway.web import create_app
    from learnway.web._classes import groups_view, heatmap_view, pacing_view
    from learnway.web._needs import needs_view

    context = create_app(engine).state.web
    pages: dict[str, Callable[[Any, Section], object]] = {
        "heatmap": lambda s, sec: heatmap_view(s, context, sec, unit=None, sort="name"),
        "needs": lambda s, sec: needs_view(s, context, sec),
        "groups": lambda s, sec: groups_view(s, context, sec),
        "pacing": lambda s, sec: pacing_view(s, context, sec),
    }
    out: dict[str, Any] = {}
    for name, page in pages.items():
        with transaction(engine) as session:  # the first view builds the course's catalog
            warm = session.get(Section, section_id)
            assert warm is not None
            page(session, warm)
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            with transaction(engine) as session:
                section = session.get(Section, section_id)
                assert section is not None
                page(session, section)
            times.append(time.perf_counter() - t0)
        out[name] = {
            "median_ms": round(statistics.median(times) * 1000, 1),
            "max_ms": round(max(times) * 1000, 1),
        }
    return out


# --- truth over a simulated school year -------------------------------------------------------


def truth(engine: Engine, *, days: int = 180, attempts_per_day: int = 4, seed: int = 0,
          per_recommendation: int = 4, placement: bool = True,
          students: int | None = None) -> dict[str, Any]:  # fmt: skip
    """A simulated school year driven through the live path; shown against true mastery.
    With ``placement`` (as the application does for a student new to a course) each student
    first takes the placement check. ``students``: the first that many of the demo school's
    (default: all)."""
    where = school(engine)
    with transaction(engine) as session:
        ids = list(session.scalars(select(User.id).where(User.role == "student").order_by(User.id)))
    ids = ids[:students]
    course = where.course
    rng = np.random.default_rng(seed)
    truth_ = sample_students(course.graph, len(ids), rng)
    first = dt.datetime.combine(dt.date.today() - dt.timedelta(days=days * 7 // 5 + 2),
                                dt.time(9, 0), tzinfo=dt.UTC)  # fmt: skip
    school_days = [first + dt.timedelta(days=int(d)) for d in range(days * 7 // 5 + 2)
                   if (first + dt.timedelta(days=int(d))).weekday() < 5][:days]  # fmt: skip
    start_day = day_of(school_days[0])
    n = 0
    shown_p: list[float] = []
    shown_at: list[tuple[str, int]] = []
    questions = [
        _place(engine, where, student, school_days[0] - dt.timedelta(hours=1), truth_, s, rng,
               start_day=start_day)
        for s, student in enumerate(ids)
    ] if placement else []  # fmt: skip
    for moment0 in school_days:
        for s, student in enumerate(ids):
            moment = moment0 + dt.timedelta(minutes=s % 45)
            done = 0
            while done < attempts_per_day:
                with transaction(engine) as session:
                    recs = recommend(session, where.live, student, now=moment)
                rec = recs[0]
                column = course.graph.index[rec.competency]
                options = where.steps_of.get(column)
                if not options:  # a competency with no step of its own: the day ends
                    break
                for _ in range(min(per_recommendation, attempts_per_day - done)):
                    day = day_of(moment) - start_day
                    correct, hints, minutes = practise(
                        truth_, np.array([s]), np.array([column]), day, course.graph, rng
                    )
                    step = options[int(rng.integers(0, len(options)))]
                    with transaction(engine) as session:  # what the student is shown now
                        p = load_state(session, where.live, [student]).p_known[0, column]
                    shown_p.append(p)
                    shown_at.append((f"year-{n}", column))
                    attempt = AttemptIn(
                        id=f"year-{n}", student_id=student, step_id=step,
                        correct=bool(correct[0]) or bool(hints[0] and rng.random() < 0.5),
                        hints_used=int(hints[0]), timestamp=moment, source="simulation",
                        duration_s=float(minutes[0] * 60),
                    )  # fmt: skip
                    with transaction(engine) as session:
                        record_practice(
                            session, course, where.framework_id, [attempt], live=where.live
                        )
                    moment += dt.timedelta(seconds=float(minutes[0] * 60) + 5)
                    n += 1
                    done += 1
    end = school_days[-1] + dt.timedelta(hours=23)
    end_day = day_of(end) - start_day
    with transaction(engine) as session:
        state = load_state(session, where.live, ids)
    status = mastery_status(state, where.live.policy, day_of(end))
    shown = np.isin(status, SHOWN_MASTERED)
    likely = status == Status.LIKELY_KNOWN
    known = retrieval(truth_, end_day) >= KNOWN
    practised = state.attempts > 0
    hit = shown & known
    return {
        "students": len(ids),
        "school_days": len(school_days),
        "attempts": n,
        "placement": placement,
        "placement_questions_median": float(np.median(questions)) if questions else 0.0,
        "precision": round(float(hit.sum() / max(shown.sum(), 1)), 4),
        "recall": round(float(hit.sum() / max(known.sum(), 1)), 4),
        "recall_practised": round(float(hit.sum() / max((known & practised).sum(), 1)), 4),
        "recall_with_likely_known": round(
            float(((shown | likely) & known).sum() / max(known.sum(), 1)), 4
        ),
        "cells_shown_mastered": int(shown.sum()),
        "cells_truly_known": int(known.sum()),
        **_prediction(engine, where, ids, shown_p, shown_at),
    }


def _place(
    engine: Engine,
    where: School,
    student: int,
    moment: dt.datetime,
    truth_: Any,
    row: int,
    rng: np.random.Generator,
    *,
    start_day: float,
) -> int:
    """The placement check, answered by the simulated student, through the store functions the
    placement pages call, one transaction per answer; returns the number of questions. The
    student answers from what they know at ``moment`` on the year's clock (day 0 is
    ``start_day``), as during the year."""
    from learnway.store._placement import (
        finish,
        latest,
        next_question,
        record_answer,
        request_placement,
    )

    course, day = where.course, day_of(moment) - start_day
    with transaction(engine) as session:
        request_placement(
            session, student_id=student, framework_id=where.framework_id, requested_by=None
        )
    asked = 0
    while True:
        with transaction(engine) as session:
            check = latest(session, student, where.framework_id)
            assert check is not None
            question = next_question(session, course, check)
            if question is None:
                finish(session, where.live, check, now=moment)
                return asked
            c = course.graph.index[question.competency]
            recall = retrieval(truth_, day, np.array([row]), np.array([c]))[0]
            guess, slip = truth_.guess[row], truth_.slip[row]
            correct = bool(rng.random() < guess + (1 - guess - slip) * recall)
            attempt_id = f"placement-{check.id}-{len(check.answers) + 1}"
            record_practice(
                session, course, where.framework_id,
                [AttemptIn(id=attempt_id, student_id=student, step_id=question.step_id,
                           correct=correct, timestamp=moment, source="simulation",
                           kind="placement")],
                live=where.live,
            )  # fmt: skip
            record_answer(check, step_id=question.step_id, correct=correct, attempt_id=attempt_id)
        moment += dt.timedelta(seconds=30)
        asked += 1


def _prediction(
    engine: Engine,
    where: School,
    ids: list[int],
    shown_p: list[float],
    shown_at: list[tuple[str, int]],
) -> dict[str, float]:
    """Next-answer AUC and calibration of the probability shown before each answer (read
    from the stored state during the year), against the same model replayed offline on the
    same attempts, and against plain BKT (no credit, no bounds) with the same parameters; each
    for the competency the answer was chosen for."""
    course = where.course
    params = course.params
    with transaction(engine) as session:
        from learnway.store._progress import evidence_of

        ev = evidence_of(session, course, ids)
    position = {(a, int(c)): i for i, (a, c) in enumerate(zip(ev.attempt_ids, ev.competencies,
                                                              strict=True))}  # fmt: skip
    keep = [position[key] for key in shown_at]
    replayed: dict[int, float] = {}
    wanted = set(keep)

    def before_each(at: np.ndarray, before: Any, after: Any) -> None:
        for i in at.tolist():
            if i in wanted:
                replayed[i] = float(before.p_known[ev.students[i], ev.competencies[i]])

    from learnway.store._placement import starting_state

    with transaction(engine) as session:  # from the same start: the placement check's belief
        start, _ = starting_state(session, where.live, ids)
        learner_state(session, course, ids, on_round=before_each, start=start)
    outcome = (ev.correct & (ev.hints == 0))[keep]
    c = ev.competencies[keep]

    def predict(p: np.ndarray) -> np.ndarray:
        return p * (1 - params.p_slip[c]) + (1 - p) * params.p_guess[c]

    offline_replay = predict(np.array([replayed[i] for i in keep]))
    shown = predict(np.asarray(shown_p))
    plain = np.empty(len(keep))
    known: dict[tuple[int, int], float] = {}
    y_all = ev.correct & (ev.hints == 0)
    at_keep = {i: k for k, i in enumerate(keep)}
    for i in range(y_all.size):
        s, cc = int(ev.students[i]), int(ev.competencies[i])
        p = known.get((s, cc), float(params.p_init[cc]))
        p_correct, p_after = bkt_update(
            p, float(y_all[i]), p_learn=params.p_learn[cc], p_guess=params.p_guess[cc],
            p_slip=params.p_slip[cc], p_forget=params.p_forget[cc],
        )  # fmt: skip
        known[(s, cc)] = float(p_after)
        if i in at_keep:
            plain[at_keep[i]] = float(p_correct)
    return {
        "auc_shown": round(float(auc(outcome, shown)), 4),
        "auc_offline": round(float(auc(outcome, offline_replay)), 4),
        "auc_plain_bkt": round(float(auc(outcome, plain)), 4),
        "ece_shown": round(_ece(outcome, shown), 4),
        "ece_offline": round(_ece(outcome, offline_replay), 4),
        "ece_plain_bkt": round(_ece(outcome, plain), 4),
    }


def _ece(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    edges = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    y = y.astype(np.float64)
    for b in range(bins):
        at = edges == b
        if at.any():
            total += float(at.mean()) * abs(float(y[at].mean()) - float(p[at].mean()))
    return total


# --- the whole benchmark ----------------------------------------------------------------------

TARGET_MS = 25.0
PAGE_TARGET_MS = 200.0
HTTP_RATIO = 0.5
HTTP_P99_MS = 100.0


def run_live_benchmark(
    out_dir: Any,
    *,
    postgres_url: str | None = None,
    repeats: int = 100,
    days: int = 180,
    attempts_per_day: int = 4,
    parts: tuple[str, ...] = ("speed", "section", "truth"),
    district_url: str | None = None,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the parts on fresh databases (SQLite in a temporary folder; PostgreSQL databases
    created on ``postgres_url``) and write ``live.json`` and ``live.md`` in ``out_dir``. The
    figures of parts not run this time are kept from the file already there, with the machine
    and time they were measured on."""
    import json
    import tempfile
    from pathlib import Path

    from learnway._machine import load_average, machine_info
    from learnway.store import make_engine

    out = Path(out_dir)
    previous = out / "live.json"
    results: dict[str, Any] = json.loads(previous.read_text()) if previous.exists() else {}
    run = {"machine": machine_info(), "load_average_start": load_average()}
    backends: list[tuple[str, Callable[[str], Engine]]] = []
    with tempfile.TemporaryDirectory() as folder:
        backends.append(("sqlite", lambda name: make_engine(f"sqlite:///{folder}/{name}.db")))
        if postgres_url:
            backends.append(("postgresql", lambda name: _postgres_database(postgres_url, name)))
        for backend, make in backends:
            if "speed" in parts:
                progress(f"speed on {backend}")
                results.setdefault("speed", {})[backend] = speed(make("speed"), repeats=repeats)
            if "section" in parts:
                progress(f"a section of 150 students on {backend}")
                results.setdefault("section", {})[backend] = section_pages(make("section"))
            if "http" in parts:
                from learnway._httpbench import http_benchmark

                progress(f"answers through HTTP against a bare endpoint on {backend}")
                results.setdefault("http", {})[backend] = http_benchmark(make("http"))
        if "district" in parts:
            if district_url is None:
                raise ValueError("the district part needs the URL of a database filled by "
                                 "learnway bench scale (--district)")  # fmt: skip
            from learnway.store import make_engine as _make

            progress("the leader's reports over the district")
            earlier = results.get("district", {})
            results["district"] = district(_make(district_url))
            if "http" not in parts and "http" in earlier:  # measured by another run
                results["district"]["http"] = earlier["http"]
            if "http" in parts:
                from learnway._httpbench import http_benchmark

                progress("answers through HTTP on the district's database")
                results["district"]["http"] = http_benchmark(_make(district_url))
        if "truth" in parts:
            progress("a simulated school year through the live path (SQLite)")
            results["truth"] = truth(
                backends[0][1]("truth"), days=days, attempts_per_day=attempts_per_day
            )
    run["load_average_end"] = load_average()
    for part in parts:
        results.setdefault("runs", {})[part] = run
    if previous.exists():  # figures another run wrote meanwhile are kept too
        latest = json.loads(previous.read_text())
        for part in parts:
            if part in results:
                latest[part] = results[part]
            latest.setdefault("runs", {})[part] = run
        results = latest
    out.mkdir(parents=True, exist_ok=True)
    (out / "live.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (out / "live.md").write_text(render_markdown(results))
    return results


def _postgres_database(url: str, name: str) -> Engine:
    """A fresh database ``learnway_bench_<name>`` on the server of ``url``."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from learnway.store import make_engine, normalize_url

    server = make_url(normalize_url(url))
    database = f"learnway_bench_{name}"
    admin = make_engine(server.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    return make_engine(server.set(database=database).render_as_string(hide_password=False))


def render_markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Live path",
        "",
        "What students and teachers are shown, measured through the functions the web routes "
        "call, on a real database (`learnway bench live`).",
        "",
    ]
    for part, run in results.get("runs", {}).items():
        m = run["machine"]
        lines.append(
            f"- {part}: {m.get('date')}, {m.get('cpu')}, {m.get('cpus')} cores, "
            f"{m.get('memory_gib')} GiB; load average at the start "
            f"{run['load_average_start']}, at the end {run['load_average_end']}."
        )
    lines.append("")
    if "speed" in results:
        lines += [
            "## One student: an answer stored with the state updated, and a recommendation list",
            "",
            f"Target: p99 under {TARGET_MS:g} ms at every length of history.",
            "",
            "| database | history (attempts) | answer p50 (ms) | answer p99 (ms) | "
            "recommend p50 (ms) | recommend p99 (ms) |",
            "|---|---|---|---|---|---|",
        ]
        for backend, rows in results["speed"].items():
            for r in rows:
                lines.append(
                    f"| {backend} | {r['history']:,} | {r['answer']['p50_ms']} | "
                    f"{r['answer']['p99_ms']} | {r['recommend']['p50_ms']} | "
                    f"{r['recommend']['p99_ms']} |"
                )
        lines.append("")
    if "section" in results:
        lines += [
            "## A section of 150 students with a year of history: the teacher's pages",
            "",
            f"Server time, median of runs (max); target under {PAGE_TARGET_MS:g} ms each.",
            "",
            "| database | attempts per student | heatmap | needs | groups | pacing |",
            "|---|---|---|---|---|---|",
        ]
        for backend, r in results["section"].items():
            cells = " | ".join(
                f"{r[p]['median_ms']} ms ({r[p]['max_ms']})"
                for p in ("heatmap", "needs", "groups", "pacing")
            )
            lines.append(f"| {backend} | {r['attempts_per_student']} | {cells} |")
        lines.append("")
    if "http" in results:
        lines += [
            "## Answers through HTTP against a bare endpoint on the same database",
            "",
            "Concurrent simulated students answering on loopback, each as soon as its last "
            "answer came back: `learnway serve --workers N` (sign-in, access, the answer "
            "checked, stored, the live state updated, audited) against a FastAPI endpoint that "
            "only inserts the attempt and upserts one state row, with as many workers, both "
            "running, loaded in turns (three each) so that the machine's drift weighs on both "
            f"alike. Target: at least {HTTP_RATIO:g} of the bare throughput, p99 "
            f"under {HTTP_P99_MS:g} ms, nothing acknowledged lost. Server CPU: the time the "
            "server's processes (web workers, answer checkers; not the database server's) "
            "used per answer.",
            "",
            "| database | clients | workers | server | answers/s | p50 (ms) | p99 (ms) | "
            "acknowledged | stored once | lost | ratio | server CPU (ms per answer) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for backend, r in results["http"].items():
            for server in ("learnway", "bare"):
                x = r[server]
                lines.append(
                    f"| {backend} | {r['clients']} | {r['workers']} | {server} | "
                    f"{x['answers_per_s']} | {x['p50_ms']} | {x['p99_ms']} | "
                    f"{x['acknowledged']:,} | {x['stored_once']:,} | {x['lost']} | "
                    f"{r['ratio'] if server == 'learnway' else ''} | "
                    f"{x.get('server_cpu_ms_per_answer', '')} |"
                )
        lines.append("")
    if "district" in results:
        d = results["district"]
        lines += [
            "## A district on PostgreSQL: the leader's reports",
            "",
            f"{d['students']:,} students, {d['attempts']:,} attempts, {d['events']:,} mastery "
            "events (`learnway bench scale`); the district administrator's reports through the "
            "store functions the report pages call, median of 3 (max). Target: under 2 s.",
            "",
            "| report | median (ms) | max (ms) |",
            "|---|---|---|",
        ]
        for name in ("mastery by section", "gaps by race", "supports"):
            lines.append(f"| {name} | {d[name]['median_ms']} | {d[name]['max_ms']} |")
        if "http" in d:
            h = d["http"]
            lines += [
                "",
                f"Answers through HTTP on the district's database ({h['clients']} clients, "
                f"{h['workers']} workers): learnway {h['learnway']['answers_per_s']}/s "
                f"(p99 {h['learnway']['p99_ms']} ms, {h['learnway']['lost']} lost), bare "
                f"endpoint {h['bare']['answers_per_s']}/s (p99 {h['bare']['p99_ms']} ms); "
                f"ratio {h['ratio']}.",
            ]
        lines.append("")
    if "truth" in results:
        t = results["truth"]
        lines += [
            "## Shown mastery against the simulated truth, after a school year",
            "",
            f"{t['students']} simulated students in 3 sections, {t['school_days']} school days, "
            f"{t['attempts']:,} answers through `record_practice`, each chosen from the live "
            "recommendations"
            + (
                f", after the placement check (median {t['placement_questions_median']:g} "
                "questions)"
                if t.get("placement")
                else ""
            )
            + ". Truly known: the simulator's probability of retrieval at least 0.75 at the end.",
            "",
            "| figure | value |",
            "|---|---|",
            f"| precision: shown as mastered and truly known | {t['precision']} |",
            f"| recall: truly known and shown as mastered | {t['recall']} |",
            f"| recall among practised competencies | {t['recall_practised']} |",
            f"| recall counting likely known | {t['recall_with_likely_known']} |",
            f"| next-answer AUC of the shown probability | {t['auc_shown']} |",
            f"| next-answer AUC of the same model replayed offline | {t['auc_offline']} |",
            f"| next-answer AUC of plain BKT, same parameters | {t['auc_plain_bkt']} |",
            f"| calibration error (ECE): shown / offline / plain BKT | {t['ece_shown']} / "
            f"{t['ece_offline']} / {t['ece_plain_bkt']} |",
            "",
        ]
    return "\n".join(lines) + "\n"
