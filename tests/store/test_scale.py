"""The attempt log at scale: monthly partitions on PostgreSQL, ids stored once across them,
old months archived; one table on SQLite."""

from __future__ import annotations

import datetime as dt
import gzip
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, inspect, select, text

from learnway.store import MASTERED_NAMES, mastered_counts, transaction
from learnway.store._attempts import AttemptIn, record_attempts
from learnway.store._scale import (
    PARTS_SCHEMA,
    archive_partitions,
    ensure_partitions,
    list_partitions,
    partition_name,
)
from learnway.store._schema import Attempt, FrameworkRow, ItemRow, Org, StepRow, User

OCTOBER = dt.datetime(2026, 10, 5, 14, 0, tzinfo=dt.UTC)


@pytest.fixture
def school(engine: Engine) -> dict[str, int]:
    with transaction(engine) as session:
        org = Org(sourced_id="s", name="School", type="school")
        session.add(org)
        session.flush()
        student = User(sourced_id="ana", username="ana", given_name="Ana", family_name="X",
                       role="student", org_id=org.id)  # fmt: skip
        framework = FrameworkRow(key="f", title="F", source="", license="", attribution="")
        session.add_all([student, framework])
        session.flush()
        item = ItemRow(key="i", framework_id=framework.id, title="", body="", source="",
                       license="", attribution="")  # fmt: skip
        session.add(item)
        session.flush()
        step_row = {"key": "s0", "item_id": item.id, "position": 0, "prompt": "", "body": "",
                    "problem_type": "TextBox", "answer_type": "arithmetic", "answers": ["1"],
                    "choices": []}  # fmt: skip
        session.execute(insert(StepRow), [step_row])
        step = session.scalars(select(StepRow.id)).one()
    return {"student": student.id, "step": step}


def _attempt(school: dict[str, int], key: str, when: dt.datetime) -> AttemptIn:
    return AttemptIn(id=key, student_id=school["student"], step_id=school["step"],
                     correct=True, timestamp=when)  # fmt: skip


def _count(engine: Engine) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count()).select_from(Attempt)) or 0


def test_the_log_is_partitioned_by_month_on_postgresql_only(engine: Engine) -> None:
    with engine.connect() as connection:
        kinds = dict(connection.execute(text(
            "SELECT relname, relkind FROM pg_class WHERE relname IN ('attempts', 'mastery_events') "
            "AND relnamespace = 'public'::regnamespace")).all()) if engine.dialect.name == (
            "postgresql") else {}  # fmt: skip
    if engine.dialect.name == "postgresql":
        assert kinds == {"attempts": "p", "mastery_events": "p"}
        names = {(p.table, p.name) for p in list_partitions(engine)}
        this_month = dt.datetime.now(dt.UTC).date().replace(day=1)
        assert ("attempts", partition_name("attempts", this_month)) in names
        assert ("mastery_events", "mastery_events_default") in names
        # partitions live apart: the application's schema holds its models' tables only
        assert not any(n.startswith("attempts_y") for n in inspect(engine).get_table_names())
    else:
        assert list_partitions(engine) == []
        with engine.connect() as connection:
            assert ensure_partitions(connection) == []


def test_an_id_is_stored_once_across_partitions(engine: Engine, school: dict[str, int]) -> None:
    first = _attempt(school, "a-1", OCTOBER)
    with transaction(engine) as session:
        assert record_attempts(session, [first]).stored == ["a-1"]
    # the same id months later, in another partition (or the default one): refused, not stored
    later = _attempt(school, "a-1", OCTOBER.replace(year=2019))
    with transaction(engine) as session:
        report = record_attempts(session, [later])
    assert report.stored == []
    assert [p.message for p in report.refused] == ["id already stored with different content"]
    with transaction(engine) as session:
        assert record_attempts(session, [first]).duplicates == ["a-1"]
    assert _count(engine) == 1


def test_concurrent_writers_of_one_id_store_it_once(engine: Engine, school: dict[str, int]) -> None:
    """Two transactions send the same id with different times (so different partitions) at
    once: exactly one is stored."""
    barrier = threading.Barrier(4)
    outcomes: list[list[str]] = []

    def send(n: int) -> None:
        when = OCTOBER + dt.timedelta(days=40 * n)
        barrier.wait()
        with transaction(engine) as session:
            outcomes.append(record_attempts(session, [_attempt(school, "same", when)]).stored)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(len(o) for o in outcomes) == [0, 0, 0, 1]
    assert _count(engine) == 1


