"""`learnway bench kt --train --test` on a researcher's own files, pyBKT present and absent."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from learnway.cli._app import app
from learnway.learner import find_pybkt, load_split_files

from .conftest import synthetic_attempts


def _three_line(attempts: pd.DataFrame) -> str:
    """Attempts in the 3-line format (competencies as integers)."""
    lines = []
    for _, rows in attempts.groupby("student_id", sort=False):
        comps = rows["competency_id"].str[1:].astype(int).tolist()
        lines += [str(len(rows)), ",".join(map(str, comps)), ",".join(map(str, rows["correct"]))]
    return "\n".join(lines) + "\n"


def _csv(attempts: pd.DataFrame) -> str:
    """Attempts as a researcher's export: time-stamped rows, here written out of time order."""
    frame = attempts.rename(columns={"student_id": "student", "competency_id": "competency",
                                     "item_id": "item"})  # fmt: skip
    frame.insert(3, "time", pd.Timestamp("2025-09-01") + pd.to_timedelta(frame.index, unit="min"))
    return frame.iloc[::-1].to_csv(index=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("files")
    train, test = synthetic_attempts(60, 15, seed=1), synthetic_attempts(30, 15, seed=2)
    out = {}
    for fmt, write, suffix in (("three-line", _three_line, "txt"), ("csv", _csv, "csv")):
        out[fmt] = (root / f"train.{suffix}", root / f"test.{suffix}")
        out[fmt][0].write_text(write(train))
        out[fmt][1].write_text(write(test))
    return out


def test_csv_export_loads_in_time_order(files):
    split = load_split_files(*files["csv"], format="csv")
    direct = synthetic_attempts(60, 15, seed=1)
    columns = ["student_id", "competency_id", "item_id", "correct"]
    assert split.train[columns].astype(str).values.tolist() == (
        direct[columns].astype(str).values.tolist()
    )
    assert (
        load_split_files(*files["three-line"]).train["correct"].tolist()
        == direct["correct"].tolist()
    )  # "auto" tells the 3-line file from a CSV


@pytest.mark.parametrize("fmt", ["three-line", "csv"])
@pytest.mark.parametrize("peer", ["present", "absent"])
def test_bench_kt_on_files(tmp_path, files, fmt, peer, monkeypatch):
    import learnway.cli._bench_kt  # noqa: F401  (registers the command)

    monkeypatch.chdir(tmp_path)  # nothing may depend on the current folder
    train, test = files[fmt]
    pybkt = str(find_pybkt()) if peer == "present" else str(tmp_path / "no-such-python")
    result = CliRunner().invoke(
        app,
        ["bench", "kt", "--train", str(train), "--test", str(test), "--format", fmt,
         "--name", f"mine-{fmt}", "--models", "bkt,best-lr,pybkt",
         "--cv-models", "bkt-forget,best-lr+", "--fit-repeats", "1",
         "--pybkt-python", pybkt, "--out-dir", str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / f"kt-mine-{fmt}.json").read_text())
    run = data["splits"][0]
    assert run["test_attempts"] == 30 * 15
    expected = {"bkt", "best-lr"} | ({"pybkt"} if peer == "present" else set())
    assert set(run["models"]) == expected
    assert all(0.5 < m["auc"] <= 1 and m["peak_memory_mb"] > 10 for m in run["models"].values())
    selection = run["selection"]
    assert selection["selected"] in {"bkt-forget", "best-lr+"}
    assert [c["name"] for c in selection["cv"]] == ["bkt-forget", "best-lr+"]
    assert all(len(c["fold_auc"]) == 3 for c in selection["cv"])
    summary = data["summary"]["test"]
    assert summary["best_model"] == selection["selected"]
    assert summary["best_auc"] == selection["test"]["auc"]
    assert summary["best_row"] in expected - {"pybkt"}
    md = (tmp_path / "out" / f"kt-mine-{fmt}.md").read_text()
    assert "Cross-validated choice" in md
    if peer == "present":
        assert data["peer"].startswith("pyBKT")
        assert abs(summary["bkt_auc_minus_pybkt"]) < 0.02
    else:
        assert "pyBKT not found" in result.output and "setup_pybkt.sh" in result.output
        assert data["peer"].startswith("not run: pyBKT not found")
        assert "Peer: not run" in md


def test_bench_kt_needs_a_dataset_or_two_files(files):
    import learnway.cli._bench_kt  # noqa: F401

    result = CliRunner().invoke(app, ["bench", "kt", "--train", str(files["csv"][0])])
    assert result.exit_code == 2
    assert "--dataset, or --train and --test" in result.output


def test_bench_kt_names_the_bad_line_of_a_file(tmp_path):
    import learnway.cli._bench_kt  # noqa: F401

    bad = tmp_path / "bad.csv"
    bad.write_text("student,competency,correct\ns,c,1\ns,c,maybe\n")
    result = CliRunner().invoke(app, ["bench", "kt", "--train", str(bad), "--test", str(bad)])
    assert result.exit_code == 2
    assert "bad.csv, line 3: correct is 'maybe'" in result.output
    result = CliRunner().invoke(
        app, ["bench", "kt", "--train", str(bad), "--test", str(bad), "--format", "xml"]
    )
    assert result.exit_code == 2 and "format must be one of" in result.output
