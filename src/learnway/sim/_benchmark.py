"""The policy benchmark: fixed sequence, planner (with and without review) and oracle on the same
simulated classrooms; diagnostic placement; planner latency.

The planner is calibrated first on a separate pilot cohort (see :mod:`learnway.sim._calibrate`):
knowledge-tracing parameters fitted on its answers, mastery and review settings chosen on its
outcomes. The students the policies are compared on are never seen by the calibration.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from learnway._machine import load_average, machine_info
from learnway.paths import CourseGraph, LearnerState, Placement, Planner, PlannerConfig
from learnway.sim._ablations import (
    STUDENT_PARAMETERS,
    OwnModelPlanner,
    TrueReviewPlanner,
    TrueStartPlanner,
    TrueStatePlanner,
)
from learnway.sim._calibrate import calibrate
from learnway.sim._classroom import ATTEMPT_KINDS, RunResult, Term, run_term
from learnway.sim._policies import FixedSequence, Oracle, PlannerPolicy, Policy
from learnway.sim._world import KNOWN, Students, retrieval, sample_students

Progress = Callable[[str, int, int], None]


def _summary(result: RunResult) -> dict[str, Any]:
    level = result.prior_level
    q1, q3 = np.quantile(level, [0.25, 0.75])
    low, high = level <= q1, level >= q3
    done = result.mastered
    return {
        "students": int(level.size),
        "median_attempts_to_master": _median(result.attempts_to_master),
        "median_minutes_to_master": _median(result.minutes_to_master),
        "share_mastered_by_deadline": float(done.mean()),
        "mean_known_at_end": float(result.known_end.mean()),
        "mean_retention_at_end": float(result.retention.mean()),
        "mean_attempts_in_term": float(result.attempts.mean()),
        "known_at_end_lowest_prior_quartile": float(result.known_end[low].mean()),
        "known_at_end_highest_prior_quartile": float(result.known_end[high].mean()),
        "quartile_gap_known_at_end": float(
            result.known_end[high].mean() - result.known_end[low].mean()
        ),
        "quartile_gap_share_mastered": float(done[high].mean() - done[low].mean()),
        "attempts_per_student_before_mastery_by_kind": {
            kind: float(count / max(level.size, 1))
            for kind, count in zip(ATTEMPT_KINDS, result.attempt_kinds.tolist(), strict=True)
        },
    }


def _efficiency(run: RunResult, oracle: RunResult) -> dict[str, float]:
    """The oracle's attempts to master the course over the policy's: per student (those who
    mastered it under both), and of the two medians."""
    both = np.isfinite(run.attempts_to_master) & np.isfinite(oracle.attempts_to_master)
    return {
        "students_mastered_under_both": int(both.sum()),
        "efficiency_paired_median": _median(
            oracle.attempts_to_master[both] / np.maximum(run.attempts_to_master[both], 1)
        ),
        "efficiency_of_medians": _median(oracle.attempts_to_master)
        / _median(run.attempts_to_master),
    }


def _median(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else float("nan")


def take_placement(
    place: Placement, students: Students, truth: NDArray[np.float64], rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Simulated students answer the adaptive check until it is done (each answer right with
    the student's guess and slip around ``truth``, their probability of retrieval now).
    Returns the check's posterior over positions and the questions each was asked."""
    n_students = truth.shape[0]
    posterior = place.start(n_students)
    asked = np.zeros(truth.shape, dtype=bool)
    questions = np.zeros(n_students, dtype=np.int64)
    active = np.arange(n_students)
    while active.size:
        c = place.choose(posterior[active], asked[active])
        p_right = (
            students.guess[active]
            + (1 - students.guess[active] - students.slip[active]) * truth[active, c]
        )
        correct = rng.random(active.size) < p_right
        posterior[active] = place.update(posterior[active], c, correct)
        asked[active, c] = True
        questions[active] += 1
        active = active[~place.done(posterior[active], questions[active])]
    return posterior, questions


