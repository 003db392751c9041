"""Order-sensitive sequence features: runs, streaks and the echo of an earlier run."""

from __future__ import annotations

import numpy as np

from learnway.learner._features import sequence_features


def test_echo_repeats_an_earlier_run_with_the_same_outcomes():
    # student 0: run on competency 1 (1, 0, 1), then competency 2 replays it (1, 0, ?)
    student = np.zeros(6, dtype=np.int64)
    comp = np.array([1, 1, 1, 2, 2, 2], dtype=np.int64)
    correct = np.array([1, 0, 1, 1, 0, 1], dtype=np.int8)
    f = sequence_features(student, comp, correct, 3)
    np.testing.assert_array_equal(f[:, 5], [0, 0, 0, 1, -1, 1])  # echo
    np.testing.assert_array_equal(f[:, 6], [-1, -1, -1, 0, 1, 2])  # match length
    np.testing.assert_array_equal(f[:, 0], [-1, 1, 0, -1, 1, 0])  # last outcome in the run
    np.testing.assert_array_equal(f[:, 3], [0, 1, -1, 0, 1, -1])  # signed streak
    assert f[3, 7] == np.log1p(1)  # one earlier run


def test_a_new_student_starts_afresh():
    student = np.array([0, 0, 1, 1], dtype=np.int64)
    comp = np.array([1, 2, 2, 2], dtype=np.int64)
    correct = np.array([1, 1, 0, 1], dtype=np.int8)
    f = sequence_features(student, comp, correct, 3)
    assert f[2, 5] == 0 and f[2, 6] == -1 and f[2, 7] == 0
