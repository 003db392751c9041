"""The policy benchmark on two simulated worlds side by side, several seeds each.

Worlds: ``logistic`` (:mod:`learnway.sim._world`: gradual strength, power-law forgetting) and
``knowledge_space`` (:mod:`learnway.sim._knowledge_space`: all-or-nothing learning on the
fringe, exponential forgetting with a spacing effect, rusty prior knowledge). In each, per
seed: a pilot cohort (other students, the same content) is taught by the fixed sequence; the
*deployed configuration* is what :func:`learnway.paths.select_configuration` selects from the
pilot's attempts (the function ``learnway calibrate`` runs on a school's), run with the
placement check, exactly as the live path runs it; it is compared on fresh students with the
fixed 4-per-competency sequence, a plain BKT planner in course order (the content's BKT
parameters, without forgetting) and the oracle. Attempts to master the course are followed
to a cap, the same for every policy, and their median is censored (see
:func:`censored_median`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from learnway._machine import load_average, machine_info
from learnway.paths import CourseGraph, Placement, Planner, select_configuration
from learnway.sim._classroom import ATTEMPT_KINDS, RunResult, Term, run_term
from learnway.sim._knowledge_space import sample_space_students
from learnway.sim._policies import CourseOrderBKT, FixedSequence, Oracle, PlannerPolicy, Policy
from learnway.sim._world import KNOWN, Learners, sample_students

Progress = Callable[[str, int, int], None]
Sampler = Callable[..., Learners]
WORLDS: dict[str, Sampler] = {
    "logistic": sample_students,
    "knowledge_space": sample_space_students,
}
POLICIES = ("fixed_4", "plain_bkt", "deployed", "oracle")
SCHOOL_TERM = Term(days=54, minutes_per_day=45.0, weekdays="1010100", after_deadline=36)
"""18 weeks of 3 school days (Monday, Wednesday, Friday), 45 minutes (about 30 attempts) a day;
the pilot cohort is taught 12 weeks past the deadline, the policies compared to the cap (see
:func:`capped`)."""
REVIEW_KINDS = ("relearning what was forgotten", "already known, spaced review")
CAP_TERMS = 3
"""Every policy's students are followed until they master the course or reach a cap of this
many times the term's school days (the same cap for every policy)."""


def capped(term: Term, cap_terms: int = CAP_TERMS) -> Term:
    """``term`` followed past its deadline to ``cap_terms`` times its school days, a student
    who has mastered the course stopping there (the share mastered is still judged at the
    deadline)."""
    return replace(term, after_deadline=(cap_terms - 1) * term.days, stop_when_mastered=True)


def pilot_attempts(run: RunResult) -> pd.DataFrame:
    """A simulated attempt log as an attempts table (``select_configuration``'s input)."""
    log = run.attempt_log
    assert log is not None
    return pd.DataFrame(
        {
            "student_id": log["student"].to_numpy(),
            "competency_id": log["competency"].to_numpy(),
            "correct": log["correct"].to_numpy(bool),
            "hints_used": log["hints_used"].to_numpy(),
            "day": log["day"].to_numpy(np.float64),
        }
    )


def deployed_planner(
    course: CourseGraph, attempts: pd.DataFrame, term: Term
) -> tuple[PlannerPolicy, dict[str, Any]]:
    """The configuration selected from ``attempts``, run as the live path runs it: its
    parameters and settings, the school calendar, the placement check first."""
    config = select_configuration(attempts, course.graph.codes, defaults=course.params)
    planner = Planner(
        course.graph,
        course.bank,
        config.params,
        policy=config.policy(course.policy()),
        calendar=term.calendar(),
    )
    policy = PlannerPolicy(
        planner,
        placement=Placement(course.graph, config.params),
        name="deployed planner (calibrated, placement)",
        deadline=term.deadline,
    )
    summary = {k: v for k, v in config.settings.items() if k != "half_life_days"}
    half = np.asarray(config.settings["half_life_days"])
    summary["half_life_days_10_50_90"] = [
        round(float(q), 2) for q in np.quantile(half, [0.1, 0.5, 0.9])
    ]
    return policy, {"family": config.family, "settings": summary, **config.figures}


