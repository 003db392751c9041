"""The school's data: schema, migrations, engines, imports and the attempt log."""

from learnway.store._engine import (
    current_revision,
    has_schema,
    make_engine,
    make_sessionmaker,
    normalize_url,
    transaction,
    upgrade,
)

__all__ = [
    "current_revision",
    "has_schema",
    "make_engine",
    "make_sessionmaker",
    "normalize_url",
    "transaction",
    "upgrade",
]
