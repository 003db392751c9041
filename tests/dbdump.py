"""Read a whole database back, to prove that a refused input wrote nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from learnway.store._schema import Base


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            order = list(table.primary_key.columns)
            out[table.name] = [tuple(r) for r in connection.execute(select(table).order_by(*order))]
    return out
