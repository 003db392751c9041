"""A course's stored attempts as compact arrays, for fitting learner models on a large log.

:func:`attempt_arrays` reads what a fit needs and nothing else: per aligned competency of an
attempt, the student (int32), the competency (int16, its position in the sorted codes asked
for) and whether the answer was right without a hint (int8), 7 bytes an attempt, in the order
:func:`learnway.store._progress.aligned_attempts` gives (time, then attempt id, then the
competencies' course order). On PostgreSQL the rows come with ``COPY ... TO STDOUT (FORMAT
binary)`` and are parsed in fixed-size records straight into numpy, a few megabytes at a time;
on other databases, in batches of rows. Worked examples (studied, not answered) are left out.

:func:`fit_bkt` fits BKT with forgetting on such a table for some of a fit's competencies so
that each competency's parameters are those of one fit over all of them: a placeholder attempt
(student -1) on each competency not in the table makes BKT count and order the competencies as
the fit over all of them does, so that each competency's EM starts from the same random points.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sqlalchemy import Integer, and_, case, cast, select
from sqlalchemy.orm import Session

from learnway.learner import BKT
from learnway.store._schema import Attempt, CompetencyRow, StepAlignment

_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_RECORD = np.dtype(
    [("fields", ">i2"), ("n1", ">i4"), ("student", ">i4"), ("n2", ">i4"), ("competency", ">i4"),
     ("n3", ">i4"), ("correct", "i1")]
)  # fmt: skip
"""One row of the binary COPY: three non-null fields, int4, int4 and bool."""
_BATCH_BYTES = 8 << 20
_BATCH_ROWS = 200_000


def attempt_arrays(
    session: Session, framework_id: int, codes: Sequence[str] | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """The course's stored attempts on ``codes`` (default: every competency of the course) as
    a table of ``student_id`` (int32), ``competency_id`` (int16: a position in the sorted codes
    returned) and ``correct`` (int8: right without a hint), in time order."""
    known = dict(
        session.execute(
            select(CompetencyRow.code, CompetencyRow.id).where(
                CompetencyRow.framework_id == framework_id
            )
        ).all()
    )
    wanted = sorted(known if codes is None else set(codes) & set(known))
    position = {known[code]: k for k, code in enumerate(wanted)}
    right = case((and_(Attempt.correct, Attempt.hints_used == 0), True), else_=False)
    query = (
        select(cast(Attempt.student_id, Integer), cast(StepAlignment.competency_id, Integer), right)
        .join(StepAlignment, StepAlignment.step_id == Attempt.step_id)
        .join(CompetencyRow, CompetencyRow.id == StepAlignment.competency_id)
        .where(CompetencyRow.id.in_(list(position)), Attempt.kind != "worked_example")
        .order_by(Attempt.timestamp, Attempt.id, CompetencyRow.sequence)
    )
    if session.get_bind().dialect.name == "postgresql":
        student, competency, correct = _copy_binary(session, query)
    else:
        student, competency, correct = _batched(session, query)
    lookup = np.zeros(max(position, default=0) + 1, dtype=np.int16)
    lookup[list(position)] = list(position.values())
    table = pd.DataFrame(
        {"student_id": student, "competency_id": lookup[competency], "correct": correct},
        copy=False,
    )
    return table, wanted


def _copy_binary(
    session: Session, query: object
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int8]]:
    dialect = session.get_bind().dialect
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))  # type: ignore[attr-defined]
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    parts: list[tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int8]]] = []
    buffer = bytearray()
    start: int | None = None  # where the rows begin, once the header is read

    def take(final: bool) -> None:
        nonlocal start
        if start is None:
            if len(buffer) < 19:
                return
            if bytes(buffer[:11]) != _SIGNATURE:
                raise ValueError("unexpected COPY header from the database")
            start = 19 + int.from_bytes(buffer[15:19], "big")
        whole = max(0, (len(buffer) - start) // _RECORD.itemsize)
        if final and len(buffer) - start - whole * _RECORD.itemsize != 2:
            raise ValueError("unexpected end of the COPY data from the database")
        if whole:
            rows = np.frombuffer(buffer, _RECORD, count=whole, offset=start)
            if (rows["fields"] != 3).any() or (rows["n3"] != 1).any():
                raise ValueError("unexpected COPY record from the database")
            parts.append((rows["student"].astype(np.int32), rows["competency"].astype(np.int32),
                          rows["correct"].astype(np.int8)))  # fmt: skip
            del rows
            del buffer[: start + whole * _RECORD.itemsize]
            start = 0

    with (
        raw.cursor() as cursor,  # type: ignore[attr-defined]
        cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)") as copy,
    ):
        for chunk in copy:
            buffer += chunk
            if len(buffer) >= _BATCH_BYTES:
                take(final=False)
    take(final=True)
    return _joined(parts)


def _batched(
    session: Session, query: object
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int8]]:
    parts = []
    result = session.execute(query.execution_options(yield_per=_BATCH_ROWS))  # type: ignore[attr-defined]
    for rows in result.partitions():
        block = np.array(rows, dtype=np.int64).reshape(-1, 3)
        parts.append((block[:, 0].astype(np.int32), block[:, 1].astype(np.int32),
                      block[:, 2].astype(np.int8)))  # fmt: skip
    return _joined(parts)


def _joined(
    parts: list[tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int8]]],
) -> tuple[NDArray[np.int32], NDArray[np.int32], NDArray[np.int8]]:
    if not parts:
        return np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0, np.int8)
    columns = []
    for k, dtype in enumerate((np.int32, np.int32, np.int8)):
        columns.append(np.concatenate([p[k] for p in parts]).astype(dtype, copy=False))
        for p in parts:  # free each block's column as soon as it is copied
            p[k].resize(0, refcheck=False)
    return columns[0], columns[1], columns[2]


def fit_bkt(
    table: pd.DataFrame,
    positions: Sequence[int],
    n_competencies: int,
    *,
    n_restarts: int = 5,
    random_state: int = 0,
    n_jobs: int | None = 1,
) -> BKT:
    """BKT with forgetting fitted on ``table`` (the format of :func:`attempt_arrays`, its
    ``competency_id`` a position among ``n_competencies`` sorted codes), which holds the
    competencies at ``positions``; each gets the parameters one fit over all
    ``n_competencies`` would give it (see the module's note). The model's competencies are
    the positions."""
    others = np.setdiff1d(np.arange(n_competencies), np.asarray(positions, dtype=np.int64))
    if len(others):
        table = pd.concat(
            [table, pd.DataFrame({"student_id": np.full(len(others), -1, np.int32),
                                  "competency_id": others.astype(np.int16),
                                  "correct": np.zeros(len(others), np.int8)})],
            ignore_index=True,
        )  # fmt: skip
    model = BKT(forgetting=True, n_restarts=n_restarts, random_state=random_state, n_jobs=n_jobs)
    return model.fit(table)


def bkt_values(model: BKT) -> NDArray[np.float64]:
    """A fitted BKT's parameters, one row per competency, in the order of
    :data:`learnway.store._schema.KT_PARAMETERS`."""
    return np.c_[model.prior_, model.learn_, model.guess_, model.slip_, model.forget_]