def censored_median(to_master: np.ndarray, at_end: np.ndarray) -> dict[str, Any]:
    """The median attempts to master the course, a student who has not mastered it by the
    cap counted as never (censored at infinity): defined only when more than half of the
    students master it within the cap. ``at_least`` is a lower bound that always exists (the
    median with each censored student's attempts up to the cap in place of infinity)."""
    censored = ~np.isfinite(to_master)
    full = np.where(censored, np.inf, to_master)
    value = float(np.median(full)) if full.size else float("inf")
    floor = np.where(censored, at_end, to_master).astype(np.float64)
    return {
        "median": value if np.isfinite(value) else None,
        "at_least": float(np.median(floor)) if floor.size else 0.0,
        "mastered_within_cap": float((~censored).mean()) if full.size else 0.0,
    }


def _figures(run: RunResult) -> dict[str, Any]:
    kinds = dict(zip(ATTEMPT_KINDS, run.attempt_kinds.tolist(), strict=True))
    total = max(sum(kinds.values()), 1)
    median = censored_median(run.attempts_to_master, run.attempts)
    return {
        "name": run.policy,
        "median_attempts_to_master": median["median"],
        "median_attempts_to_master_at_least": median["at_least"],
        "share_mastered_within_cap": median["mastered_within_cap"],
        "share_mastered_by_deadline": float(run.mastered.mean()),
        "mean_known_at_end": float(run.known_end.mean()),
        "mean_retention_at_end": float(run.retention.mean()),
        "review_share": sum(kinds[k] for k in REVIEW_KINDS) / total,
        "attempts_per_student_by_kind": {
            k: round(v / max(run.attempts.size, 1), 1) for k, v in kinds.items()
        },
    }


def _ratio_of_medians(run: RunResult, other: RunResult) -> tuple[float, str]:
    """``run``'s median attempts to master over ``other``'s, and whether that is the value
    (``exact``), an upper bound (``at most``: ``other``'s median is past the cap) or a lower
    bound (``at least``: ``run``'s is); ``none`` when neither median is defined."""
    a = censored_median(run.attempts_to_master, run.attempts)
    b = censored_median(other.attempts_to_master, other.attempts)
    if a["median"] is not None and b["median"] is not None:
        return a["median"] / b["median"], "exact"
    if a["median"] is not None:
        return a["median"] / b["at_least"], "at most"
    if b["median"] is not None:
        return a["at_least"] / b["median"], "at least"
    return float("nan"), "none"


def _against(run: RunResult, other: RunResult) -> dict[str, Any]:
    """Fewer attempts to master than ``other``, of the censored medians (see
    :func:`censored_median`): when ``other``'s median is past the cap the reduction is a lower
    bound (``at least``), when ``run``'s is, an upper bound (``at most``), and it counts as
    failing for the policy past the cap. Paired per student as well, over the students who
    mastered the course under both."""
    ratio, bound = _ratio_of_medians(run, other)
    flipped = {"at most": "at least", "at least": "at most"}.get(bound, bound)
    both = np.isfinite(run.attempts_to_master) & np.isfinite(other.attempts_to_master)
    paired = run.attempts_to_master[both] / np.maximum(other.attempts_to_master[both], 1)
    return {
        "reduction_of_medians": 1 - ratio,
        "reduction_bound": flipped,
        "reduction_paired_median_mastered_under_both": float(1 - np.median(paired))
        if both.any()
        else float("nan"),
        "students_mastered_under_both": int(both.sum()),
    }


def _efficiency(run: RunResult, oracle: RunResult) -> dict[str, Any]:
    """The oracle's attempts to master over the policy's: per student (median over the
    students the oracle brings to mastery within the cap; 0 for one the policy does not) and
    of the censored medians (an upper bound, ``at most``, when the policy's is past the cap)."""
    base = np.isfinite(oracle.attempts_to_master)
    mine = run.attempts_to_master[base]
    per = np.where(
        np.isfinite(mine), oracle.attempts_to_master[base] / np.maximum(np.nan_to_num(mine), 1), 0.0
    )
    ratio, bound = _ratio_of_medians(oracle, run)
    return {
        "per_student": float(np.median(per)) if per.size else float("nan"),
        "of_medians": ratio,
        "of_medians_bound": bound,
    }


