"""The planner: frontier, go-back-to-prerequisite, review interleaving, reasons; properties."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from learnway.paths import (
    BKTParams,
    CompetencyGraph,
    LearnerState,
    Planner,
    Status,
    StepBank,
    apply_attempts,
    is_mastered,
    mastery_status,
)

CODES = ["count", "add", "subtract", "multiply", "divide", "fractions"]
EDGES = [
    ("count", "add"),
    ("add", "subtract"),
    ("add", "multiply"),
    ("multiply", "divide"),
    ("subtract", "divide"),
    ("divide", "fractions"),
]


def make_planner(graph=None, **config):
    from learnway.paths import PlannerConfig

    graph = graph or CompetencyGraph.from_edges(CODES, EDGES)
    n = graph.n
    keys = [f"{code}-{i}" for code in graph.codes for i in range(3)]
    bank = StepBank.from_arrays(n, keys, np.repeat(np.arange(n), 3))
    params = BKTParams.uniform(n)
    return Planner(graph, bank, params, config=PlannerConfig(**config))


def state_with(planner, known, *, evidence=5.0, last_seen=0.0, confirmed=True):
    """One student who knows ``known`` (codes) with high probability and enough evidence,
    ``confirmed`` on a later day (durable) unless told otherwise."""
    state = LearnerState.new(1, planner.params)
    for code in known:
        c = planner.graph.index[code]
        state.p_known[0, c] = 0.97
        state.evidence[0, c] = evidence
        state.attempts[0, c] = int(evidence)
        state.last_seen[0, c] = last_seen
        state.reviews[0, c] = int(confirmed)
    return state


def test_new_student_starts_at_the_root():
    planner = make_planner()
    recs = planner.recommend(LearnerState.new(1, planner.params), 0.0)
    assert recs[0].competency == "count"
    assert {r.competency for r in recs} == {"count"}  # the only frontier competency
    assert 3 <= len(recs) <= 5  # other steps of it, so the student can choose
    assert len({r.activity.key for r in recs}) == len(recs)


def test_frontier_follows_mastery():
    planner = make_planner()
    recs = planner.recommend(state_with(planner, ["count", "add"]), 0.1)
    assert {r.competency for r in recs} == {"subtract", "multiply"}
    assert all(r.activity.kind == "step" for r in recs)


def test_goal_alignment_and_its_reason():
    planner = make_planner()
    state = state_with(planner, ["count", "add"])
    recs = planner.recommend(state, 0.1, goals=["divide"])
    assert recs[0].reasons[0].code == "prerequisite_for_goal"
    assert recs[0].reasons[0].params["goal"] == "divide"
    plain = planner.recommend(state, 0.1)
    assert "prerequisite_for_goal" not in {r.code for rec in plain for r in rec.reasons}


def test_interest_breaks_ties():
    planner = make_planner()
    state = state_with(planner, ["count", "add"])
    for favourite in ("subtract", "multiply"):
        recs = planner.recommend(state, 0.1, interests={favourite: 1.0})
        assert recs[0].competency == favourite
        assert "interest" in {r.code for r in recs[0].reasons}
        others = [rec for rec in recs if rec.competency != favourite]
        assert others and "interest" not in {r.code for rec in others for r in rec.reasons}


def test_go_back_to_weak_prerequisite_when_stuck():
    planner = make_planner()
    state = state_with(planner, ["count"])
    add = planner.graph.index["add"]
    state.p_known[0, add] = 0.75  # nearly mastered: subtract is open, but the evidence is thin
    state.evidence[0, add] = 1.0
    state.attempts[0, add] = 1
    subtract = planner.graph.index["subtract"]
    for i in range(planner.policy.stuck_attempts):
        state = apply_attempts(
            state,
            [0],
            [subtract],
            [0],
            now=0.01 * i,
            params=planner.params,
            graph=planner.graph,
            policy=planner.policy,
        )
    assert mastery_status(state, planner.policy, 1.0)[0, subtract] == Status.STUCK
    recs = planner.recommend(state, 1.0)
    assert recs[0].competency == "add"
    reason = recs[0].reasons[0]
    assert reason.code == "go_back"
    assert reason.params == {"competency": "add", "stuck_on": "subtract"}
    assert "stuck on subtract" in reason.text


def test_stuck_without_weak_prerequisite_gets_a_worked_example():
    planner = make_planner()
    state = state_with(planner, ["count"])
    for i in range(planner.policy.stuck_attempts):
        state = apply_attempts(
            state,
            [0],
            [1],
            [0],
            now=0.01 * i,
            params=planner.params,
            graph=planner.graph,
            policy=planner.policy,
        )
    recs = planner.recommend(state, 1.0)
    assert recs[0].competency == "add"
    assert recs[0].activity.kind == "worked_example"
    assert recs[0].reasons[0].code == "stuck_worked_example"


def test_due_review_is_interleaved_with_new_work():
    planner = make_planner()
    state = state_with(planner, ["count", "add", "subtract", "multiply"], last_seen=0.0)
    state.last_seen[0, planner.graph.index["multiply"]] = 9.0
    recs = planner.recommend(state, 10.0)
    kinds = [r.activity.kind for r in recs]
    assert "review" in kinds and "step" in kinds
    assert not any(a == b == "review" for a, b in itertools.pairwise(kinds))
    review = next(r for r in recs if r.is_review)
    assert review.reasons[0].code == "review_due"
    assert review.reasons[0].params["days_ago"] == 10
    assert "last seen 10 days ago" in review.reasons[0].text
    no_review = make_planner(review=False).recommend(state, 10.0)
    assert all(not r.is_review for r in no_review)


def test_reviews_consolidate_before_the_deadline():
    planner = make_planner()
    state = state_with(planner, ["count", "add"], last_seen=0.0)
    # confirmed once, the half-life is 6 days: recall 2 ** (-3 / 6) = 0.71 is not due by the
    # spaced-review rule (0.7) ...
    far = planner.recommend(state, 3.0, deadline=60.0)
    assert all(not r.is_review for r in far)
    # ... but due in the last days before the deadline, when what is known then counts
    near = planner.recommend(state, 3.0, deadline=7.0)
    assert any(r.is_review for r in near)
    assert next(r for r in near if r.is_review).reasons[0].code == "review_due"


def test_nothing_is_consolidated_past_the_deadline_on_a_school_calendar():
    import datetime as dt

    from learnway.paths import SchoolCalendar

    every = make_planner()
    planner = Planner(
        every.graph, every.bank, every.params,
        calendar=SchoolCalendar(dt.date(2026, 11, 23), "1010100"),
    )  # fmt: skip
    state = state_with(planner, ["count", "add"], last_seen=0.0)
    # recall 0.71 (not due by the spaced-review rule): due in the last school days before the
    # deadline, but not once the deadline has passed (no school days left is no reason)
    assert any(r.is_review for r in planner.recommend(state, 3.0, deadline=5.0))
    assert all(not r.is_review for r in planner.recommend(state, 3.0, deadline=2.0))


def test_deadline_reason_names_the_date():
    import datetime as dt

    planner = make_planner()
    recs = planner.recommend(
        LearnerState.new(1, planner.params), 0.0, deadline=1.0, origin=dt.date(2025, 2, 28)
    )
    deadline = [r for r in recs[0].reasons if r.code == "deadline"]
    assert deadline and "before Mar 1" in deadline[0].text


def test_reasons_are_data_and_text():
    planner = make_planner()
    rec = planner.recommend(LearnerState.new(1, planner.params), 0.0)[0]
    as_dict = rec.as_dict()
    assert as_dict["competency"] == "count"
    assert all({"code", "params", "text"} <= set(r) for r in as_dict["reasons"])


def test_section_lists_match_single_student_lists():
    planner = make_planner()
    state = state_with(planner, ["count", "add"])
    both = LearnerState.new(2, planner.params)
    for name in ("p_known", "evidence", "attempts", "last_seen"):
        getattr(both, name)[1] = getattr(state, name)[0]
    section = planner.recommend_section(both, 0.1)
    assert [r.competency for r in section[1]] == [
        r.competency for r in planner.recommend(state, 0.1)
    ]
    choice, review = planner.next_competencies(both, 0.1)
    assert [planner.graph.codes[c] for c in choice] == [s[0].competency for s in section]
    assert not review.any()


# -- properties -------------------------------------------------------------------------------


@st.composite
def graphs_and_states(draw):
    n = draw(st.integers(2, 12))
    edges = [(f"c{i}", f"c{j}") for j in range(n) for i in range(j) if draw(st.floats(0, 1)) < 0.3]
    graph = CompetencyGraph.from_edges([f"c{i}" for i in range(n)], edges)
    p = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n)))
    evidence = np.array(
        draw(st.lists(st.sampled_from([0.0, 1.0, 2.0, 3.0, 8.0]), min_size=n, max_size=n))
    )
    last_seen = np.array(draw(st.lists(st.floats(0.0, 20.0), min_size=n, max_size=n)))
    no_progress = np.array(draw(st.lists(st.integers(0, 12), min_size=n, max_size=n)))
    return graph, p, evidence, last_seen, no_progress


@settings(max_examples=150, deadline=None)
@given(graphs_and_states(), st.booleans())
def test_never_recommends_far_from_ready_nor_nothing(case, review):
    graph, p, evidence, last_seen, no_progress = case
    planner = make_planner(graph, review=review)
    state = LearnerState.new(1, planner.params)
    state.p_known[0] = p
    state.evidence[0] = evidence
    state.attempts[0] = evidence.astype(np.int64)
    state.last_seen[0] = np.where(evidence > 0, last_seen, np.nan)
    state.no_progress[0] = np.where(evidence > 0, no_progress, 0)
    now = 21.0
    recs = planner.recommend(state, now)
    pol = planner.policy
    ready = p >= pol.ready_fraction * pol.thresholds(graph.n)
    for rec in recs:
        c = graph.index[rec.competency]
        if rec.is_review:
            continue
        assert ready[graph.prereq[c]].all(), "recommended a competency whose prerequisites are far"
        assert not is_mastered(state, pol)[0, c]
    status = mastery_status(state, pol, now)
    work_left = (~is_mastered(state, pol)).any() or (
        review and (status == Status.DUE_FOR_REVIEW).any()
    )
    if work_left:
        assert recs, "recommended nothing while work remains"
    assert len(recs) <= planner.config.n_recommendations


def test_successors_open_once_mastery_is_confirmed_on_a_later_day():
    planner = make_planner()
    fresh = state_with(planner, ["count"], last_seen=0.0, confirmed=False)
    # the same day: "add" waits while "count" is not yet durable, but nothing is blocked for good
    assert planner.recommend(fresh, 0.1)[0].competency == "add"
    sc = planner.scores(fresh, 0.1)
    confirmed = planner.scores(state_with(planner, ["count"]), 0.1)
    assert sc.new[0, 1] < confirmed.new[0, 1]
    # with confirming reviews on, confirming "count" comes first the next day
    confirming = make_planner(w_confirm=1.5)
    assert confirming.recommend(fresh, 0.1)[0].competency == "add"
    top = confirming.recommend(fresh, 1.0)[0]
    assert top.competency == "count" and top.activity.kind == "review"
    assert not planner.recommend(fresh, 1.0)[0].is_review  # off by default


def test_the_list_is_never_empty_when_the_required_work_is_done():
    planner = make_planner()
    state = state_with(planner, CODES, last_seen=0.0)
    state.last_seen[0, 2] = -1.0  # "subtract" was seen first: the most faded
    recs = planner.recommend(state, 0.5)
    assert len(recs) >= planner.config.min_recommendations
    assert recs[0].competency == "subtract" and recs[0].is_review
    assert recs[0].reasons[0].code == "required_done"
    assert "required work is done" in recs[0].reasons[0].text
    choice, review = planner.next_competencies(state, 0.5)
    assert choice[0] == 2 and review[0]


def test_enrichment_is_named_once_the_required_work_is_done():
    graph = CompetencyGraph.from_edges(CODES, EDGES)
    required = np.array([True, True, True, True, True, False])
    planner = Planner(
        graph,
        StepBank.from_arrays(6, [f"{c}-0" for c in CODES], np.arange(6)),
        BKTParams.uniform(6),
        required=required,
    )
    state = state_with(planner, CODES[:5])
    top = planner.recommend(state, 0.5)[0]
    assert top.competency == "fractions"
    assert [r.code for r in top.reasons] == ["enrichment"]


def test_urgency_counts_school_days_only():
    import datetime as dt

    from learnway.paths import SchoolCalendar

    every = make_planner()
    graph, bank, params = every.graph, every.bank, every.params
    # Monday 2026-11-23; the deadline 14 days later: 14 days every day, 6 on Mon/Wed/Fri
    three = Planner(graph, bank, params, calendar=SchoolCalendar(dt.date(2026, 11, 23), "1010100"))
    state = LearnerState.new(1, params)
    daily = every.scores(state, 0.0, deadline=14.0).urgency[0]
    weekly = three.scores(state, 0.0, deadline=14.0).urgency[0]
    assert weekly == pytest.approx(min(daily * 14 / 6, 2.0))


def test_likely_known_is_checked_before_the_work_built_on_it():
    planner = make_planner()
    state = LearnerState.new(1, planner.params)
    c = planner.graph.index["count"]
    state.p_known[0, c] = 0.85  # placed as likely known: at the threshold, no answer of its own
    state.evidence[0, c] = 2.0
    assert mastery_status(state, planner.policy, 0.0)[0, c] == Status.LIKELY_KNOWN
    top = planner.recommend(state, 0.0)[0]
    assert top.competency == "count" and not top.is_review
    assert top.reasons[0].code == "quick_check"
    checked = apply_attempts(
        state, [0], [c], [True], now=0.0, params=planner.params, graph=planner.graph,
        policy=planner.policy,
    )  # fmt: skip
    assert is_mastered(checked, planner.policy)[0, c]
    assert planner.recommend(checked, 0.0)[0].competency == "add"  # then the work built on it
