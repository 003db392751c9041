"""Leader reports outside the web: the store's figures, suppression, and ``learnway report``."""

from __future__ import annotations

import json

from sqlalchemy import Engine, select
from typer.testing import CliRunner

from learnway.analytics import MIN_CELL, group_figures, suppressed
from learnway.cli import (
    _reports,  # noqa: F401  (registers its command)
    app,
)
from learnway.store import _reports as reports
from learnway.store import mastered_counts, transaction
from learnway.store._schema import User


def test_suppression_hides_small_groups_and_one_more_when_only_one_is_small() -> None:
    assert suppressed({"a": 40, "b": MIN_CELL}) == set()
    assert suppressed({"a": 40, "b": 20, "c": MIN_CELL - 1}) == {"b", "c"}
    assert suppressed({"a": 40, "b": 3, "c": 2}) == {"b", "c"}


def test_group_figures_are_means_of_the_members_with_growth() -> None:
    groups = {s: ["even" if s % 2 == 0 else "odd"] for s in range(40)}
    now = {s: float(s) for s in range(40)}
    before = {s: float(s) - 2 for s in range(40)}
    figures = {f.group: f for f in group_figures(groups, now, before=before)}
    assert figures["even"].mean == 19.0 and figures["odd"].mean == 20.0
    assert figures["even"].mean_growth == 2.0 and figures["even"].students == 20


def test_district_mastery_report_counts_every_student_once_per_group(
    demo_engine: Engine,
) -> None:
    with transaction(demo_engine) as session:
        students = select(User.id).where(User.role == "student")
        ids, figures = reports.mastery_report(session, students, by="school")
        counts = mastered_counts(session, ids)
    shown = [f for f in figures if not f.suppressed]
    assert shown, "the demo district has schools of ten or more students"
    assert sum(f.students or 0 for f in figures) >= len(shown)
    for figure in shown:
        assert figure.mean is not None and 0 <= figure.mean <= max(counts.values())


def test_learnway_report_prints_the_same_figures_as_the_store(demo_engine: Engine) -> None:
    url = demo_engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["report", "mastery", "--by", "sex", "--format", "json",
                                      "--database", url])  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    with transaction(demo_engine) as session:
        _, figures = reports.mastery_report(
            session, select(User.id).where(User.role == "student"), by="sex"
        )
    assert [(r["group"], r["students"], r["mean"]) for r in rows] == [
        (f.group, f.students, f.mean) for f in figures
    ]
    assert all(r["students"] is None or r["students"] >= MIN_CELL for r in rows)


def test_learnway_report_refuses_an_unknown_breakdown(demo_engine: Engine) -> None:
    url = demo_engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(app, ["report", "mastery", "--by", "shoe-size", "--database", url])
    assert result.exit_code == 2
    assert "unknown breakdown" in result.output