def run_world(
    course: CourseGraph,
    world: str,
    seed: int,
    *,
    students: int = 90,
    term: Term = SCHOOL_TERM,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """One world and seed: the pilot, the selected configuration, and every policy."""
    sample = WORLDS[world]
    cohort = sample(course.graph, students, np.random.default_rng(seed))
    pilot = sample(course.graph, students, np.random.default_rng(seed + 100), ease=cohort.ease)
    pilot_run = run_term(
        course, pilot, FixedSequence(course.graph, 4), term, np.random.default_rng(seed + 100),
        log=True,
    )  # fmt: skip
    started = time.perf_counter()
    deployed, configuration = deployed_planner(course, pilot_attempts(pilot_run), term)
    configuration["select_seconds"] = round(time.perf_counter() - started, 2)
    policies: dict[str, Policy] = {
        "fixed_4": FixedSequence(course.graph, 4),
        "plain_bkt": CourseOrderBKT(
            course.graph, replace(course.params, p_forget=0 * course.params.p_forget)
        ),
        "deployed": deployed,
        "oracle": Oracle(course.graph),
    }
    runs: dict[str, RunResult] = {}
    seconds: dict[str, float] = {}
    horizon = capped(term)
    for key, policy in policies.items():
        t = time.perf_counter()

        def tick(day: int, key: str = key) -> None:
            if progress is not None:
                progress(f"{world} seed {seed}: {key}", day, horizon.days + horizon.after_deadline)

        runs[key] = run_term(
            course, cohort, policy, horizon, np.random.default_rng(seed + 1), progress=tick
        )
        seconds[key] = round(time.perf_counter() - t, 1)
    out = {key: {**_figures(run), "simulation_seconds": seconds[key]} for key, run in runs.items()}
    dep, oracle = runs["deployed"], runs["oracle"]
    comparisons = {
        "deployed_vs_fixed_4": _against(dep, runs["fixed_4"]),
        "deployed_vs_plain_bkt": _against(dep, runs["plain_bkt"]),
        "deployed_vs_oracle": _efficiency(dep, oracle),
        "plain_bkt_vs_oracle": _efficiency(runs["plain_bkt"], oracle),
        "fixed_4_vs_oracle": _efficiency(runs["fixed_4"], oracle),
    }
    placement = deployed.questions[deployed.questions > 0]
    return {
        "world": world,
        "seed": seed,
        "configuration": configuration,
        "policies": out,
        "comparisons": comparisons,
        "placement_median_questions": float(np.median(placement)) if placement.size else 0.0,
    }


def acceptance(r: dict[str, Any]) -> dict[str, Any]:
    """The acceptance checks of one world over its seeds (medians over seeds).

    A reduction in attempts counts, per seed, as failing (minus infinity) when the deployed
    planner's median is past the cap, and as its lower bound when the other policy's is; the
    median over seeds of such bounds is a bound of the same kind (``*_bound``)."""

    def over(get: Callable[[dict[str, Any]], float]) -> float:
        values = np.array([get(s) for s in r["seeds"]], dtype=np.float64)
        return float(np.median(values)) if values.size else float("nan")

    def reduction(key: str) -> tuple[float, str]:
        cs = [s["comparisons"][key] for s in r["seeds"]]
        values = [
            c["reduction_of_medians"] if c["reduction_bound"] in ("exact", "at least") else -np.inf
            for c in cs
        ]
        bound = "at least" if any(c["reduction_bound"] != "exact" for c in cs) else "exact"
        return float(np.median(values)), bound

    def efficiency() -> tuple[float, str]:
        cs = [s["comparisons"]["deployed_vs_oracle"] for s in r["seeds"]]
        values = [c["of_medians"] for c in cs]
        bound = "at most" if any(c["of_medians_bound"] != "exact" for c in cs) else "exact"
        return float(np.nanmedian(values)) if np.isfinite(values).any() else float("nan"), bound

    fewer_fixed, fixed_bound = reduction("deployed_vs_fixed_4")
    fewer_plain, plain_bound = reduction("deployed_vs_plain_bkt")
    of_medians, medians_bound = efficiency()
    share_dep = over(lambda s: s["policies"]["deployed"]["share_mastered_by_deadline"])
    share_fixed = over(lambda s: s["policies"]["fixed_4"]["share_mastered_by_deadline"])
    review_dep = over(lambda s: s["policies"]["deployed"]["review_share"])
    review_oracle = over(lambda s: s["policies"]["oracle"]["review_share"])
    return {
        "fewer_attempts_than_fixed_4": fewer_fixed,
        "fewer_attempts_than_fixed_4_bound": fixed_bound,
        "share_mastered_deployed": share_dep,
        "share_mastered_fixed_4": share_fixed,
        "fewer_attempts_than_plain_bkt": fewer_plain,
        "fewer_attempts_than_plain_bkt_bound": plain_bound,
        "review_share_deployed": review_dep,
        "review_share_oracle": review_oracle,
        "efficiency_per_student": over(
            lambda s: s["comparisons"]["deployed_vs_oracle"]["per_student"]
        ),
        "efficiency_of_medians": of_medians,
        "efficiency_of_medians_bound": medians_bound,
        "passes": bool(
            fewer_fixed >= 0.25
            and share_dep >= share_fixed
            and fewer_plain >= 0.15
            and review_dep <= 2 * review_oracle
        ),
    }


def run_worlds_benchmark(
    course: CourseGraph,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    students: int = 90,
    term: Term = SCHOOL_TERM,
    worlds: Sequence[str] = tuple(WORLDS),
    jobs: int = 1,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Every policy on every world and seed (see the module); figures per seed and the
    acceptance checks per world. ``jobs`` runs that many world-seed pairs at once (processes;
    each run is repeatable under its seed either way)."""
    load_start = load_average()
    for world in worlds:
        if world not in WORLDS:
            raise ValueError(f"unknown world {world!r}: use one of {', '.join(WORLDS)}")
    pairs = [(world, seed) for world in worlds for seed in seeds]
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs) as pool:
            futures = [
                pool.submit(run_world, course, w, s, students=students, term=term) for w, s in pairs
            ]
            done = []
            for k, future in enumerate(futures):
                done.append(future.result())
                if progress is not None:
                    progress("world and seed runs", k + 1, len(futures))
    else:
        done = [
            run_world(course, w, s, students=students, term=term, progress=progress)
            for w, s in pairs
        ]
    results: dict[str, Any] = {}
    for world in worlds:
        results[world] = {"seeds": [r for r in done if r["world"] == world]}
        results[world]["acceptance"] = acceptance(results[world])
    return {
        "course": {"key": course.key, "competencies": course.n, "steps": len(course.bank.keys)},
        "setup": {
            "students": students,
            "seeds": list(seeds),
            "school_days": term.days,
            "weekdays": term.weekdays,
            "deadline_day": term.deadline,
            "minutes_per_day": term.minutes_per_day,
            "cap_school_days": capped(term).days + capped(term).after_deadline,
            "pilot_school_days": term.days + term.after_deadline,
            "course_mastered_when_known_share": term.target_share,
            "known_means_retrieval_at_least": KNOWN,
        },
        "worlds": results,
        "machine": {
            **machine_info(),
            "load_average_1_5_15_min_at_start": load_start,
            "load_average_1_5_15_min_at_end": load_average(),
        },
    }


def render_worlds_markdown(r: dict[str, Any]) -> str:
    setup, course = r["setup"], r["course"]
    lines = [
        "# Policy benchmark on two simulated worlds",
        "",
        f"Course `{course['key']}`: {course['competencies']} competencies. {setup['students']} "
        f"students per run, seeds {', '.join(map(str, setup['seeds']))}; "
        f"{setup['school_days']} school days (weekdays {setup['weekdays']}, Monday first) of "
        f"{setup['minutes_per_day']:g} minutes, deadline day {setup['deadline_day']:g}. A student "
        f"has mastered the course when {setup['course_mastered_when_known_share']:.0%} of it is "
        f"known at once (retrieval >= {setup['known_means_retrieval_at_least']}).",
        "",
        f"Attempts to master the course: every student is followed until they master it or "
        f"reach the cap of {setup['cap_school_days']} school days (the same for every policy; "
        f"the share mastered by the deadline is judged at the deadline). The median counts a "
        f"student who has not mastered the course by the cap as never (censored at infinity): "
        f"it is defined only when more than half master within the cap, otherwise shown as "
        f"`>N`, N the median with each such student's attempts up to the cap (a lower bound), "
        f"and a reduction against such a policy is a lower bound (`>=`); a deployed planner "
        f"past the cap fails the comparison. (A median over only the students who mastered the "
        f"course within the horizon would compare each policy's fastest few.) The pilot cohort "
        f"that calibration learns from is taught by the fixed sequence for "
        f"{setup['pilot_school_days']} school days.",
        "",
        render_worlds_summary(r).rstrip("\n"),
    ]
    for world, w in r["worlds"].items():
        lines += [
            "",
            f"## {world}",
            "",
            "| seed | policy | median attempts to master | mastered within cap "
            "| share mastered by deadline | known at end | retention at end | review share "
            "| sim seconds |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for s in w["seeds"]:
            for key in POLICIES:
                p = s["policies"][key]
                lines.append(
                    f"| {s['seed']} | {p['name']} | {_attempts(p)} | "
                    f"{p['share_mastered_within_cap']:.2f} | "
                    f"{p['share_mastered_by_deadline']:.2f} | {p['mean_known_at_end']:.3f} | "
                    f"{p['mean_retention_at_end']:.3f} | {p['review_share']:.3f} | "
                    f"{p['simulation_seconds']:.0f} |"
                )
        lines += ["", "Attempts per student by kind (seed " + str(w["seeds"][0]["seed"]) + "):", ""]
        lines += [
            "| policy | " + " | ".join(ATTEMPT_KINDS) + " |",
            "|---|" + "---|" * len(ATTEMPT_KINDS),
        ]
        for key in POLICIES:
            kinds = w["seeds"][0]["policies"][key]["attempts_per_student_by_kind"]
            lines.append(
                f"| {key} | " + " | ".join(f"{kinds[k]:.0f}" for k in ATTEMPT_KINDS) + " |"
            )
        lines += ["", "Selected configurations (from each seed's pilot cohort):", ""]
        for s in w["seeds"]:
            lines.append(f"- seed {s['seed']}: " + json.dumps(s["configuration"], sort_keys=True))
    lines += ["", "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in r["machine"].items()]
    return "\n".join(lines) + "\n"


def _attempts(p: dict[str, Any]) -> str:
    median = p["median_attempts_to_master"]
    return (
        f"{median:.0f}" if median is not None else f">{p['median_attempts_to_master_at_least']:.0f}"
    )


def _reduction(a: dict[str, Any], key: str) -> str:
    value, bound = a[key], a[f"{key}_bound"]
    if not np.isfinite(value):
        return "fails (past the cap)"
    return (">= " if bound == "at least" else "") + f"{value:.0%}"


def render_worlds_summary(r: dict[str, Any]) -> str:
    """One line per world with the acceptance figures (quoted by ``docs/paths.md``)."""
    lines = [
        "| world | fewer attempts than fixed 4 | share mastered: deployed / fixed 4 "
        "| fewer attempts than plain BKT | review share: deployed / oracle "
        "| efficiency vs oracle: per student / of medians | passes |",
        "|---|---|---|---|---|---|---|",
    ]
    for world, w in r["worlds"].items():
        a = w["acceptance"]
        lines.append(
            f"| {world} | "
            f"{_reduction(a, 'fewer_attempts_than_fixed_4')} | "
            f"{a['share_mastered_deployed']:.2f} / {a['share_mastered_fixed_4']:.2f} | "
            f"{_reduction(a, 'fewer_attempts_than_plain_bkt')} | "
            f"{a['review_share_deployed']:.3f} / {a['review_share_oracle']:.3f} | "
            f"{a['efficiency_per_student']:.2f} / "
            f"{'<= ' if a['efficiency_of_medians_bound'] == 'at most' else ''}"
            f"{a['efficiency_of_medians']:.2f} | "
            f"{'yes' if a['passes'] else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def write_worlds_results(r: dict[str, Any], directory: Path) -> tuple[Path, Path]:
    """Write ``paths-worlds.json`` and ``paths-worlds.md`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / "paths-worlds.json", directory / "paths-worlds.md"
    json_path.write_text(json.dumps(r, indent=2) + "\n")
    md_path.write_text(render_worlds_markdown(r))
    return json_path, md_path
