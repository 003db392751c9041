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
from learnway.store._schema import Demographics, Org, User


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


def _race_in_words(d: Demographics) -> str:
    """The race rule as the OneRoster fields read: two or more, else the first one marked."""
    if d.demographic_race_two_or_more_races:
        return "Two or more races"
    named = [label for field, label in reports.RACES if getattr(d, field)]
    return named[0] if named else "Not reported"


def test_subgroups_are_labelled_by_the_database_as_the_fields_say(engine: Engine) -> None:
    flags = [None, False, True]
    fields = ["demographic_race_two_or_more_races", *(f for f, _ in reports.RACES)]
    people = []
    with transaction(engine) as session:
        org = Org(sourced_id="d", name="District", type="district")
        session.add(org)
        session.flush()
        for k in range(60):  # each field alone, with a later one, and none (unset or false)
            row = {f: flags[(k + i) % 2] for i, f in enumerate(fields)}
            lead = k % 7
            if lead < len(fields):
                row[fields[lead]] = True
                if k >= 30:
                    row[fields[(lead + 2) % len(fields)]] = True
            user = User(sourced_id=f"s{k}", username=f"s{k}", given_name="S", family_name=str(k),
                        role="student", org_id=org.id)  # fmt: skip
            session.add(user)
            session.flush()
            sex = [None, "female", "male", "Other"][k % 4]
            ethnicity = flags[k % 3]
            people.append(Demographics(user_id=user.id, sex=sex,
                                       hispanic_or_latino_ethnicity=ethnicity, **row))  # fmt: skip
        session.add_all(people)
        session.flush()
        ids = [p.user_id for p in people]
        race = reports.student_groups(session, ids, by="race")
        ethnic = reports.student_groups(session, ids, by="ethnicity")
        sexes = reports.student_groups(session, ids, by="sex")
    assert len({race[p.user_id][0] for p in people}) == 7  # every label occurs
    for p in people:
        assert race[p.user_id] == [_race_in_words(p)]
        flag = p.hispanic_or_latino_ethnicity
        assert ethnic[p.user_id] == [
            "Not reported" if flag is None else
            "Hispanic or Latino" if flag else "Not Hispanic or Latino"
        ]  # fmt: skip
        assert sexes[p.user_id] == [(p.sex or "not reported").capitalize()]
