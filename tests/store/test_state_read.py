"""Reading the live state in bulk gives exactly what the stored rows say, and the mastered
totals the database keeps follow every write of the state."""

from __future__ import annotations

import numpy as np
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session

from learnway.store import (
    MASTERED_NAMES,
    day_of,
    live_course,
    load_course,
    load_state,
    mastered_counts,
    transaction,
)
from learnway.store._schema import FrameworkRow, Mastery, User
from learnway.store._state import positions


def test_positions_finds_each_value_as_a_dictionary_would() -> None:
    keys = np.array([5, 3, 9, 3])
    values = np.array([3, 9, 4, 5, 100, -1])
    expected = [dict((k, i) for i, k in enumerate(keys.tolist())).get(v, -1) for v in values]
    assert positions(keys, values).tolist() == expected == [3, 2, -1, 0, -1, -1]
    assert positions(np.array([], dtype=np.int64), values).tolist() == [-1] * len(values)


def test_a_section_read_in_bulk_equals_its_rows_read_one_by_one(demo_engine: Engine) -> None:
    with transaction(demo_engine) as session:
        framework_id = session.scalar(
            select(FrameworkRow.id).where(FrameworkRow.key.like("oatutor-%"))
        )
        assert framework_id is not None
        live = live_course(session, load_course(session, framework_id), framework_id)
        students = session.scalars(
            select(User.id).where(User.role == "student").order_by(User.id.desc())
        ).all()
        unknown = max(students) + 1000  # no row: a fresh state
        ids = [*students, unknown]
        state = load_state(session, live, ids)
        rows = session.scalars(
            select(Mastery).where(
                Mastery.student_id.in_(students), Mastery.model_version == live.version
            )
        ).all()
    assert len(rows) > 1000, "the demo school has a history to read"
    fresh = np.ones(state.shape, dtype=bool)
    row_of = {sid: i for i, sid in enumerate(ids)}
    col_of = {int(cid): j for j, cid in enumerate(live.competency_ids)}
    timed = 0
    for m in rows:
        r, c = row_of[m.student_id], col_of.get(m.competency_id)
        if c is None:
            continue
        fresh[r, c] = False
        assert state.p_known[r, c] == m.p_mastery
        assert state.evidence[r, c] == m.evidence
        assert state.attempts[r, c] == m.evidence_count
        assert state.no_progress[r, c] == m.no_progress
        assert state.peak[r, c] == m.peak
        assert state.hint_rate[r, c] == m.hint_rate
        assert state.reviews[r, c] == m.reviews
        assert state.mastered_once[r, c] == m.mastered_once
        if m.last_evidence_at is None:
            assert np.isnan(state.last_seen[r, c])
        else:  # exactly the planner's clock, not merely close to it
            assert state.last_seen[r, c] == day_of(m.last_evidence_at)
            timed += 1
    assert timed > 1000
    new = type(state).new(len(ids), live.course.params)
    for name in ("p_known", "evidence", "attempts", "peak", "reviews", "last_seen"):
        got, blank = getattr(state, name)[fresh], getattr(new, name)[fresh]
        np.testing.assert_array_equal(got, blank, err_msg=name)
    assert fresh[row_of[unknown]].all()


def _direct_counts(session: Session) -> dict[int, int]:
    return {
        sid: n
        for sid, n in session.execute(
            select(Mastery.student_id, func.count())
            .where(Mastery.status.in_(MASTERED_NAMES))
            .group_by(Mastery.student_id)
        )
    }


def test_mastered_totals_follow_every_write_of_the_state(demo_engine: Engine) -> None:
    with transaction(demo_engine) as session:
        students = session.scalars(select(User.id).where(User.role == "student")).all()
        direct = _direct_counts(session)
        assert sum(direct.values()) > 100, "the demo school has mastered competencies"
        assert {k: v for k, v in mastered_counts(session, students).items() if v} == direct
        a, b, c = sorted(direct)[:3]
        # a student's mastered rows leave the mastered statuses, another's practised rows
        # enter them, a third's rows are deleted, and one row moves to another student
        session.execute(update(Mastery).where(Mastery.student_id == a,
                                              Mastery.status == "mastered")
                        .values(status="practicing"))  # fmt: skip
        session.execute(update(Mastery).where(Mastery.student_id == b,
                                              Mastery.status != "mastered")
                        .values(status="due_for_review"))  # fmt: skip
        session.execute(delete(Mastery).where(Mastery.student_id == c))
        moved = session.execute(
            select(Mastery.competency_id, Mastery.model_version).where(
                Mastery.student_id == b, Mastery.status.in_(MASTERED_NAMES)
            )
        ).first()
        assert moved is not None
        taken = session.scalars(select(Mastery.competency_id).where(Mastery.student_id == a)).all()
        if moved[0] not in taken:
            session.execute(update(Mastery).where(Mastery.student_id == b,
                                                  Mastery.competency_id == moved[0])
                            .values(student_id=a))  # fmt: skip
        after = _direct_counts(session)
        assert after != direct
        got = mastered_counts(session, students)
        assert {k: v for k, v in got.items() if v} == after
        assert got[c] == 0
