"""Who needs me today, with the rule that fired and its evidence; the one-click actions (mark as
seen, message, add to a group); and one student's evidence on one competency."""

from __future__ import annotations

import datetime as dt

import numpy as np
from fastapi import HTTPException
from sqlalchemy import literal, select, union_all
from sqlalchemy.orm import Session

from learnway.store import day_of, load_state
from learnway.store._schema import (
    Attempt,
    GroupMember,
    ItemRow,
    MasteryEvent,
    Message,
    NeedSeen,
    Section,
    StepAlignment,
    StepRow,
    Support,
    User,
)
from learnway.web._access import section_students
from learnway.web._catalog import STATUS_LABELS, Catalog
from learnway.web._classes import pacing_rows, section_course, section_out
from learnway.web._context import WebContext
from learnway.web._learning import MasteryGrid, mastery_grid, person
from learnway.web._schemas import (
    EvidenceAttempt,
    EvidenceOut,
    EvidencePoint,
    MessageOut,
    MessagesOut,
    NeedOut,
    NeedsOut,
)

INACTIVE_DAYS = 3
RECENT = 5
"""Attempts quoted as the evidence of a stuck competency (the most recent ones)."""
KIND_ORDER = {"stuck": 0, "off_pace": 1, "inactive": 2, "support": 3}


def _recent_attempts(
    session: Session, pairs: list[tuple[int, int]], *, limit: int
) -> dict[tuple[int, int], list[tuple[bool, int]]]:
    """The latest ``limit`` attempts (oldest first) of each (student, competency) of ``pairs``:
    one query, an indexed probe of each student's latest attempts per pair."""
    if not pairs:
        return {}
    parts = [
        select(Attempt.timestamp, Attempt.id, Attempt.correct, Attempt.hints_used,
               literal(k).label("pair"))
        .join(StepAlignment, StepAlignment.step_id == Attempt.step_id)
        .where(Attempt.student_id == sid, StepAlignment.competency_id == cid)
        .order_by(Attempt.timestamp.desc(), Attempt.id.desc())
        .limit(limit)
        .subquery()
        for k, (sid, cid) in enumerate(pairs)
    ]  # fmt: skip
    rows = session.execute(union_all(*(select(part) for part in parts))).all()
    out: dict[tuple[int, int], list[tuple[bool, int]]] = {pair: [] for pair in pairs}
    for _, _, correct, hints, k in sorted(rows, key=lambda r: (r[0], r[1])):
        out[pairs[k]].append((bool(correct), int(hints)))
    return out


def attempts_in_words(attempts: list[tuple[bool, int]]) -> str:
    """``3 attempts, 3/3/2 hints, none right``: the recent attempts, oldest first."""
    if not attempts:
        return "no attempts of its own yet"
    n = len(attempts)
    right = sum(c for c, _ in attempts)
    hints = "/".join(str(h) for _, h in attempts)
    hint_text = "no hints" if not any(h for _, h in attempts) else f"{hints} hints"
    right_text = "none right" if right == 0 else "all right" if right == n else f"{right} right"
    return f"{n} attempt{'s' if n != 1 else ''}, {hint_text}, {right_text}"


def _wrong_in_a_row(attempts: list[tuple[bool, int]]) -> int:
    run = 0
    for correct, _ in reversed(attempts):
        if correct:
            break
        run += 1
    return run


def stuck_rule(
    *, no_progress: int, hint_rate: float, attempts: list[tuple[bool, int]], policy_attempts: int,
    policy_hint_rate: float,
) -> str:  # fmt: skip
    """The stuck rule that fired, in words."""
    parts = []
    wrong = _wrong_in_a_row(attempts)
    if no_progress >= policy_attempts:
        parts.append(f"no progress in {no_progress} attempts in a row")
    if hint_rate >= policy_hint_rate:
        parts.append(f"hints on {hint_rate:.0%} of recent attempts")
    if wrong >= 3:
        parts.append(f"wrong {wrong} times in a row")
    return "Stuck: " + ("; ".join(parts) if parts else "no progress on this competency") + "."


def _seen_today(session: Session, section: Section, today: dt.date) -> set[tuple[int, str]]:
    return {
        (sid, kind)
        for sid, kind in session.execute(
            select(NeedSeen.student_id, NeedSeen.kind).where(
                NeedSeen.section_id == section.id, NeedSeen.day == today
            )
        )
    }


