"""Importing standards and content: complete, idempotent, and all or nothing."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from conftest import ALGEBRA_TARBALL, CCSSM_DIR
from dbdump import dump
from learnway.content import read_oatutor
from learnway.frameworks import read_ccssm
from learnway.store import transaction
from learnway.store._load import save_course, save_framework
from learnway.store._schema import (
    CompetencyRow,
    FrameworkRow,
    HintRow,
    ItemRow,
    Prerequisite,
    RelatedCompetency,
    StepAlignment,
    StepRow,
)


@pytest.fixture(scope="module")
def ccssm():  # type: ignore[no-untyped-def]
    return read_ccssm(CCSSM_DIR)


@pytest.fixture(scope="module")
def algebra():  # type: ignore[no-untyped-def]
    return read_oatutor(ALGEBRA_TARBALL)


def _count(engine: Engine, model: type) -> int:
    with transaction(engine) as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_framework_import_then_reimport_changes_nothing(engine: Engine, ccssm) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        first = save_framework(session, ccssm)
    assert first.inserted["competencies"] == len(ccssm.competencies) == 676
    assert _count(engine, Prerequisite) == 729
    assert _count(engine, RelatedCompetency) == 144
    before = dump(engine)
    with transaction(engine) as session:
        second = save_framework(session, ccssm)
    assert second.changed == 0
    assert second.unchanged["competencies"] == 676
    assert dump(engine) == before


def test_parents_are_linked(engine: Engine, ccssm) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        save_framework(session, ccssm)
        child = session.scalars(
            select(CompetencyRow).where(CompetencyRow.code == "K.CC.B.4.c")
        ).one()
        parent = session.get(CompetencyRow, child.parent_id)
        assert parent is not None and parent.code == "K.CC.B.4"


def test_course_import_then_reimport_changes_nothing(engine: Engine, algebra) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        save_course(session, algebra)
    assert _count(engine, ItemRow) == 2032
    assert _count(engine, StepRow) == 2520
    assert _count(engine, HintRow) == 10604
    assert _count(engine, StepAlignment) == sum(len(s.competencies) for s in algebra.steps)
    before = dump(engine)
    with transaction(engine) as session:
        report = save_course(session, algebra)
    assert report.changed == 0
    assert dump(engine) == before


def test_items_keep_attribution(engine: Engine, algebra) -> None:  # type: ignore[no-untyped-def]
    with transaction(engine) as session:
        save_course(session, algebra)
        licenses = set(session.scalars(select(ItemRow.license)))
        attributions = session.scalars(select(ItemRow.attribution)).all()
        framework = session.scalars(select(FrameworkRow)).one()
    assert licenses == {"CC BY 4.0"}
    assert all("OpenStax" in a and "OATutor" in a for a in attributions)
    assert "OpenStax" in framework.attribution


def test_changed_source_updates_only_what_changed(engine: Engine, ccssm) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    with transaction(engine) as session:
        save_framework(session, ccssm)
    edited = replace(
        ccssm,
        competencies=tuple(
            replace(c, description="Count to 100.") if c.code == "K.CC.A.1" else c
            for c in ccssm.competencies
        ),
        prerequisites=ccssm.prerequisites[1:],
    )
    with transaction(engine) as session:
        report = save_framework(session, edited)
    assert report.updated["competencies"] == 1
    assert report.deleted["prerequisites"] == 1
    assert report.changed == 2


def test_a_crash_mid_write_leaves_nothing(engine: Engine, algebra, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from learnway.store import _load

    real_sync = _load._sync

    def failing_sync(session, model, *args, **kwargs):  # type: ignore[no-untyped-def]
        if model is HintRow:
            raise RuntimeError("disk full")
        return real_sync(session, model, *args, **kwargs)

    before = dump(engine)
    monkeypatch.setattr(_load, "_sync", failing_sync)
    with pytest.raises(RuntimeError, match="disk full"), transaction(engine) as session:
        save_course(session, algebra)
    assert dump(engine) == before


def test_bad_course_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    """Through the command line: a step naming an unknown skill, a truncated tarball."""
    from typer.testing import CliRunner

    from learnway.cli import app

    url = engine.url.render_as_string(hide_password=False)
    before = dump(engine)
    folder = tmp_path / "course"
    with tarfile.open(ALGEBRA_TARBALL) as tar:
        tar.extractall(folder, filter="data")
    model_file = folder / "oatutor-elementary-algebra" / "skillModel.json"
    model = json.loads(model_file.read_text())
    model["a381217systemeq14a"] = ["juggling"]
    model_file.write_text(json.dumps(model))
    result = CliRunner().invoke(app, ["import", "oatutor", str(folder), "--database", url])
    assert result.exit_code == 1
    assert "Nothing was imported" in result.output
    assert "step a381217systemeq14a" in result.output and "juggling" in result.output
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(ALGEBRA_TARBALL.read_bytes()[:100_000])
    result = CliRunner().invoke(app, ["import", "oatutor", str(truncated), "--database", url])
    assert result.exit_code == 1 and "truncated or corrupt archive" in result.output
    assert dump(engine) == before


def test_cycle_in_framework_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    import shutil

    from typer.testing import CliRunner

    from learnway.cli import app

    folder = tmp_path / "ccssm"
    shutil.copytree(CCSSM_DIR, folder)
    (folder / "ccssm-dependencies.csv").chmod(0o644)
    with (folder / "ccssm-dependencies.csv").open("a") as handle:
        handle.write("1.NBT.A.1,K.CC.A.1,dependency\n")
    url = engine.url.render_as_string(hide_password=False)
    before = dump(engine)
    result = CliRunner().invoke(app, ["import", "ccssm", str(folder), "--database", url])
    assert result.exit_code == 1 and "prerequisite cycle" in result.output
    assert dump(engine) == before
    result = CliRunner().invoke(app, ["import", "ccssm", str(CCSSM_DIR), "--database", url])
    assert result.exit_code == 0, result.output
    assert _count(engine, Prerequisite) == 729
