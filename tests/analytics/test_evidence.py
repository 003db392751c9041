"""The pure analyses of evidence: assignment, power, effects, attrition, subgroups, supports
and content efficacy, each checked against a truth it could miss."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from learnway.analytics import (
    Design,
    School,
    adjust_pvalues,
    assign,
    assign_stratified,
    attrition,
    content_efficacy,
    describe,
    estimate_effects,
    minimum_detectable_effect,
    power_of,
    simulate_practice,
    simulate_supports,
    subgroup_effects,
    support_effect,
    unit_draw,
)


def test_assignment_depends_only_on_the_experiment_and_the_unit() -> None:
    units = [f"student:{i}" for i in range(2000)]
    first = assign("exp-a", units, ["a", "b", "c"], [2, 1, 1])
    again = assign("exp-a", list(reversed(units)), ["a", "b", "c"], [2, 1, 1])[::-1]
    assert first == again
    shares = {k: first.count(k) / len(units) for k in "abc"}
    assert shares["a"] == pytest.approx(0.5, abs=0.04)
    assert shares["b"] == pytest.approx(0.25, abs=0.04)
    other = assign("exp-b", units, ["a", "b", "c"], [2, 1, 1])
    assert sum(x != y for x, y in zip(first, other, strict=True)) > 500
    assert 0 <= unit_draw("exp-a", "student:1") < 1


def test_stratified_assignment_balances_every_stratum() -> None:
    units = [f"u{i}" for i in range(120)]
    strata = [f"s{i % 3}" for i in range(120)]
    picked = assign_stratified("exp", units, strata, ["c", "t"], [1, 1])
    for s in ("s0", "s1", "s2"):
        arms = [p for p, st in zip(picked, strata, strict=True) if st == s]
        assert arms.count("t") == arms.count("c") == 20
    assert picked == assign_stratified("exp", units, strata, ["c", "t"], [1, 1])


@pytest.mark.parametrize(
    ("conditions", "shares"), [(["a"], [1]), (["a", "a"], [1, 1]), (["a", "b"], [1, 0])]
)
def test_bad_conditions_are_refused(conditions: list[str], shares: list[float]) -> None:
    with pytest.raises(ValueError):
        assign("exp", ["u"], conditions, shares)


def test_power_and_mde_agree_and_clustering_costs_power() -> None:
    students = Design(units=400, sd=2.0)
    mde = minimum_detectable_effect(students, 0.8)
    assert power_of(students, mde) == pytest.approx(0.8, abs=1e-6)
    sections = Design(units=16, cluster_size=25, icc=0.2, sd=2.0)
    assert minimum_detectable_effect(sections, 0.8) > mde
    assert power_of(students, 0.0) == pytest.approx(0.05)
    # each term adjusted for (strata beyond the first) costs the test a degree of freedom
    few = Design(units=12, sd=2.0)
    assert minimum_detectable_effect(Design(units=12, sd=2.0, terms=5), 0.8) > (
        minimum_detectable_effect(few, 0.8) * 1.05
    )
    with pytest.raises(ValueError, match="treated_share"):
        Design(units=10, treated_share=1.0)


def test_intervals_cover_a_known_effect_and_clusters_widen_them() -> None:
    rng = np.random.default_rng(4)
    n, sections = 800, 40
    section = np.repeat(np.arange(sections), n // sections)
    arm = np.where(rng.random(sections) < 0.5, "t", "c")[section]
    y = rng.normal(0, 1, n) + rng.normal(0, 0.7, sections)[section] + 0.5 * (arm == "t")
    (naive,) = estimate_effects(y, arm.tolist(), control="c")
    (clustered,) = estimate_effects(y, arm.tolist(), control="c", cluster=section.tolist())
    assert clustered.ci_low <= 0.5 <= clustered.ci_high
    assert clustered.std_error > 1.5 * naive.std_error
    assert clustered.clusters == sections
    assert clustered.hedges_g == pytest.approx(
        clustered.estimate / np.sqrt((y[arm == "t"].var(ddof=1) + y[arm == "c"].var(ddof=1)) / 2),
        rel=0.05,
    )
    text = describe(clustered, outcome="points")
    assert "interval" in text and f"{clustered.ci_low:+.3g}" in text


def test_missing_outcomes_are_attrition_not_a_changed_arm() -> None:
    y = np.array([1.0, 2.0, np.nan, 3.0, 4.0, np.nan, 5.0, 6.0])
    arm = ["c", "c", "c", "c", "t", "t", "t", "t"]
    (effect,) = estimate_effects(y, arm, control="c")
    assert effect.students_control == 3 and effect.students_condition == 3
    report = attrition({"c": 100, "t": 100}, {"c": 95, "t": 70})
    assert report.overall == pytest.approx(0.175) and report.differential == pytest.approx(0.25)
    assert not report.low_cautious and not report.low_optimistic
    low = attrition({"c": 100, "t": 100}, {"c": 92, "t": 90})
    assert low.low_cautious and "low attrition" in low.verdict
    with pytest.raises(ValueError):
        attrition({"c": 10, "t": 10}, {"c": 11, "t": 10})


@pytest.mark.parametrize(
    ("overall", "cautious", "optimistic"),
    [(0, 5.7, 10.0), (10, 6.3, 10.9), (30, 4.1, 8.2), (45, 1.8, 4.9), (57, 0.0, 2.1),
     (58, None, 1.9), (65, None, 0.3), (66, None, None)],
)  # fmt: skip
def test_attrition_boundaries_are_the_wwc_table(
    overall: int, cautious: float | None, optimistic: float | None
) -> None:
    """Rows of the WWC Standards Handbook 4.1 Table II.1 (overall attrition in percent)."""
    lost = overall * 10  # of 1000 per arm, the same in both: no differential
    report = attrition({"c": 1000, "t": 1000}, {"c": 1000 - lost, "t": 1000 - lost})
    assert report.overall == pytest.approx(overall / 100)
    for got, want in ((report.cautious_limit, cautious), (report.optimistic_limit, optimistic)):
        assert (got is None) == (want is None)
        if want is not None:
            assert got == pytest.approx(want / 100)


def test_differential_attrition_is_judged_at_the_boundary() -> None:
    # 30% overall: 6 points differential is over the cautious boundary (4.1), under the
    # optimistic one (8.2)
    middle = attrition({"c": 100, "t": 100}, {"c": 73, "t": 67})
    assert middle.overall == pytest.approx(0.30) and middle.differential == pytest.approx(0.06)
    assert not middle.low_cautious and middle.low_optimistic
    assert "optimistic" in middle.verdict
    at_edge = attrition({"c": 1000, "t": 1000}, {"c": 720, "t": 679})  # 30.05%, 4.1 points
    assert at_edge.low_cautious
    high = attrition({"c": 100, "t": 100}, {"c": 40, "t": 40})  # 60% overall, none differential
    assert not high.low_cautious and high.low_optimistic


def test_subgroups_under_the_minimum_are_suppressed_with_a_second_one() -> None:
    rng = np.random.default_rng(1)
    group = np.array(["big"] * 200 + ["mid"] * 60 + ["tiny"] * 12)
    arm = np.where(np.arange(len(group)) % 2 == 0, "t", "c")
    y = rng.normal(size=len(group)) + (arm == "t") * (group == "big")
    rows, p = subgroup_effects(y, arm.tolist(), group.tolist(), control="c", treated="t")
    shown = {r.group: r for r in rows}
    assert shown["tiny"].suppressed and shown["mid"].suppressed  # secondary suppression
    assert not shown["big"].suppressed and shown["big"].effect is not None
    assert p is None  # one group left: no test of differences between groups


def test_holm_adjustment_is_never_below_the_raw_p_value() -> None:
    raw = [0.01, 0.04, 0.3]
    adjusted = adjust_pvalues(raw)
    assert adjusted[0] == pytest.approx(0.03)
    assert all(a >= r for a, r in zip(adjusted, raw, strict=True))
    assert adjust_pvalues([]) == []


def test_support_analysis_recovers_an_injected_effect_and_checks_trends() -> None:
    rng = np.random.default_rng(3)
    hits = 0
    for _ in range(20):
        data = simulate_supports(rng, effect=0.6)
        result = support_effect(data.mastery, data.start_week, data.section.tolist(),
                                data.subgroup.tolist())  # fmt: skip
        assert result is not None
        hits += result.ci_low <= 0.6 <= result.ci_high
        assert len(result.supported_path) == len(result.event_weeks) == 3 * result.window + 1
    assert hits >= 16
    none = simulate_supports(rng, effect=0.0, supported_share=0.01)
    assert support_effect(none.mastery, none.start_week, none.section.tolist()) is None


def test_content_efficacy_ranks_items_by_what_they_teach() -> None:
    rng = np.random.default_rng(5)
    item_comp = np.repeat(np.arange(10), 6)
    value = rng.uniform(0.0, 0.4, len(item_comp))
    value[::6] = 0.0
    prior = np.full(10, 0.15)
    data = simulate_practice(rng, item_comp, value, p_init=prior, p_guess=prior,
                             p_slip=prior, students=1500)  # fmt: skip
    eff = content_efficacy(
        data.student, data.competency, data.item, data.correct,
        p_init=prior, p_learn=np.full(10, 0.2), p_guess=prior, p_slip=prior,
    )  # fmt: skip
    assert spearmanr(eff.gain, value).statistic > 0.8
    assert eff.flagged[::6].mean() > 0.5 and eff.flagged[value > 0.2].mean() < 0.1
    with pytest.raises(ValueError, match="correct"):
        content_efficacy([0], [0], [0], [2.0], p_init=prior, p_learn=prior, p_guess=prior,
                         p_slip=prior)  # fmt: skip


def test_the_simulated_school_has_the_rate_it_promises() -> None:
    school = School()
    assert school.students == school.sections * school.students_per_section
    assert school.mean_rate > np.exp(school.rate_log_mean)