def placement_study(
    course: CourseGraph, n_students: int, seed: int, placement: Placement | None = None
) -> dict[str, float]:
    """Run the diagnostic alone on fresh simulated students: questions asked and accuracy of the
    placed knowledge state against the simulator's truth at the start."""
    rng = np.random.default_rng(seed)
    students = sample_students(course.graph, n_students, rng)
    place = placement or Placement(course.graph, course.params)
    truth = retrieval(students, 0.0)
    posterior, questions = take_placement(place, students, truth, rng)
    placed = place.known_probability(posterior) >= 0.5
    known = truth >= KNOWN
    # The position that best explains the true known set (fewest disagreements).
    ordered = known[:, course.graph.order]
    zero = np.zeros((n_students, 1))
    unknown_before = np.hstack([zero, np.cumsum(~ordered, axis=1)])
    known_from = ordered.sum(axis=1, keepdims=True) - np.hstack([zero, np.cumsum(ordered, axis=1)])
    true_position = np.argmin(unknown_before + known_from, axis=1)
    median, _ = place.interval(posterior)
    return {
        "students": n_students,
        "competencies": course.n,
        "median_questions": float(np.median(questions)),
        "p90_questions": float(np.quantile(questions, 0.9)),
        "accuracy_known_vs_truth": float((placed == known).mean()),
        "share_skipped_truly_known": float((placed & known).sum() / max(known.sum(), 1)),
        "share_skipped_not_known": float((placed & ~known).sum() / max(placed.sum(), 1)),
        "median_frontier_error_positions": float(np.median(np.abs(median - true_position))),
    }


def latency_study(planner: Planner, seed: int, state: LearnerState) -> dict[str, float]:
    """Planner latency from loaded state: one student's list, and a whole section of 150."""
    rng = np.random.default_rng(seed)
    n = state.shape[0]
    singles = []
    for _ in range(500):
        s = int(rng.integers(n))
        t = time.perf_counter()
        planner.recommend(state, 30.0, student=s, deadline=90.0)
        singles.append(time.perf_counter() - t)
    section = state.rows(rng.integers(0, n, 150))
    sections = []
    for _ in range(20):
        t = time.perf_counter()
        planner.recommend_section(section, 30.0, deadline=90.0)
        sections.append(time.perf_counter() - t)
    ms = 1e3
    return {
        "single_p50_ms": float(np.quantile(singles, 0.5) * ms),
        "single_p99_ms": float(np.quantile(singles, 0.99) * ms),
        "section_150_p50_ms": float(np.quantile(sections, 0.5) * ms),
        "section_150_max_ms": float(np.max(sections) * ms),
    }


