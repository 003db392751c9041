"""Loaders: 3-line files, pyBKT CSV, Learnway's attempts table; clear errors for bad input."""

from __future__ import annotations

import pandas as pd
import pytest

from learnway.learner import (
    AttemptFormatError,
    attempts_from_frame,
    read_pybkt_csv,
    read_three_line,
)


def test_three_line_with_trailing_commas(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("3\n7,7,9,\n1,0,1,\n1\n4\n0\n")
    df = read_three_line(f)
    assert df.student_id.tolist() == [0, 0, 0, 1]
    assert df.competency_id.tolist() == [7, 7, 9, 4]
    assert df.correct.tolist() == [1, 0, 1, 0]


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("3\n7,7\n1,0,1\n", 2, "2 competency ids"),
        ("2\n7,7\n1,2\n", 3, "0 or 1"),
        ("2\n7,x\n1,0\n", 2, "'x' is not an integer"),
        ("2\n7,7\n", 2, "multiple of 3"),
    ],
)
def test_three_line_errors_name_line_and_reason(tmp_path, text, line, reason):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(AttemptFormatError, match=reason) as err:
        read_three_line(f)
    assert err.value.line == line and f"line {line}" in str(err.value)


def test_pybkt_csv_sorted_by_order(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("order_id,user_id,skill_name,correct,problem_id\n2,u1,A,0,p2\n1,u1,A,1,p1\n")
    df = read_pybkt_csv(f)
    assert df.correct.tolist() == [1, 0]
    assert df.item_id.tolist() == ["p1", "p2"]


def test_pybkt_csv_errors(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("user_id,skill_name,correct\nu1,A,1\nu1,A,yes\n")
    with pytest.raises(AttemptFormatError, match=r"line 3.*'yes'"):
        read_pybkt_csv(f)
    f.write_text("user_id,correct\nu1,1\n")
    with pytest.raises(AttemptFormatError, match="skill_name"):
        read_pybkt_csv(f)


def test_attempts_frame_orders_by_time_and_splits_multi_competency_steps():
    raw = pd.DataFrame(
        {
            "student_id": ["a", "a", "b"],
            "competency_id": ["x~y", "x", "y"],
            "correct": [True, 0.2, 1.0],
            "timestamp": ["2024-01-02", "2024-01-01", "2024-01-01"],
        }
    )
    df = attempts_from_frame(raw)
    a = df[df.student_id == "a"]
    assert a.competency_id.tolist() == ["x", "x", "y"]
    assert a.correct.tolist() == [0, 1, 1]
    assert a.step.tolist() == [1, 0, 0]


def test_attempts_frame_missing_column():
    with pytest.raises(AttemptFormatError, match="timestamp"):
        attempts_from_frame(pd.DataFrame({"student_id": [1], "competency_id": [1], "correct": [1]}))