def needs_view(session: Session, context: WebContext, section: Section) -> NeedsOut:
    """Who needs me today: stuck, off pace, inactive or receiving support; each with the rule
    that fired, its evidence, and what to assign first. Needs marked as seen today are left out."""
    graph, catalog = section_course(session, context, section)
    live, _ = context.live(session, catalog.framework_id)
    policy = live.policy
    students = section_students(session, section_id=section.id)
    ids = [s.id for s in students]
    state = load_state(session, live, ids)
    grid = mastery_grid(session, context, catalog, ids, state=state)
    today = dt.date.today()
    now_day = day_of(dt.datetime.now(dt.UTC))
    pacing = pacing_rows(session, section, students, grid)
    support_of = {
        sid: (kind, start)
        for sid, kind, start in session.execute(
            select(Support.student_id, Support.kind, Support.start_date).where(
                Support.student_id.in_(ids),
                (Support.end_date.is_(None)) | (Support.end_date >= today),
            )
        )
    }
    seen = _seen_today(session, section, today)
    stuck = grid.status == "stuck"
    first = {i: int(np.argmax(stuck[i])) for i in np.flatnonzero(stuck.any(axis=1)).tolist()}
    recent = _recent_attempts(
        session, [(students[i].id, catalog.ids[c]) for i, c in first.items()], limit=RECENT
    )
    needs: list[NeedOut] = []
    for i, s in enumerate(students):
        needs.extend(
            _student_needs(
                catalog, graph.graph.prereq, grid, i, s,
                recent=recent.get((s.id, catalog.ids[first[i]]), []) if i in first else [],
                no_progress=state.no_progress[i], hint_rate=state.hint_rate[i],
                policy_attempts=policy.stuck_attempts, policy_hint_rate=policy.stuck_hint_rate,
            )
        )  # fmt: skip
        row = pacing[i]
        if row.at_risk and section.deadline is not None:
            when = f"{row.forecast:%-d %b %Y}" if row.forecast else "beyond a year from now"
            needs.append(
                NeedOut(
                    student=person(s), kind="off_pace",
                    rule="Off pace: forecast to finish after the class deadline.",
                    evidence=f"{row.mastered} of {row.mastered + row.remaining} mastered at "
                    f"{row.rate_per_week:.1f} a week; forecast {when}, deadline "
                    f"{section.deadline:%-d %b %Y}.",
                )
            )  # fmt: skip
        last = np.nanmax(grid.last[i]) if np.isfinite(grid.last[i]).any() else None
        if last is None:
            needs.append(
                NeedOut(
                    student=person(s), kind="inactive", rule="Inactive: has not practised yet.",
                    evidence="No attempts recorded.",
                )
            )  # fmt: skip
        elif now_day - last >= INACTIVE_DAYS:
            needs.append(
                NeedOut(
                    student=person(s), kind="inactive",
                    rule=f"Inactive: no practice for {INACTIVE_DAYS} days or more.",
                    evidence=f"Last practised {int(now_day - last)} days ago.",
                )
            )  # fmt: skip
        if s.id in support_of:
            kind, start = support_of[s.id]
            needs.append(
                NeedOut(
                    student=person(s), kind="support", rule="Receiving support: check in.",
                    evidence=f"{kind.capitalize()} support since {start:%-d %b %Y}.",
                )
            )  # fmt: skip
    shown = [n for n in needs if (n.student.id, n.kind) not in seen]
    shown.sort(key=lambda n: (KIND_ORDER[n.kind], n.student.name))
    return NeedsOut(
        section=section_out(session, section), needs=shown, seen=len(needs) - len(shown)
    )


def _student_needs(
    catalog: Catalog,
    prereq: np.ndarray,
    grid: MasteryGrid,
    i: int,
    student: User,
    *,
    recent: list[tuple[bool, int]],
    no_progress: np.ndarray,
    hint_rate: np.ndarray,
    policy_attempts: int,
    policy_hint_rate: float,
) -> list[NeedOut]:
    stuck = np.flatnonzero(grid.status[i] == "stuck")
    if not stuck.size:
        return []
    c = int(stuck[0])
    rule = stuck_rule(
        no_progress=int(no_progress[c]), hint_rate=float(hint_rate[c]), attempts=recent,
        policy_attempts=policy_attempts, policy_hint_rate=policy_hint_rate,
    )  # fmt: skip
    others = len(stuck) - 1
    evidence = f"{catalog.titles[c]}: {attempts_in_words(recent)}"
    if len(recent) == RECENT:
        evidence = f"{catalog.titles[c]}: last {attempts_in_words(recent)}"
    evidence += f" ({others} more stuck)." if others else "."
    # the direct prerequisite least mastered: what to assign first
    direct = np.flatnonzero(prereq[c])
    pre = None
    if direct.size:
        weakest = direct[np.argmin(np.nan_to_num(grid.p[i, direct], nan=0.0))]
        if grid.status[i, weakest] not in ("mastered", "due_for_review"):
            pre = int(weakest)
    return [
        NeedOut(
            student=person(student), kind="stuck", rule=rule, evidence=evidence,
            competency=catalog.codes[c], competency_title=catalog.titles[c],
            prerequisite=catalog.codes[pre] if pre is not None else None,
            prerequisite_title=catalog.titles[pre] if pre is not None else None,
        )
    ]  # fmt: skip


