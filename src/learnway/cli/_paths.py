"""``learnway simulate`` and ``learnway bench paths``: simulator and policy benchmark."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from learnway.cli._app import app, bench_app

if TYPE_CHECKING:
    from learnway.paths import CourseGraph

console = Console()
DEFAULT_CONTENT = Path("../shared/content/oatutor-elementary-algebra.tar.gz")
DEFAULT_CCSSM = Path("../shared/frameworks/ccssm")

ContentOption = Annotated[Path, typer.Option(help="OATutor course archive or folder")]
FrameworkOption = Annotated[
    Path | None,
    typer.Option(help="simulate on the CCSS math framework in this folder instead of a course"),
]


def _load(content: Path, framework: Path | None) -> CourseGraph:
    from learnway.paths import CourseGraph

    if framework is not None:
        from learnway.frameworks import read_ccssm

        return CourseGraph.from_framework(read_ccssm(framework))
    from learnway.content import read_oatutor

    return CourseGraph.from_course(read_oatutor(content))


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


@app.command("simulate")
def simulate(
    content: ContentOption = DEFAULT_CONTENT,
    framework: FrameworkOption = None,
    policy: Annotated[str, typer.Option(help="planner, fixed, oracle")] = "planner",
    sections: Annotated[int, typer.Option(min=1)] = 3,
    section_size: Annotated[int, typer.Option(min=1)] = 30,
    days: Annotated[int, typer.Option(min=1)] = 90,
    minutes_per_day: Annotated[float, typer.Option(min=1)] = 40.0,
    seed: int = 0,
    attempts_csv: Annotated[Path | None, typer.Option(help="write every attempt here")] = None,
) -> None:
    """Run the classroom simulator alone with one policy and print its outcomes."""
    import numpy as np

    from learnway.paths import Placement, Planner
    from learnway.sim import FixedSequence, Oracle, PlannerPolicy, Term, run_term, sample_students

    course = _load(content, framework)
    n = sections * section_size
    students = sample_students(course.graph, n, np.random.default_rng(seed))
    chosen: FixedSequence | Oracle | PlannerPolicy
    if policy == "fixed":
        chosen = FixedSequence(course.graph)
    elif policy == "oracle":
        chosen = Oracle(course.graph)
    elif policy == "planner":
        planner = Planner(course.graph, course.bank, course.params, policy=course.policy())
        chosen = PlannerPolicy(
            planner, placement=Placement(course.graph, course.params), deadline=float(days)
        )
    else:
        raise typer.BadParameter("policy must be planner, fixed or oracle")
    term = Term(days=days, minutes_per_day=minutes_per_day)
    with _bar() as bar:
        task = bar.add_task(f"simulating {n} students ({chosen.name})", total=days)
        result = run_term(
            course,
            students,
            chosen,
            term,
            np.random.default_rng(seed + 1),
            log=attempts_csv is not None,
            progress=lambda day: bar.update(task, completed=day),
        )
    table = Table(title=f"{course.key}: {course.n} competencies, {n} students, {days} days")
    table.add_column("measure")
    table.add_column("value", justify="right")
    finite = result.attempts_to_master[np.isfinite(result.attempts_to_master)]
    table.add_row("attempts per student", f"{result.attempts.mean():.0f}")
    median = f"{np.median(finite):.0f}" if finite.size else "-"
    table.add_row("median attempts to master the course", median)
    table.add_row("share who mastered the course", f"{result.mastered.mean():.2f}")
    table.add_row("known at the end (mean share)", f"{result.known_end.mean():.3f}")
    table.add_row("retention at the end", f"{result.retention.mean():.3f}")
    console.print(table)
    if attempts_csv is not None and result.attempt_log is not None:
        result.attempt_log.to_csv(attempts_csv, index=False)
        console.print(f"{len(result.attempt_log)} attempts written to {attempts_csv}")


@bench_app.command("paths")
def bench_paths(
    content: ContentOption = DEFAULT_CONTENT,
    out_dir: Annotated[Path, typer.Option(help="where the results files go")] = Path(
        "benchmarks/results"
    ),
    students: Annotated[int, typer.Option(min=3)] = 90,
    seeds: Annotated[int, typer.Option(min=1, help="seeds 0, 1, ... per world")] = 3,
    world: Annotated[
        list[str] | None, typer.Option(help="logistic, knowledge_space (default: both)")
    ] = None,
    jobs: Annotated[int, typer.Option(min=1, help="world-seed runs at once")] = 1,
    diagnostics: Annotated[
        bool,
        typer.Option(help="the single-world benchmark with its diagnostic runs instead"),
    ] = False,
    seed: Annotated[int, typer.Option(help="the seed of the diagnostic benchmark")] = 0,
) -> None:
    """Every policy (fixed sequence, plain BKT in course order, the deployed planner, oracle)
    on two simulated worlds side by side, several seeds each: paths-worlds.json and .md.
    With --diagnostics, the logistic world alone with the diagnostic runs: paths.json and .md."""
    course = _load(content, None)
    with _bar() as bar:
        tasks: dict[str, TaskID] = {}

        def progress(key: str, day: int, total: int) -> None:
            if key not in tasks:
                tasks[key] = bar.add_task(key, total=total)
            bar.update(tasks[key], completed=day)

        if diagnostics:
            from learnway.sim import Term, run_policy_benchmark, write_results

            results = run_policy_benchmark(
                course, term=Term(days=90, minutes_per_day=40.0), seed=seed, progress=progress
            )
            json_path, md_path = write_results(results, out_dir)
        else:
            from learnway.sim import WORLDS, run_worlds_benchmark, write_worlds_results

            chosen = world or list(WORLDS)
            unknown = [w for w in chosen if w not in WORLDS]
            if unknown:
                raise typer.BadParameter(f"unknown world(s) {unknown}: use {', '.join(WORLDS)}")
            results = run_worlds_benchmark(
                course,
                seeds=tuple(range(seeds)),
                students=students,
                worlds=chosen,
                jobs=jobs,
                progress=progress,
            )
            json_path, md_path = write_worlds_results(results, out_dir)
    console.print(md_path.read_text(), markup=False, highlight=False)
    console.print(f"Results written to {json_path} and {md_path}.")
