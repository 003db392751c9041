"""Pacing forecasts (at risk) and flexible groups; diagnostic placement on a chain."""

import numpy as np
import pytest

from learnway.paths import (
    BKTParams,
    CompetencyGraph,
    LearnerState,
    Placement,
    Planner,
    StepBank,
    forecast_pacing,
    section_pacing,
    suggest_groups,
)


def test_pacing_flags_a_slow_student_at_risk():
    frame = forecast_pacing([20, 4], [20, 36], [20, 20], now=20.0, deadline=60.0)
    fast, slow = frame.iloc[0], frame.iloc[1]
    assert not fast["at_risk"]
    assert slow["at_risk"]
    assert slow["forecast"] > 60.0
    assert fast["early"] < fast["forecast"] < fast["late"]


def test_pacing_band_narrows_with_evidence():
    short = forecast_pacing([5], [10], [5], now=5.0, deadline=100.0).iloc[0]
    long = forecast_pacing([50], [10], [50], now=50.0, deadline=100.0).iloc[0]
    assert (long["late"] - long["early"]) < (short["late"] - short["early"])


def test_pacing_done_students_are_not_at_risk_and_roll_up():
    frame = forecast_pacing([30, 30, 2], [0, 0, 28], [10, 10, 10], now=10.0, deadline=20.0)
    assert frame["at_risk"].tolist() == [False, False, True]
    rolled = section_pacing(frame, ["A", "A", "B"])
    assert rolled.set_index("section")["at_risk"].to_dict() == {"A": 0, "B": 1}
    assert rolled.set_index("section")["share_at_risk"]["B"] == 1.0


def test_pacing_rejects_negative_counts():
    with pytest.raises(ValueError, match="non-negative"):
        forecast_pacing([-1], [1], [1], now=0.0, deadline=1.0)


def _planner(n=6):
    codes = [f"c{i}" for i in range(n)]
    graph = CompetencyGraph.from_edges(codes, [(f"c{i}", f"c{i + 1}") for i in range(n - 1)])
    bank = StepBank.one_per_competency(graph)
    return Planner(graph, bank, BKTParams.uniform(n))


def test_groups_share_next_step_and_respect_size_bounds():
    planner = _planner()
    state = LearnerState.new(11, planner.params)
    # Students 0-8 know c0 and c1; 9 and 10 have not started.
    state.p_known[:9, :2] = 0.97
    state.evidence[:9, :2] = state.attempts[:9, :2] = 5  # shown by their own answers
    groups = suggest_groups(planner, state, 0.0, min_size=3, max_size=4)
    teaching = [g for g in groups if g.kind == "next_competency"]
    assert [g.competency for g in teaching] == ["c2", "c2", "c2"]
    assert sorted(len(g.students) for g in teaching) == [3, 3, 3]
    alone = [g for g in groups if g.kind == "independent"]
    assert alone and set(alone[0].students) == {"9", "10"}
    assert "ready for c2" in teaching[0].explanation


def test_students_spread_over_the_course_group_with_their_neighbours():
    planner = _planner(20)
    positions = [3, 4, 5, 6, 18]  # each student knows everything before their position
    state = LearnerState.new(len(positions), planner.params)
    for s, at in enumerate(positions):
        state.p_known[s, :at] = 0.97
        state.evidence[s, :at] = state.attempts[s, :at] = 5
    groups = suggest_groups(planner, state, 0.0, min_size=3, max_size=6, nearby=4)
    (near,) = [g for g in groups if g.kind == "nearby"]
    assert near.students == ("0", "1", "2", "3") and near.competency == "c3"
    assert "earliest at c3" in near.explanation
    (alone,) = [g for g in groups if g.kind == "independent"]
    assert alone.students == ("4",)
    tight = suggest_groups(planner, state, 0.0, min_size=3, max_size=6, nearby=1)
    assert all(g.kind == "independent" for g in tight)