def mark_seen(
    session: Session, *, section: Section, actor: User, student_id: int, kind: str
) -> None:
    """Take one need of a student off today's list (idempotent)."""
    if student_id not in {s.id for s in section_students(session, section_id=section.id)}:
        raise HTTPException(404, f"There is no student {student_id} in this class.")
    today = dt.date.today()
    key = (section.id, student_id, kind, today)
    if session.get(NeedSeen, key) is None:
        session.add(
            NeedSeen(
                section_id=section.id, student_id=student_id, kind=kind, day=today,
                seen_by_id=actor.id,
            )
        )  # fmt: skip
        session.flush()


def send_message(session: Session, *, student: User, actor: User, body: str) -> Message:
    row = Message(student_id=student.id, sender_id=actor.id, body=body.strip())
    session.add(row)
    session.flush()
    return row


def messages_view(session: Session, *, student: User, mark_read: bool) -> MessagesOut:
    """The student's messages, newest first; read by the student, they are marked as read."""
    rows = session.execute(
        select(Message, User)
        .join(User, User.id == Message.sender_id)
        .where(Message.student_id == student.id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(50)
    ).all()
    out = [
        MessageOut(
            id=m.id, sender=f"{u.given_name} {u.family_name}", body=m.body,
            created_at=m.created_at, read=m.read_at is not None,
        )
        for m, u in rows
    ]  # fmt: skip
    if mark_read:
        now = dt.datetime.now(dt.UTC)
        for m, _ in rows:
            if m.read_at is None:
                m.read_at = now
        session.flush()
    return MessagesOut(student=person(student), messages=out)


def add_member(session: Session, *, group_id: int, student_id: int, section: Section) -> None:
    if student_id not in {s.id for s in section_students(session, section_id=section.id)}:
        raise HTTPException(422, f"Student {student_id} is not a student of this class.")
    if session.get(GroupMember, (group_id, student_id)) is None:
        session.add(GroupMember(group_id=group_id, student_id=student_id))
        session.flush()


def evidence_view(
    session: Session, context: WebContext, *, section: Section, student: User, code: str
) -> EvidenceOut:
    """One student's evidence on one competency: each attempt with its answer and hints (a
    placement answer marked as such), and the model's estimate after each change."""
    _, catalog = section_course(session, context, section)
    col = catalog.index.get(code)
    if col is None:
        raise HTTPException(404, f"There is no competency {code!r} in this course.")
    live, _ = context.live(session, catalog.framework_id)
    competency_id = catalog.ids[col]
    rows = session.execute(
        select(
            Attempt.timestamp,
            ItemRow.key,
            ItemRow.title,
            StepRow.prompt,
            Attempt.response,
            Attempt.correct,
            Attempt.hints_used,
            Attempt.kind,
        )
        .join(StepAlignment, StepAlignment.step_id == Attempt.step_id)
        .join(StepRow, StepRow.id == Attempt.step_id)
        .join(ItemRow, ItemRow.id == StepRow.item_id)
        .where(Attempt.student_id == student.id, StepAlignment.competency_id == competency_id)
        .order_by(Attempt.timestamp.desc(), Attempt.id.desc())
        .limit(200)
    ).all()
    events = session.execute(
        select(MasteryEvent.at, MasteryEvent.p_after, MasteryEvent.to_status, MasteryEvent.cause)
        .where(
            MasteryEvent.student_id == student.id,
            MasteryEvent.competency_id == competency_id,
            MasteryEvent.model_version == live.version,
        )
        .order_by(MasteryEvent.at, MasteryEvent.id)
    ).all()
    grid = mastery_grid(session, context, catalog, [student.id])
    p = grid.p[0, col]
    status = str(grid.status[0, col])
    return EvidenceOut(
        student=person(student),
        section=section_out(session, section),
        competency=code,
        title=catalog.titles[col],
        status=status,
        status_label=STATUS_LABELS[status],
        p_mastery=None if np.isnan(p) else round(float(p), 3),
        attempts=[
            EvidenceAttempt(
                at=r[0],
                item=r[1],
                item_title=r[2],
                step_prompt=r[3],
                response=r[4],
                correct=bool(r[5]),
                hints_used=int(r[6]),
                kind=str(r[7]) if len(r) > 7 and r[7] else "answer",
            )
            for r in rows
        ],
        estimate=[
            EvidencePoint(at=at, p=round(float(pa), 3), status=st, cause=cause)
            for at, pa, st, cause in events
        ],
    )