def run_policy_benchmark(
    course: CourseGraph,
    *,
    sections: int = 3,
    section_size: int = 30,
    term: Term | None = None,
    seed: int = 0,
    fixed_per_competency: tuple[int, ...] = (4, 6),
    placement_students: int = 200,
    pilot_seed_offset: int = 100,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Every policy on the same simulated students (same truth, same random answers).

    The planner is calibrated on a pilot cohort of the same size drawn with
    ``seed + pilot_seed_offset`` on the same course (the same ease per competency); the planner
    with the content's default parameters and settings runs too, for reference.
    """
    term = term or Term()
    load_start = load_average()
    n = sections * section_size
    if progress is not None:
        progress("calibration (pilot cohort)", 0, 1)
    pilot_seed = seed + pilot_seed_offset
    students = sample_students(course.graph, n, np.random.default_rng(seed))
    # Last year's cohort on the same course: other students, the same content.
    pilot = sample_students(course.graph, n, np.random.default_rng(pilot_seed), ease=students.ease)
    cal = calibrate(course, pilot, term, pilot_seed)
    if progress is not None:
        progress("calibration (pilot cohort)", 1, 1)
    planner = Planner(course.graph, course.bank, cal.params, policy=cal.policy)
    no_review = Planner(
        course.graph,
        course.bank,
        cal.params,
        policy=cal.policy,
        config=PlannerConfig(review=False),
    )
    default = Planner(course.graph, course.bank, course.params, policy=course.policy())
    deadline = term.deadline
    planner_policy = PlannerPolicy(
        planner, placement=Placement(course.graph, cal.params), deadline=deadline
    )
    policies: list[tuple[str, Policy | PlannerPolicy]] = [
        *[(f"fixed_{k}", FixedSequence(course.graph, k)) for k in fixed_per_competency],
        (
            "planner_content_defaults",
            PlannerPolicy(
                default,
                placement=Placement(course.graph, course.params),
                name="planner (content defaults, uncalibrated)",
                deadline=deadline,
            ),
        ),
        ("planner", planner_policy),
        (
            "planner_no_review",
            PlannerPolicy(
                no_review,
                placement=Placement(course.graph, cal.params),
                name="planner without review",
                deadline=deadline,
            ),
        ),
        ("oracle", Oracle(course.graph)),
        # Diagnostics, not teaching policies: the planner given one piece of the truth.
        ("planner_true_start", TrueStartPlanner(planner, deadline=deadline)),
        (
            "planner_true_review",
            TrueReviewPlanner(
                no_review, placement=Placement(course.graph, cal.params), deadline=deadline
            ),
        ),
        ("planner_true_state", TrueStatePlanner(planner, deadline=deadline)),
        ("planner_own_model_population", OwnModelPlanner(planner, deadline=deadline)),
        (
            "planner_own_model_rate",
            OwnModelPlanner(planner, infer_rate=True, deadline=deadline),
        ),
        (
            "planner_own_model",
            OwnModelPlanner(planner, individual=STUDENT_PARAMETERS, deadline=deadline),
        ),
    ]
    results: dict[str, Any] = {}
    runs: dict[str, RunResult] = {}
    timings: dict[str, float] = {}
    for key, policy in policies:
        t = time.perf_counter()

        def tick(day: int, key: str = key) -> None:
            if progress is not None:
                progress(key, day, term.days)

        runs[key] = run_term(
            course, students, policy, term, np.random.default_rng(seed + 1), progress=tick
        )
        timings[key] = time.perf_counter() - t
        results[key] = {"name": policy.name, **_summary(runs[key])}
        results[key]["simulation_seconds"] = round(timings[key], 2)

    fixed_keys = [f"fixed_{k}" for k in fixed_per_competency]
    plan, orac = runs["planner"], runs["oracle"]
    comparisons: dict[str, Any] = {}
    for key in fixed_keys:
        fixed = runs[key]
        pair = np.isfinite(plan.attempts_to_master) & np.isfinite(fixed.attempts_to_master)
        comparisons[f"planner_vs_{key}"] = {
            "students_mastered_under_both": int(pair.sum()),
            "attempt_reduction_paired_median": _median(
                1 - plan.attempts_to_master[pair] / np.maximum(fixed.attempts_to_master[pair], 1)
            ),
            "attempt_reduction_of_medians": 1
            - results["planner"]["median_attempts_to_master"]
            / results[key]["median_attempts_to_master"],
            "share_mastered_planner": float(plan.mastered.mean()),
            "share_mastered_fixed": float(fixed.mastered.mean()),
            "known_at_end_planner": float(plan.known_end.mean()),
            "known_at_end_fixed": float(fixed.known_end.mean()),
        }
    diagnostics = (
        "planner_true_start",
        "planner_true_review",
        "planner_true_state",
        "planner_own_model_population",
        "planner_own_model_rate",
        "planner_own_model",
    )
    for key in ("planner", "planner_content_defaults", *diagnostics):
        comparisons[f"{key}_vs_oracle"] = _efficiency(runs[key], orac)
    comparisons["review_effect"] = {
        "retention_with_review": results["planner"]["mean_retention_at_end"],
        "retention_without_review": results["planner_no_review"]["mean_retention_at_end"],
        "known_at_end_with_review": results["planner"]["mean_known_at_end"],
        "known_at_end_without_review": results["planner_no_review"]["mean_known_at_end"],
    }
    if progress is not None:
        progress("placement", 0, 1)
    placement = placement_study(
        course, placement_students, seed + 2, Placement(course.graph, cal.params)
    )
    placement["median_questions_in_classroom_runs"] = float(np.median(planner_policy.questions))
    latency = latency_study(planner, seed + 3, planner_policy.state)
    return {
        "course": {"key": course.key, "competencies": course.n, "steps": len(course.bank.keys)},
        "setup": {
            "sections": sections,
            "section_size": section_size,
            "students": n,
            "days": term.days,
            "minutes_per_day": term.minutes_per_day,
            "course_mastered_when_known_share": term.target_share,
            "known_means_retrieval_at_least": KNOWN,
            "seed": seed,
        },
        "calibration": {"pilot_seed": pilot_seed, "pilot_students": n, **cal.summary()},
        "policies": results,
        "comparisons": comparisons,
        "placement": placement,
        "latency": latency,
        "machine": {
            **machine_info(),
            "load_average_1_5_15_min_at_start": load_start,
            "load_average_1_5_15_min_at_end": load_average(),
        },
    }


def write_results(results: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    """Write ``paths.json`` and ``paths.md`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / "paths.json", directory / "paths.md"
    json_path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n")
    md_path.write_text(render_markdown(results))
    return json_path, md_path


def render_markdown(r: dict[str, Any]) -> str:
    setup, course = r["setup"], r["course"]
    lines = [
        "# Policy benchmark: personal learning paths",
        "",
        f"Course `{course['key']}`: {course['competencies']} competencies, "
        f"{course['steps']} steps. {setup['sections']} sections x {setup['section_size']} "
        f"simulated students, {setup['days']} school days x {setup['minutes_per_day']:g} "
        f"minutes, seed {setup['seed']}. Students learn on a logistic curve and forget on a "
        "forgetting curve (not BKT). A student has mastered the course when "
        f"{setup['course_mastered_when_known_share']:.0%} of its competencies are known at once "
        f"(retrieval >= {setup['known_means_retrieval_at_least']}).",
        "",
        "| policy | median attempts to master | median minutes | share mastered by deadline "
        "| known at end | retention at end | known at end, Q1 / Q4 of prior knowledge "
        "| Q4-Q1 gap (known at end) | sim seconds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for p in r["policies"].values():
        lines.append(
            f"| {p['name']} | {p['median_attempts_to_master']:.0f} | "
            f"{p['median_minutes_to_master']:.0f} | {p['share_mastered_by_deadline']:.2f} | "
            f"{p['mean_known_at_end']:.3f} | {p['mean_retention_at_end']:.3f} | "
            f"{p['known_at_end_lowest_prior_quartile']:.3f} / "
            f"{p['known_at_end_highest_prior_quartile']:.3f} | "
            f"{p['quartile_gap_known_at_end']:.3f} | {p['simulation_seconds']:.1f} |"
        )
    lines += [
        "",
        "## Where the attempts go",
        "",
        "Attempts per student before the student masters the course (all term for those who "
        "do not), by what each attempt was for, judged on the simulator's truth just before it.",
        "",
        "| policy | " + " | ".join(ATTEMPT_KINDS) + " |",
        "|---|" + "---|" * len(ATTEMPT_KINDS),
    ]
    for p in r["policies"].values():
        kinds = p["attempts_per_student_before_mastery_by_kind"]
        lines.append(
            f"| {p['name']} | " + " | ".join(f"{kinds[k]:.0f}" for k in ATTEMPT_KINDS) + " |"
        )
    lines += ["", "## Comparisons", ""]
    for key, values in r["comparisons"].items():
        parts = ", ".join(
            f"{k} = {v:.3f}" if isinstance(v, float) else f"{k} = {v}" for k, v in values.items()
        )
        lines.append(f"- **{key}**: {parts}")
    cal = r.get("calibration")
    if cal:
        lines += ["", "## Calibration on the pilot cohort", ""]
        lines.append(
            f"Pilot cohort: {cal['pilot_students']} other simulated students (seed "
            f"{cal['pilot_seed']}) on the same course (the same ease per competency), taught by "
            "the fixed sequence; BKT with forgetting fitted by EM "
            f"on their {cal['pilot_attempts']} answers in {cal['fit_seconds']:.2f} s. Fitted "
            "parameters (10th, 50th, 90th percentile over competencies):"
        )
        lines.append("")
        for name, q in cal["fitted_quantiles_10_50_90"].items():
            lines.append(f"- {name}: " + ", ".join(f"{v:.3f}" for v in q))
        lines += [
            "",
            "Mastery and review settings tried on the pilot cohort (the planner then uses the "
            "one under which the pilot students know the most of the course at the deadline):",
            "",
            "| threshold | min evidence | half-life (days) | review below recall "
            "| median attempts to master | share mastered | known at end | Q4-Q1 gap | retention |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for t in cal["candidates_on_pilot"]:
            lines.append(
                f"| {t['threshold']:g} | {t['min_evidence']:g} | {t['half_life_days']:g} | "
                f"{t['review_recall']:g} | {t['median_attempts_to_master']:.0f} | "
                f"{t['share_mastered_by_deadline']:.2f} | {t['mean_known_at_end']:.3f} | "
                f"{t['quartile_gap_known_at_end']:.3f} | {t['mean_retention_at_end']:.3f} |"
            )
        chosen = cal["chosen"]
        lines += ["", "Chosen: " + ", ".join(f"{k} = {v:g}" for k, v in chosen.items())]
    lines += ["", "## Diagnostic placement", ""]
    lines += [
        f"- {k}: {v:.3f}" if isinstance(v, float) else f"- {k}: {v}"
        for k, v in r["placement"].items()
    ]
    lines += ["", "## Planner latency (from loaded state)", ""]
    lines += [f"- {k}: {v:.2f}" for k, v in r["latency"].items()]
    lines += ["", "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in r["machine"].items()]
    return "\n".join(lines) + "\n"


SEED_TABLE_COLUMNS = (
    ("planner", "planner (BKT)"),
    ("planner_own_model_population", "population's parameters"),
    ("planner_own_model_rate", "learning rate inferred"),
    ("planner_own_model", "each student's parameters"),
)


def render_seed_row(r: dict[str, Any]) -> str:
    """A results file's efficiencies against the oracle (per student / of the medians), as one
    row of the table over seeds that ``docs/paths.md`` quotes (a test checks the quote)."""
    cells = [
        f"{e['efficiency_paired_median']:.2f} / {e['efficiency_of_medians']:.2f}"
        for e in (r["comparisons"][f"{key}_vs_oracle"] for key, _ in SEED_TABLE_COLUMNS)
    ]
    return f"| {r['setup']['seed']} | " + " | ".join(cells) + " |"


def render_summary(r: dict[str, Any]) -> str:
    """The headline figures of a results file, one line per acceptance criterion (quoted by
    ``docs/paths.md``; a test checks that the quote matches ``paths.json``)."""
    pol, cmp_, pl, lat = r["policies"], r["comparisons"], r["placement"], r["latency"]
    plan, orac = pol["planner"], pol["oracle"]
    f4, f6 = cmp_["planner_vs_fixed_4"], cmp_["planner_vs_fixed_6"]
    eff, rev = cmp_["planner_vs_oracle"], cmp_["review_effect"]
    start = cmp_["planner_true_start_vs_oracle"]["efficiency_paired_median"]
    timed = cmp_["planner_true_review_vs_oracle"]["efficiency_paired_median"]
    told = cmp_["planner_true_state_vs_oracle"]["efficiency_paired_median"]
    own = cmp_["planner_own_model_vs_oracle"]
    own_rate = cmp_["planner_own_model_rate_vs_oracle"]
    own_population = cmp_["planner_own_model_population_vs_oracle"]
    load = r["machine"].get("load_average_1_5_15_min_at_start", [])
    plan_kinds = plan["attempts_per_student_before_mastery_by_kind"]
    orac_kinds = orac["attempts_per_student_before_mastery_by_kind"]
    lines = [
        f"- Share of students who master the course by the deadline: planner "
        f"{plan['share_mastered_by_deadline']:.2f}, fixed sequences "
        f"{f4['share_mastered_fixed']:.2f} (4 per competency) and "
        f"{f6['share_mastered_fixed']:.2f} (6), oracle {orac['share_mastered_by_deadline']:.2f}.",
        f"- Attempts to master, students who mastered under both: planner "
        f"{f4['attempt_reduction_paired_median']:.0%} fewer than the 4-per-competency sequence "
        f"and {f6['attempt_reduction_paired_median']:.0%} fewer than the 6 (paired medians).",
        f"- Efficiency against the oracle (its attempts over the planner's): "
        f"{eff['efficiency_paired_median']:.2f} per student (median, "
        f"{eff['students_mastered_under_both']} students), {eff['efficiency_of_medians']:.2f} "
        f"of the medians; uncalibrated planner "
        f"{cmp_['planner_content_defaults_vs_oracle']['efficiency_paired_median']:.2f}; with the "
        f"true starting state {start:.2f}, with reviews timed on the true forgetting curve "
        f"{timed:.2f}, with the true state before every choice {told:.2f}.",
        f"- The planner on the simulator's own model, the state estimated from the answers: "
        f"{own['efficiency_paired_median']:.2f} per student and "
        f"{own['efficiency_of_medians']:.2f} of the medians with each student's parameters; "
        f"{own_rate['efficiency_paired_median']:.2f} and "
        f"{own_rate['efficiency_of_medians']:.2f} with each student's learning rate inferred "
        f"from the answers (the rest the population's); "
        f"{own_population['efficiency_paired_median']:.2f} and "
        f"{own_population['efficiency_of_medians']:.2f} with the population's parameters.",
        "- Where the attempts go before a student masters the course (per student, planner / "
        "oracle): "
        + "; ".join(
            f"{kind} {plan_kinds[kind]:.0f} / {orac_kinds[kind]:.0f}" for kind in ATTEMPT_KINDS
        )
        + ".",
        f"- Spaced review: retention at the end {rev['retention_with_review']:.3f} with review, "
        f"{rev['retention_without_review']:.3f} without; known at the end "
        f"{rev['known_at_end_with_review']:.3f} and {rev['known_at_end_without_review']:.3f}.",
        f"- Prior-knowledge quartiles, known at the end (lowest / highest): planner "
        f"{plan['known_at_end_lowest_prior_quartile']:.3f} / "
        f"{plan['known_at_end_highest_prior_quartile']:.3f} (gap "
        f"{plan['quartile_gap_known_at_end']:.3f}); fixed 4 per competency "
        f"{pol['fixed_4']['known_at_end_lowest_prior_quartile']:.3f} / "
        f"{pol['fixed_4']['known_at_end_highest_prior_quartile']:.3f} (gap "
        f"{pol['fixed_4']['quartile_gap_known_at_end']:.3f}); fixed 6 per competency gap "
        f"{pol['fixed_6']['quartile_gap_known_at_end']:.3f}; oracle gap "
        f"{orac['quartile_gap_known_at_end']:.3f}.",
        f"- Placement: median {pl['median_questions']:.0f} questions (90th percentile "
        f"{pl['p90_questions']:.0f}), accuracy {pl['accuracy_known_vs_truth']:.3f} against the "
        f"simulator's truth; {pl['share_skipped_not_known']:.1%} of what it skips is not known.",
        f"- Latency: one student p99 {lat['single_p99_ms']:.2f} ms; a section of 150 "
        f"{lat['section_150_p50_ms']:.0f} ms (median), {lat['section_150_max_ms']:.0f} ms (max)"
        + (f"; load average {load[0]:.2f} at the start." if load else "."),
    ]
    return "\n".join(lines) + "\n"