def test_groups_by_blocking_prerequisite():
    planner = _planner()
    state = LearnerState.new(3, planner.params)
    state.p_known[:, 0] = 0.97
    state.evidence[:, 0] = state.attempts[:, 0] = 5
    state.p_known[:, 1] = 0.75  # nearly mastered: c2 is open but c1 is weak
    state.evidence[:, 1] = state.attempts[:, 1] = 1
    state.attempts[:, 2] = planner.policy.stuck_attempts
    state.no_progress[:, 2] = planner.policy.stuck_attempts
    groups = suggest_groups(planner, state, 0.0, students=["ana", "ben", "cy"], min_size=2)
    assert groups[0].kind == "blocking_prerequisite"
    assert groups[0].competency == "c1"
    assert set(groups[0].students) == {"ana", "ben", "cy"}


def test_placement_locates_the_frontier_on_a_chain():
    n = 60
    codes = [f"c{i}" for i in range(n)]
    graph = CompetencyGraph.from_edges(codes, [(f"c{i}", f"c{i + 1}") for i in range(n - 1)])
    params = BKTParams.uniform(n, p_guess=0.1, p_slip=0.1)
    place = Placement(graph, params, confidence=0.85)
    rng = np.random.default_rng(3)
    truth = rng.integers(0, n + 1, 40)  # each student knows the first truth[s] competencies
    posterior = place.start(40)
    asked = np.zeros((40, n), dtype=bool)
    questions = np.zeros(40, dtype=np.int64)
    active = np.arange(40)
    while active.size:
        c = place.choose(posterior[active], asked[active])
        knows = graph.rank[c] < truth[active]
        p_right = np.where(knows, 0.9, 0.1)
        posterior[active] = place.update(posterior[active], c, rng.random(active.size) < p_right)
        asked[active, c] = True
        questions[active] += 1
        active = active[~place.done(posterior[active], questions[active])]
    median, _ = place.interval(posterior)
    assert np.median(questions) <= 20
    assert np.median(np.abs(median - truth)) <= place.width
    known = place.known_probability(posterior) >= 0.5
    true_known = graph.rank[None, :] < truth[:, None]
    assert (known == true_known).mean() > 0.9


def test_school_calendar_counts_practice_days_and_days_off():
    import datetime as dt

    from learnway.paths import SchoolCalendar, breaks_between_sessions

    monday = dt.date(2026, 11, 23)
    cal = SchoolCalendar(monday, "1111100", ((dt.date(2026, 11, 26), dt.date(2026, 11, 27)),))
    assert cal.school_days_between(0.0, 7.0) == 3.0  # Thursday and Friday off, weekend
    assert cal.school_days_between(0.5, 1.0) == 0.5
    assert cal.is_school_day([0, 3, 5, 7]).tolist() == [True, False, False, True]
    assert cal.after_school_days(0.0, 4.0) == 8.0  # Mon, Tue, Wed, then next Mon: end of it
    with pytest.raises(ValueError, match="Monday first"):
        SchoolCalendar(monday, "11111")
    terms = [
        (dt.date(2026, 9, 1), dt.date(2026, 12, 18)),
        (dt.date(2027, 1, 5), dt.date(2027, 5, 28)),
    ]
    assert breaks_between_sessions(terms) == ((dt.date(2026, 12, 19), dt.date(2027, 1, 4)),)


def test_pacing_on_a_calendar_skips_the_days_without_practice():
    import datetime as dt

    from learnway.paths import SchoolCalendar

    cal = SchoolCalendar(dt.date(2026, 11, 23), "1010100")  # Mon, Wed, Fri
    plain = forecast_pacing([10.0], [10.0], [10.0], now=0.0, deadline=30.0)
    school = forecast_pacing([10.0], [10.0], [10.0], now=0.0, deadline=30.0, calendar=cal)
    assert school["forecast"].iloc[0] > 2 * plain["forecast"].iloc[0]
    assert cal.school_days_between(0.0, school["forecast"].iloc[0]) == pytest.approx(
        np.ceil(10.0 / school["rate_per_day"].iloc[0]), abs=1.0
    )