def test_old_months_are_archived_to_files_and_leave_the_log(
    engine: Engine, school: dict[str, int], tmp_path: Path
) -> None:
    if engine.dialect.name != "postgresql":
        with pytest.raises(ValueError, match="needs PostgreSQL"):
            archive_partitions(engine, before=OCTOBER.date(), folder=tmp_path)
        return
    with engine.begin() as connection:
        ensure_partitions(connection, first=dt.date(2026, 8, 1))
    august = OCTOBER.replace(month=8)
    with transaction(engine) as session:
        sent = [_attempt(school, f"aug-{n}", august + dt.timedelta(hours=n)) for n in range(5)]
        record_attempts(session, [*sent, _attempt(school, "oct", OCTOBER)])
    written = archive_partitions(engine, before=dt.date(2026, 9, 1), folder=tmp_path / "archive")
    assert [p.name for p in written] == [
        "attempts_y2026m08.csv.gz",
        "mastery_events_y2026m08.csv.gz",
    ]
    with gzip.open(written[0], "rt") as archived:
        lines = archived.read().splitlines()
    assert lines[0].startswith("id,student_id,step_id")
    assert sorted(line.split(",")[0] for line in lines[1:]) == [f"aug-{n}" for n in range(5)]
    assert _count(engine) == 1  # October stays
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT to_regclass(:t)"),
                                 {"t": f"{PARTS_SCHEMA}.attempts_y2026m08"}) is None  # fmt: skip
    # August again (a late import) lands in the default partition, still stored once
    with transaction(engine) as session:
        assert record_attempts(session, [_attempt(school, "aug-late", august)]).stored


@pytest.mark.slow
def test_bench_scale_writes_a_synthetic_district_with_copy(
    demo_engine: Engine, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from learnway.cli import _ops  # noqa: F401  (registers its commands)
    from learnway.cli._app import app
    from learnway.store._schema import Enrollment, Mastery, MasteryEvent

    url = demo_engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    args = ["bench", "scale", "--students", "70", "--attempts-per-student", "50", "--database", url]
    if demo_engine.dialect.name != "postgresql":
        refused = runner.invoke(app, args)
        assert refused.exit_code == 1
        assert "needs PostgreSQL" in refused.output
        return
    with transaction(demo_engine) as session:
        before = session.scalar(select(func.count()).select_from(Attempt)) or 0
    made = runner.invoke(app, args)
    assert made.exit_code == 0, made.output
    with transaction(demo_engine) as session:
        synthetic = session.scalars(select(User.id).where(User.sourced_id.like("syn-%"))).all()
        assert len(synthetic) == 70
        assert (session.scalar(select(func.count()).select_from(Attempt)) or 0) == before + 70 * 50
        per_student = session.execute(
            select(Attempt.student_id, func.count()).where(Attempt.student_id.in_(synthetic))
            .group_by(Attempt.student_id)
        ).all()  # fmt: skip
        assert {n for _, n in per_student} == {50}
        assert session.scalar(select(func.count()).select_from(Enrollment).where(
            Enrollment.user_id.in_(synthetic))) == 70  # fmt: skip
        assert session.scalar(select(func.count()).select_from(Mastery).where(
            Mastery.student_id.in_(synthetic))) == 70 * 2  # fmt: skip
        assert (session.scalar(select(func.count()).select_from(MasteryEvent)) or 0) > 0
        direct = dict(session.execute(  # the totals loaded in bulk are counted too
            select(Mastery.student_id, func.count()).where(
                Mastery.student_id.in_(synthetic), Mastery.status.in_(MASTERED_NAMES))
            .group_by(Mastery.student_id)).all())  # fmt: skip
        counted = mastered_counts(session, synthetic)
        assert {sid: n for sid, n in counted.items() if n} == direct
    again = runner.invoke(app, args)  # a second state on top is refused, unless appended
    assert again.exit_code == 1 and "already holds" in again.output
    more = runner.invoke(app, [*args[:3], "10", *args[4:], "--append"])
    assert more.exit_code == 0, more.output
    with transaction(demo_engine) as session:
        assert session.scalar(select(func.count()).where(User.sourced_id.like("syn-%"))) == 80
    with transaction(demo_engine) as session:  # the year has its months: nothing in default
        default = session.scalar(text(f"SELECT count(*) FROM {PARTS_SCHEMA}.attempts_default"))
    assert default == 0
    listed = runner.invoke(app, ["partitions", "list", "--database", url])
    assert listed.exit_code == 0 and "2025-09" in listed.output


def test_rows_of_an_older_year_move_from_the_default_partition_into_their_months(
    engine: Engine, school: dict[str, int]
) -> None:
    from learnway.store._scale import split_default

    old = OCTOBER.replace(year=2019)
    with transaction(engine) as session:
        sent = [_attempt(school, f"old-{n}", old + dt.timedelta(days=31 * n)) for n in range(3)]
        assert len(record_attempts(session, sent).stored) == 3
    with engine.begin() as connection:
        moved = split_default(connection)
    assert _count(engine) == 3
    if engine.dialect.name == "postgresql":
        assert moved == 3
        names = {p.name: p for p in list_partitions(engine)}
        assert {"attempts_y2019m10", "attempts_y2019m11", "attempts_y2019m12"} <= set(names)
        with engine.connect() as connection:
            left = connection.scalar(text(f"SELECT count(*) FROM {PARTS_SCHEMA}.attempts_default"))
        assert left == 0
    else:
        assert moved == 0
