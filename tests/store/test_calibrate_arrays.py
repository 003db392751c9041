"""A course's attempts read as compact arrays, and BKT fitted on some competencies of a fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from learnway.store import transaction
from learnway.store._attempt_arrays import attempt_arrays, bkt_values, fit_bkt
from learnway.store._progress import aligned_attempts
from learnway.store._schema import CompetencyRow, ItemRow


def _framework(engine: Engine) -> int:
    with transaction(engine) as session:
        return session.scalars(select(ItemRow.framework_id)).first() or 0


def test_the_arrays_hold_every_answer_in_time_order_in_seven_bytes(demo_engine: Engine) -> None:
    framework_id = _framework(demo_engine)
    with transaction(demo_engine) as session:
        table, codes = attempt_arrays(session, framework_id)
        rows = session.execute(
            aligned_attempts().where(CompetencyRow.framework_id == framework_id)
        ).all()
    expected = pd.DataFrame(
        rows, columns=["student_id", "code", "correct", "hints", "timestamp", "id", "kind"]
    )
    expected = expected[expected["kind"] != "worked_example"]
    assert len(table) == len(expected) > 1000
    assert [str(t) for t in table.dtypes] == ["int32", "int16", "int8"]
    assert table.memory_usage(index=False).sum() == 7 * len(table)
    assert codes == sorted(set(codes)) and set(expected["code"]) <= set(codes)
    assert (table["student_id"].to_numpy() == expected["student_id"].to_numpy()).all()
    names = np.asarray(codes, dtype=object)[table["competency_id"].to_numpy()]
    assert (names == expected["code"].to_numpy()).all()
    right = expected["correct"].astype(bool) & (expected["hints"] == 0)
    assert (table["correct"].to_numpy() == right.to_numpy().astype(np.int8)).all()


def test_a_fit_on_some_competencies_gives_their_parameters_of_the_fit_on_all(
    demo_engine: Engine,
) -> None:
    framework_id = _framework(demo_engine)
    with transaction(demo_engine) as session:
        table, codes = attempt_arrays(session, framework_id)
    counts = table["competency_id"].value_counts()
    fitted = sorted(counts.index[counts >= 100].tolist())
    assert len(fitted) >= 4
    table = table[table["competency_id"].isin(fitted)]
    # positions among the competencies fitted
    at = np.zeros(len(codes), dtype=np.int16)
    at[fitted] = np.arange(len(fitted))
    table = table.assign(competency_id=at[table["competency_id"].to_numpy()])
    whole = fit_bkt(table, range(len(fitted)), len(fitted))
    some = [1, 3]
    part = fit_bkt(table[table["competency_id"].isin(some)], some, len(fitted))
    for k in some:
        a = bkt_values(whole)[whole.competency_index_[k]]
        b = bkt_values(part)[part.competency_index_[k]]
        assert np.array_equal(a, b), k
