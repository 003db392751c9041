"""The command line's imports and exports of standard formats: warnings, strict mode, date
formats, progress lines when the output is not a terminal, the log, the OneRoster export and
finding people by their ids."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from conftest import SHARED
from interop.test_case import _package
from interop.test_oneroster_tolerant import VENDOR_MANIFEST, _bundle, _one_zero, _vendor
from learnway.cli import app

runner = CliRunner()


def _words(text: str) -> str:
    return " ".join(text.split())


def test_a_1_0_bundle_needs_its_date_format_and_imports_with_warnings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'school.db'}"
    folder = str(_bundle(tmp_path / "old", _one_zero(), manifest=None))
    refused = runner.invoke(app, ["import", "oneroster", folder, "--database", url])
    assert refused.exit_code == 1 and "Nothing was imported" in refused.output
    assert "--date-format %m/%d/%Y" in refused.output
    strict = runner.invoke(
        app,
        ["import", "oneroster", folder, "--strict", "--date-format", "%m/%d/%Y", "--database", url],
    )
    assert strict.exit_code == 1 and "no manifest.csv" in strict.output
    done = runner.invoke(
        app,
        ["--log-level", "info", "import", "oneroster", folder, "--date-format", "%m/%d/%Y",
         "--database", url],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    words = _words(done.output)
    assert "warning(s) (read, not refused)" in words
    assert "users.csv: header: column userId (OneRoster 1.0) read as userIds" in words
    # not a terminal: progress comes as lines, one per stage
    assert "reading old: users.csv (4/7)" in words and "writing: enrollments (5/8)" in words
    # and the log says what was done
    assert "learnway.interop._oneroster: read old: 1 orgs, 1 terms" in words
    assert "learnway.store._roster: wrote OneRoster 1.1 bundle old" in words

    found = runner.invoke(app, ["find-user", "sis-kim", "--database", url])
    assert found.exit_code == 0 and "kim" in found.output and ":sis-kim" not in found.output
    nobody = runner.invoke(app, ["find-user", "nobody", "--database", url])
    assert nobody.exit_code == 1 and "No one is known by 'nobody'" in nobody.output


def test_the_oneroster_export_imports_back_without_change(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'school.db'}"
    folder = str(_bundle(tmp_path / "vendor", _vendor(), VENDOR_MANIFEST))
    assert runner.invoke(app, ["import", "oneroster", folder, "--database", url]).exit_code == 0
    out = tmp_path / "out"
    exported = runner.invoke(app, ["export", "oneroster", str(out), "--database", url])
    assert exported.exit_code == 0, exported.output
    assert "4 people, 1 classes, 3 enrollments" in _words(exported.output)
    assert sorted(p.name for p in out.iterdir()) == [
        "academicSessions.csv", "classes.csv", "courses.csv", "demographics.csv",
        "enrollments.csv", "manifest.csv", "orgs.csv", "roles.csv", "users.csv",
    ]  # fmt: skip
    again = runner.invoke(app, ["import", "oneroster", str(out), "--database", url])
    assert again.exit_code == 0, again.output
    assert "Nothing changed: the database already held this input." in again.output
    found = runner.invoke(app, ["find-user", "mg01", "--database", url])
    assert "mgarcia" in found.output and "LDAP:mg01" in _words(found.output)


def test_a_case_package_with_parentless_items_imports_with_its_warnings(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'school.db'}"
    package = tmp_path / "framework.json"
    package.write_text(
        json.dumps(_package([("a", "A.1"), ("b", "A.2")], [("isChildOf", "a", "doc")]))
    )
    done = runner.invoke(app, ["import", "case", str(package), "--database", url])
    assert done.exit_code == 0, done.output
    words = _words(done.output)
    assert "1 warning(s) (read, not refused)" in words
    assert "has no isChildOf association: placed under the document" in words
    assert "Imported Fractions" in words


def test_a_shared_bundle_imports_and_lists_each_row_tolerated_or_left_out(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'school.db'}"
    bundle = SHARED / "interop" / "oneroster" / "catalyst-moodle-enrol_oneroster"
    command = ["import", "oneroster", str(bundle / "Test_full_data_set.zip"), "--database", url]
    done = runner.invoke(app, command)
    assert done.exit_code == 0, done.output
    words = _words(done.output)
    assert "2 warning(s) (read, not refused)" in words  # the reading: 1.0 status, a department
    assert "status 'inactive': read as active" in words
    assert "a department that classes or people name as their school: read as a school" in words
    assert "12 warning(s) (read, not refused)" in words  # the writing
    assert "enrollment enr-s-222-12345-987654: left out: user usr-222-987654 is a teacher" in words
    assert words.count("left out: its class cls-222-123478 is marked tobedeleted") == 3
    # strictly read, it is refused whole, each problem named, nothing written
    refused = runner.invoke(app, [*command, "--strict"])
    assert refused.exit_code == 1
    words = _words(refused.output)
    assert "Nothing was imported." in words
    assert "status 'inactive' is not active or tobedeleted" in words
