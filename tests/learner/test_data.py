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


def test_attempts_csv_names_time_order_and_integer_ids(tmp_path):
    from learnway.learner import read_attempts_csv

    f = tmp_path / "export.csv"
    f.write_text(
        "Student,skill,correct,time,item,extra\n7,12,1,30,p1,x\n7,12,0,10,p2,x\n8,5~12,1,20,p3,x\n"
    )
    df = read_attempts_csv(f)
    assert list(df.columns) == ["student_id", "competency_id", "correct", "step", "item_id"]
    assert df.student_id.tolist() == [7, 8, 8, 7]  # by time; the two-competency step expanded
    assert df.competency_id.tolist() == ["12", "5", "12", "12"]
    assert df.correct.tolist() == [0, 1, 1, 1]
    g = tmp_path / "tab.tsv"
    g.write_text("student_id\tcompetency_id\tcorrect\ns1\t3\t1\ns1\t3\t0\n")
    df = read_attempts_csv(g)
    assert df.student_id.tolist() == ["s1", "s1"] and df.competency_id.tolist() == [3, 3]
    assert "step" not in df.columns  # file order kept when there is no time


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("student,competency\ns,c\n", r"line 1: missing column 'correct'"),
        ("student,competency,correct\ns,c,1\ns,c,yes\n", r"line 3: correct is 'yes'"),
        ("student,competency,correct,time\ns,c,1,2025-01-01\ns,c,0,soon\n", r"line 3: time 'soon'"),
    ],
)
def test_attempts_csv_errors_name_the_line(tmp_path, text, match):
    from learnway.learner import read_attempts_csv

    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(AttemptFormatError, match=match):
        read_attempts_csv(f)
