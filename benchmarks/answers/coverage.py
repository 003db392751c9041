"""Answer-checking coverage and speed over the Elementary Algebra course.

Walks every step and scaffold of the course tarball, checks each stored answer against itself
and two perturbed (wrong) versions of each arithmetic answer, and writes
``benchmarks/results/answers.json`` and ``answers.md``.

    .venv/bin/python benchmarks/answers/coverage.py [path/to/course.tar.gz]
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The course reader and perturbations are the ones the test suite uses.
sys.path.insert(0, str(ROOT / "tests" / "content"))

from test_answers_course import (  # noqa: E402
    COURSE,
    StoredAnswer,
    bump_last_number,
    flip_a_sign,
    load_course,
)

from learnway._machine import load_average, machine_info  # noqa: E402
from learnway.content._answers import AnswerParseError, check_answer, parse_answer  # noqa: E402


def _check(item: StoredAnswer, response: str) -> tuple[bool, float]:
    started = time.perf_counter()
    check = check_answer(
        answer_type=item.answer_type,
        problem_type=item.problem_type,
        expected=item.answers,
        response=response,
        choices=item.choices,
    )
    return check.correct, time.perf_counter() - started


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(path: Path) -> dict[str, object]:
    parse_answer.cache_clear()
    started = time.perf_counter()
    steps, scaffolds = load_course(path)
    read_s = time.perf_counter() - started
    items = steps + scaffolds
    unparsed: dict[str, str] = {}
    arithmetic = 0
    right_failures: list[str] = []
    times: list[float] = []
    arithmetic_times: list[float] = []
    slowest = (0.0, "")
    wrong_tried = 0
    wrong_missed: list[str] = []
    for item in items:
        if item.answer_type == "arithmetic" and item.problem_type == "TextBox":
            arithmetic += 1
            for answer in item.answers:
                try:
                    parse_answer(answer)
                except AnswerParseError as exc:
                    unparsed[item.id] = f"{answer!r}: {exc}"
        for answer in item.answers:
            # Padded, so that the response is read afresh as a learner's text would be.
            correct, seconds = _check(item, f" {answer} ")
            times.append(seconds)
            if item.answer_type == "arithmetic":
                arithmetic_times.append(seconds)
            slowest = max(slowest, (seconds, f"{item.id}: {answer}"))
            if not correct:
                right_failures.append(item.id)
        if item.answer_type != "arithmetic" or item.id in unparsed:
            continue
        for perturbed in (bump_last_number(item.answers[0]), flip_a_sign(item.answers[0])):
            if perturbed is None:
                continue
            wrong_tried += 1
            correct, seconds = _check(item, perturbed)
            times.append(seconds)
            arithmetic_times.append(seconds)
            slowest = max(slowest, (seconds, f"{item.id}: {perturbed}"))
            if correct:
                wrong_missed.append(f"{item.id}: {perturbed}")
    total_s = time.perf_counter() - started
    return {
        "course": path.name,
        "steps": len(steps),
        "scaffolds": len(scaffolds),
        "arithmetic_answers": arithmetic,
        "parsed": arithmetic - len(unparsed),
        "unparsed": unparsed,
        "stored_answers_judged_wrong": right_failures,
        "perturbed_answers": wrong_tried,
        "perturbed_judged_wrong": wrong_tried - len(wrong_missed),
        "perturbed_judged_right": wrong_missed,
        "checks": len(times),
        "check_ms_p50": round(1000 * statistics.median(times), 3),
        "check_ms_p99": round(1000 * _percentile(times, 0.99), 3),
        "check_ms_max": round(1000 * max(times), 3),
        "slowest_check": slowest[1],
        "arithmetic_checks": len(arithmetic_times),
        "arithmetic_check_ms_p50": round(1000 * statistics.median(arithmetic_times), 3),
        "arithmetic_check_ms_p99": round(1000 * _percentile(arithmetic_times, 0.99), 3),
        "read_course_s": round(read_s, 2),
        "total_s": round(total_s, 2),
        "machine": {**machine_info(("learnway", "sympy")), "load_average": load_average()},
    }


def to_markdown(r: dict[str, object]) -> str:
    unparsed = r["unparsed"]
    missed = r["perturbed_judged_right"]
    assert isinstance(unparsed, dict) and isinstance(missed, list)
    lines = [
        "# Answer checking over the Elementary Algebra course",
        "",
        f"Course `{r['course']}`: {r['steps']} steps and {r['scaffolds']} scaffolds.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| arithmetic answers | {r['arithmetic_answers']} |",
        f"| read as mathematics | {r['parsed']} |",
        f"| not readable | {len(unparsed)} |",
        f"| stored answers judged wrong against themselves | "
        f"{len(r['stored_answers_judged_wrong'])} |",  # type: ignore[arg-type]
        f"| perturbed answers (number + 1, sign flipped) | {r['perturbed_answers']} |",
        f"| perturbed answers judged wrong | {r['perturbed_judged_wrong']} |",
        f"| checks timed | {r['checks']} |",
        f"| check time, all checks, p50 / p99 / max (ms) | {r['check_ms_p50']} / "
        f"{r['check_ms_p99']} / {r['check_ms_max']} |",
        f"| check time, {r['arithmetic_checks']} arithmetic checks, p50 / p99 (ms) | "
        f"{r['arithmetic_check_ms_p50']} / {r['arithmetic_check_ms_p99']} |",
        f"| slowest check | `{r['slowest_check']}` |",
        f"| whole run (s) | {r['total_s']} |",
        "",
        "Not readable:",
        "",
        *(f"- `{key}`: {value}" for key, value in unparsed.items()),
        "",
        "Perturbed answers judged right (each an equation whose only solution is 0):",
        "",
        *(f"- `{entry}`" for entry in missed),
        "",
        f"Machine: {json.dumps(r['machine'])}",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else COURSE
    result = measure(path)
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "answers.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "answers.md").write_text(to_markdown(result))
    print(to_markdown(result))


if __name__ == "__main__":
    main()
