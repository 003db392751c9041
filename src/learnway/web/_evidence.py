"""Evidence the server keeps itself rather than believe from the client: which hints (and
scaffold answers) a student was shown, and attempt ids in each student's own namespace.

An attempt id sent by a client is stored as ``"<student id>:<client id>"``: a student can
neither find out which ids another student used (their own id is always free) nor take an id
another student will use. The ``hints_used`` of a web attempt is the number of hints of the
step the server has shown the student, whatever the client says.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import bindparam, case, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from learnway.web._models import HintView

MAX_ID = 64


def scoped_attempt_id(student_id: int, client_id: str) -> str:
    """The stored id of a client's attempt id, in the student's namespace (at most 64
    characters: a long client id is replaced by its hash, deterministically)."""
    stored = f"{student_id}:{client_id}"
    if len(stored) <= MAX_ID:
        return stored
    return f"{student_id}:#{hashlib.sha256(client_id.encode()).hexdigest()[:48]}"


def record_hints_shown(session: Session, *, student_id: int, step_id: int, shown: int) -> None:
    """The student has now seen the first ``shown`` hints of the step (kept as the most)."""
    if shown <= 0:
        return
    now = dt.datetime.now(dt.UTC)
    values = {"student_id": student_id, "step_id": step_id, "shown": shown, "at": now}
    if session.get_bind().dialect.name == "postgresql":
        fresh = pg_insert(HintView).values(values)
    else:
        fresh = sqlite_insert(HintView).values(values)  # type: ignore[assignment]
    session.execute(
        fresh.on_conflict_do_update(
            index_elements=["student_id", "step_id"],
            set_={
                "shown": case(
                    (HintView.shown < fresh.excluded.shown, fresh.excluded.shown),
                    else_=HintView.shown,
                ),
                "at": now,
            },
        )
    )


def hints_shown(session: Session, *, student_id: int, step_id: int) -> int:
    """How many hints of the step the server has shown the student."""
    shown = session.scalar(_SHOWN, {"student": student_id, "step": step_id})
    return shown or 0


_SHOWN = select(HintView.shown).where(
    HintView.student_id == bindparam("student"), HintView.step_id == bindparam("step")
)
