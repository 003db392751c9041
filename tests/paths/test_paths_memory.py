"""The memory model learned from spaced reviews, the review target, and one configuration
selected from an attempts table."""

import numpy as np
import pandas as pd
import pytest

from learnway.paths import (
    BKTParams,
    MasteryPolicy,
    MemoryModel,
    review_target,
    select_configuration,
    stored_policy,
)


def _reviews(seed=0, students=150, competencies=12):
    """Answers of students who learned every competency, then reviewed it after random gaps;
    recall halves every half-life, which grows with each day practised."""
    rng = np.random.default_rng(seed)
    half = np.exp2(rng.normal(1.5, 0.8, competencies))
    student_factor = np.exp2(rng.normal(0.0, 0.4, students))
    rows = []
    for s in range(students):
        for c in range(competencies):
            rows += [(s, f"k{c}", 1, 0.0), (s, f"k{c}", 1, 0.01)]
            day, sessions = 0.0, 1
            for _ in range(4):
                gap = rng.uniform(0.5, 10.0)
                day += gap
                h = half[c] * student_factor[s] * 2.5 ** (sessions - 1)
                right = rng.random() < 0.15 + 0.75 * 2 ** (-gap / h)
                rows.append((s, f"k{c}", int(right), day))
                sessions += 1
    table = pd.DataFrame(rows, columns=["student_id", "competency_id", "correct", "day"])
    return table, half


def test_the_memory_model_recovers_each_competencys_half_life():
    table, half = _reviews()
    model = MemoryModel().fit(table)
    fitted = model.half_lives([f"k{c}" for c in range(half.size)])
    assert np.corrcoef(np.log2(fitted), np.log2(half))[0, 1] > 0.9
    assert 1.8 < model.growth_ < 3.5
    unseen = model.half_lives(["never-answered"])[0]
    assert unseen == pytest.approx(2**model.log2_half_life_)  # the shared value


def test_the_memory_model_refuses_a_table_without_times():
    with pytest.raises(ValueError, match="day or timestamp"):
        MemoryModel().fit(pd.DataFrame({"student_id": [1], "competency_id": ["a"], "correct": [1]}))
    with pytest.raises(RuntimeError, match="not fitted"):
        MemoryModel().half_lives(["a"])


def test_the_review_target_meets_the_retention_asked():
    target = review_target(3.0, 2.0, learn_rate=0.2)
    assert 0.5 <= target <= 0.9
    assert (1 - target) / np.log(1 / target) >= 0.8
    # relearning that costs more asks for earlier reviews
    assert review_target(3.0, 2.0, learn_rate=0.05) >= review_target(3.0, 2.0, learn_rate=0.9)


def test_one_configuration_from_an_attempts_table():
    table, _ = _reviews(students=60, competencies=6)
    thin = pd.DataFrame(
        {"student_id": [0, 1, 2], "competency_id": ["rare"] * 3, "correct": [1, 0, 1],
         "day": [0.0, 0.0, 0.0]}
    )  # fmt: skip
    codes = [f"k{c}" for c in range(6)] + ["rare", "unseen"]
    defaults = BKTParams.uniform(len(codes), p_learn=0.123)
    config = select_configuration(
        pd.concat([table, thin]), codes, min_attempts=50, min_students=10, defaults=defaults
    )
    assert config.family in ("bkt", "bkt-forgetting")
    assert config.thin == ("rare", "unseen")
    assert config.params.p_learn[-2] == config.params.p_learn[-1] == 0.123
    assert config.params.p_learn[0] != 0.123
    policy = config.policy(MasteryPolicy())
    assert policy.durable_days == 1 and 0.5 <= policy.review_recall <= 0.9
    stored = config.stored_settings(codes)
    again = stored_policy(stored, codes)
    np.testing.assert_allclose(again.half_life_days, policy.half_life_days)
    with pytest.raises(ValueError, match="unknown planner settings"):
        stored_policy({"speed": 2}, codes)
