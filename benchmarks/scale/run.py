"""The scale benchmark: calibration on one process against Ray, and the live path, on a
synthetic district in PostgreSQL (``learnway bench scale``).

    learnway bench scale --students 100000 --attempts-per-student 500 --database URL
    nice -n 19 .venv/bin/python benchmarks/scale/run.py --database URL \
        --shard-attempts 10000000 --ray-workers 1,2

Each fit runs in a fresh process of its own, so its peak memory (ru_maxrss of that process and,
for Ray, of every worker process) is its own. Every fit trains on four fifths of the students
and predicts the rest, so that each Ray run is compared with the single-process fit of the same
run (parameters and held-out AUC). Shards of 10 million attempts: each task reads the whole log
(see :mod:`learnway.store._calibrate_ray`), so fewer shards read less. Writes
benchmarks/results/scale.json and .md: the fits' figures as soon as they are measured, then the
live path's (``--live-only`` measures the live path again and keeps the fits).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SINGLE = """
import json, resource, sys, time
from learnway.learner import auc
from learnway.store import make_engine, transaction
from learnway.store._attempt_arrays import attempt_arrays, bkt_values, fit_bkt
from learnway.store._calibrate_ray import HELD_OUT_EVERY, competency_sizes
engine = make_engine(sys.argv[1]); framework_id = int(sys.argv[2])
t0 = time.perf_counter()
with transaction(engine) as session:
    sizes = competency_sizes(session, framework_id)
    codes = sorted(sizes.index[(sizes["attempts"] >= 100) & (sizes["students"] >= 10)])
    table, codes = attempt_arrays(session, framework_id, codes)
loaded = time.perf_counter() - t0
test = table["student_id"].to_numpy() % HELD_OUT_EVERY == 0
model = fit_bkt(table[~test], range(len(codes)), len(codes), n_restarts=5, random_state=0,
                n_jobs=1)
rows = table[test]
held_out_auc = auc(rows["correct"].to_numpy(bool), model.predict_proba(rows))
values = bkt_values(model)
print(json.dumps({"seconds": time.perf_counter() - t0, "load_seconds": loaded,
    "attempts": len(table), "held_out_attempts": len(rows), "competencies": len(codes),
    "held_out_auc": held_out_auc,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "params": {c: values[model.competency_index_[k]].tolist() for k, c in enumerate(codes)
               if k in model.competency_index_}}))
"""
RAY = """
import json, resource, sys, time
from learnway.learner import auc
from learnway.store import make_engine, transaction
from learnway.store._calibrate_ray import competency_sizes, fit_distributed, shards
engine = make_engine(sys.argv[1]); framework_id = int(sys.argv[2]); workers = int(sys.argv[3])
t0 = time.perf_counter()
with transaction(engine) as session:
    sizes = competency_sizes(session, framework_id)
counted = time.perf_counter() - t0
codes = sorted(sizes.index[(sizes["attempts"] >= 100) & (sizes["students"] >= 10)])
read = [int(sizes.loc[g, "attempts"].sum())
        for g in shards(sizes.loc[codes, "attempts"], shard_attempts=int(sys.argv[4]))]
fit = fit_distributed(engine, framework_id, codes, sizes["attempts"], workers=workers,
                      shard_attempts=int(sys.argv[4]), held_out=True)
y, p = fit.held_out
print(json.dumps({"seconds": time.perf_counter() - t0, "count_seconds": counted,
    "workers": fit.workers, "shards": len(fit.shards),
    "attempts": int(sizes.loc[codes, "attempts"].sum()), "held_out_attempts": len(y),
    "held_out_auc": auc(y, p),
    "driver_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "worker_peak_rss_mb": max(s.peak_rss_mb for s in fit.shards),
    "task_attempts_max": max(read),
    "task_seconds": [round(s.seconds, 2) for s in fit.shards],
    "task_read_seconds": [round(s.read_seconds, 2) for s in fit.shards],
    "shard_attempts": int(sys.argv[4]),
    "params": fit.params}))
"""


def _run(code: str, *args: str, cap_bytes: int | None = None) -> dict[str, Any]:
    """Run a fit in a fresh process; ``cap_bytes`` caps its address space (a fit that would
    need more fails instead of taking the machine down)."""

    def cap() -> None:
        if cap_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (cap_bytes, cap_bytes))

    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          check=False, preexec_fn=cap)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["children_peak_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return result


def _say(name: str, run: dict[str, Any]) -> None:
    """Each fit's figures as soon as it ends (the results files are written at the end)."""
    print(name, json.dumps({k: v for k, v in run.items() if k != "params"}), flush=True)


def largest_section(engine: Any) -> dict[str, int]:
    """The synthetic district's section with the most students (the first of them), with its
    students' stored attempts."""
    from sqlalchemy import func, select

    from learnway.store import transaction
    from learnway.store._schema import Attempt, Enrollment, Section

    with transaction(engine) as session:
        size = func.count().label("students")
        section_id, students = session.execute(
            select(Enrollment.section_id, size)
            .join(Section, Section.id == Enrollment.section_id)
            .where(Section.sourced_id.like("syn-section-%"), Enrollment.role == "student")
            .group_by(Enrollment.section_id)
            .order_by(size.desc(), Enrollment.section_id)
            .limit(1)
        ).one()
        members = select(Enrollment.user_id).where(
            Enrollment.section_id == section_id, Enrollment.role == "student"
        )
        attempts = session.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.student_id.in_(members))
        )
    return {"section_id": section_id, "students": students, "attempts": attempts or 0}


def live_path(url: str, *, answers: int = 200) -> dict[str, Any]:
    """One answer stored with mastery updated (``record_practice``) for synthetic students with
    a year of history, p50 and p99; the teacher's four pages of the district's largest section
    (server time, as ``learnway bench live --part section`` measures them); and the leader's
    reports over the district."""
    import datetime as dt

    from sqlalchemy import select

    from learnway._livebench import PAGE_TARGET_MS, district, page_times, school
    from learnway._machine import load_average
    from learnway.store import make_engine, record_practice, transaction
    from learnway.store._attempts import AttemptIn
    from learnway.store._schema import StepAlignment, User

    engine = make_engine(url)
    where = school(engine)
    load = load_average()
    with transaction(engine) as session:
        students = session.scalars(
            select(User.id).where(User.sourced_id.like("syn-%")).order_by(User.id).limit(50)
        ).all()
        steps = session.scalars(select(StepAlignment.step_id).distinct().limit(40)).all()
    times = []
    now = dt.datetime.now(dt.UTC)
    for n in range(answers):
        attempt = AttemptIn(id=f"scale-live-{now.timestamp()}-{n}",
                            student_id=students[n % len(students)], step_id=steps[n % len(steps)],
                            correct=n % 3 != 0, timestamp=now + dt.timedelta(seconds=n),
                            source="simulation")  # fmt: skip
        t0 = time.perf_counter()
        with transaction(engine) as session:
            record_practice(session, where.course, where.framework_id, [attempt], live=where.live)
        times.append((time.perf_counter() - t0) * 1000)
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    answer = {"answers": answers, "p50_ms": round(statistics.median(ordered), 2),
              "p99_ms": round(p99, 2)}  # fmt: skip
    section = largest_section(engine)
    pages = {
        **section,
        "target_ms": PAGE_TARGET_MS,
        "pages": page_times(engine, section["section_id"]),
    }
    return {"answer": answer, "section_pages": pages, "leader_reports": district(engine),
            "load_average": load}  # fmt: skip


def compare(single: dict[str, Any], run: dict[str, Any]) -> dict[str, Any]:
    """How far a Ray fit is from the single-process fit of the same run: the largest
    difference of any parameter of any competency, the competencies the single process fitted
    that the Ray fit lacks, and the difference of their held-out AUCs (``None`` when the
    single-process figures come from an earlier run, without parameters)."""
    if "params" not in single:
        return {"max_parameter_difference": None, "competencies_missing": None,
                "auc_difference": None}  # fmt: skip
    ours, theirs = single["params"], run["params"]
    diffs = [max(abs(a - b) for a, b in zip(ours[c], theirs[c], strict=True))
             for c in ours if c in theirs]  # fmt: skip
    return {
        "max_parameter_difference": max(diffs) if diffs else None,
        "competencies_missing": len(set(ours) - set(theirs)),
        "auc_difference": abs(run["held_out_auc"] - single["held_out_auc"]),
    }


def _size(engine: Any) -> dict[str, int]:
    from sqlalchemy import func, select

    from learnway.store import transaction
    from learnway.store._schema import Attempt, User

    with transaction(engine) as session:
        return {
            "students": session.scalar(select(func.count()).where(User.role == "student")) or 0,
            "attempts": session.scalar(select(func.count()).select_from(Attempt)) or 0,
        }


def extrapolate(ray: dict[int, dict[str, Any]], attempts: int) -> dict[str, Any]:
    """Time(N, W) = count * N / N0 + start + (N / S) * (N / scan + S / fit) / W.

    The fit decomposes by competency, so tasks are independent, but each task finds its
    competencies' attempts by reading the whole log (a competency's attempts are spread over
    every page of every month, so the database scans them all): a task's read time grows with
    the log ``N``, its fit time with its shard ``S``, and there are ``N / S`` tasks. From the
    run with the fewest workers (``N0`` attempts): ``scan`` is the log's rows a task reads per
    second, ``fit`` the shard's rows it fits per second (its own time less its read), ``count``
    the time for the database to count each competency's attempts and students before the
    tasks are planned (a scan of the log on the one database server, so linear in N), ``start``
    the rest (cluster start, planning, collecting), constant. The scaling to more workers
    assumes a core per worker and that the database serves every worker's scan at the
    measured speed, as a cluster of read replicas would. With two workers on a machine whose
    cores are already busy, tasks slow down instead of overlapping:
    ``two_worker_task_slowdown`` says by how much (when both runs were made). Results of
    earlier runs without the tasks' read times get the linear model N / (W * rate)."""
    least = min(ray)
    base = ray[least]
    busy = sum(base["task_seconds"])
    measured = base.get("count_seconds")  # not measured apart by earlier runs
    count = measured or 0.0
    start = max(0.0, base["seconds"] - count - busy / least)
    slowdown = None
    if 1 in ray and 2 in ray:
        slowdown = round(
            (sum(ray[2]["task_seconds"]) / len(ray[2]["task_seconds"]))
            / (sum(ray[1]["task_seconds"]) / len(ray[1]["task_seconds"])),
            2,
        )
    target, workers = 500_000_000, 32
    out: dict[str, Any] = {
        "measured_with_workers": least,
        "rate_attempts_per_s_per_worker": round(attempts / max(1e-9, busy)),
        "count_s": None if measured is None else round(count, 1),
        "start_s": round(start, 1),
        "two_worker_task_slowdown": slowdown,
        "target_attempts": target,
        "target_workers": workers,
        "predicted_count_s": round(count * target / attempts),
        "predicted_worker_peak_rss_mb": max(r["worker_peak_rss_mb"] for r in ray.values()),
    }
    reads = base.get("task_read_seconds")
    if not reads:
        out["model"] = ("T(N, W) = count * N / N0 + start + N / (W * rate), a core per worker; "
                        "memory per worker bounded by the shard size")  # fmt: skip
        rate = attempts / max(1e-9, busy)
        out["predicted_seconds"] = round(
            count * target / attempts + start + target / (workers * rate)
        )
        return out
    shard = base["shard_attempts"]
    scan = attempts / (sum(reads) / len(reads))
    fit = attempts / max(1e-9, busy - sum(reads))

    def seconds(n: float, s: float) -> float:
        return count * n / attempts + start + (n / s) * (n / scan + s / fit) / workers

    out.update({
        "model": "T(N, W) = count * N / N0 + start + (N / S) * (N / scan + S / fit) / W: "
        "N / S tasks of S attempts, each reading the whole log (a competency's attempts lie on "
        "every page) and fitting its shard, shared by W workers (a core each, and the "
        "database's read capacity for each); the database's count grows with the log; memory "
        "per worker bounded by the shard size",
        "shard_attempts": shard,
        "scan_rows_per_s_per_task": round(scan),
        "fit_attempts_per_s_per_worker": round(fit),
        "predicted_seconds": round(seconds(target, shard)),
        "predicted_tasks": -(-target // shard),
        "predicted_read_share": round((target / scan) / (target / scan + shard / fit), 3),
        "one_shard_per_worker": {
            "shard_attempts": -(-target // workers),
            "predicted_seconds": round(seconds(target, target / workers)),
        },
    })  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--database", help="PostgreSQL URL of a database filled by learnway bench scale"
    )
    parser.add_argument("--shard-attempts", type=int, default=2_000_000)  # calibrate's
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    parser.add_argument("--ray-workers", type=lambda v: [int(x) for x in v.split(",")],
                        default=[1, 2], help="the Ray runs, by workers (e.g. 1,2)")  # fmt: skip
    parser.add_argument("--single-from", type=Path,
                        help="take the single-process figures from an earlier run's output "
                        "instead of fitting again (its parameters are not compared)")  # fmt: skip
    parser.add_argument("--cap-gib", type=int, default=8,
                        help="address-space cap of the single-process fit")  # fmt: skip
    parser.add_argument("--fits-only", action="store_true",
                        help="measure the fits again, keep the live path's figures")  # fmt: skip
    parser.add_argument("--live-only", action="store_true",
                        help="measure the live path again, keep the fits")  # fmt: skip
    parser.add_argument("--render-only", action="store_true",
                        help="recompute the extrapolation and the .md from scale.json")  # fmt: skip
    args = parser.parse_args()
    if args.render_only or args.live_only:  # the fits kept, their extrapolation recomputed
        if args.live_only and not args.database:
            parser.error("--database is required (unless --render-only)")
        stored = json.loads((args.out / "scale.json").read_text())
        f = stored["fit"]
        ray = {int(k[4:]): v for k, v in f.items() if k.startswith("ray_")}
        stored["extrapolation"] = extrapolate(ray, f["single"]["attempts"])
        if args.live_only:
            from learnway.store import make_engine
            from learnway.store._scale import list_partitions

            engine = make_engine(args.database)
            stored["database"]["attempt_partitions"] = len(
                [p for p in list_partitions(engine) if p.table == "attempts" and p.rows > 0]
            )
            stored["live"] = live_path(engine.url.render_as_string(hide_password=False))
            stored["live"]["database"] = _size(engine)
            print(render(stored))
        _write(args.out, stored)
        return
    if not args.database:
        parser.error("--database is required (unless --render-only)")
    if args.fits_only and not (args.out / "scale.json").exists():
        parser.error(f"--fits-only keeps the live path of {args.out / 'scale.json'}: missing")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from sqlalchemy import func, select

    from learnway._machine import load_average, machine_info
    from learnway.store import make_engine, transaction
    from learnway.store._scale import list_partitions
    from learnway.store._schema import Attempt, ItemRow, User

    engine = make_engine(args.database)
    with transaction(engine) as session:
        framework_id = session.scalars(select(ItemRow.framework_id)).first()
        attempts = session.scalar(select(func.count()).select_from(Attempt)) or 0
        students = session.scalar(select(func.count()).where(User.role == "student")) or 0
    parts = [p for p in list_partitions(engine) if p.table == "attempts" and p.rows > 0]
    result: dict[str, Any] = {
        "machine": machine_info(),
        "load_average": load_average(),
        "database": {
            "students": students,
            "attempts": attempts,
            "attempt_partitions": len(parts),
        },
    }
    print(f"{attempts:,} attempts, {students:,} students", flush=True)
    url = engine.url.render_as_string(hide_password=False)
    if args.single_from:  # the line an earlier run of this benchmark printed (no parameters)
        line = next(x for x in args.single_from.read_text().splitlines()
                    if x.startswith("single process "))  # fmt: skip
        single = json.loads(line.removeprefix("single process "))
        single["earlier_run"] = True
    else:
        single = _run(SINGLE, url, str(framework_id), cap_bytes=args.cap_gib << 30)
        _say("single process", single)
    ray = {}
    for workers in args.ray_workers:
        ray[workers] = _run(RAY, url, str(framework_id), str(workers), str(args.shard_attempts))
        _say(f"ray {workers}", ray[workers])
    for run in ray.values():
        run.update(compare(single, run))
    for run in (single, *ray.values()):
        run.pop("params", None)
    result["fit"] = {"single": single, **{f"ray_{w}": r for w, r in ray.items()}}
    result["extrapolation"] = extrapolate(ray, single["attempts"])
    args.out.mkdir(parents=True, exist_ok=True)
    stored = args.out / "scale.json"
    if stored.exists():  # the fits are kept even if measuring the live path fails below
        result["live"] = json.loads(stored.read_text())["live"]
        _write(args.out, result)
    if not args.fits_only:
        result["live"] = live_path(url)
        result["live"]["database"] = _size(engine)
        _write(args.out, result)
    print(render(result))


def _write(out: Path, result: dict[str, Any]) -> None:
    (out / "scale.json").write_text(json.dumps(result, indent=2, default=str) + "\n")
    (out / "scale.md").write_text(render(result))


def _num(value: float | None, spec: str) -> str:
    return "not measured" if value is None else format(value, spec)


def _workers(n: int) -> str:
    return f"{n} worker{'s' if n > 1 else ''}"


def render(r: dict[str, Any]) -> str:
    f, e, d, live = r["fit"], r["extrapolation"], r["database"], r["live"]
    m = r["machine"]
    single = f["single"]
    rows = [("one process", single["seconds"], single["peak_rss_mb"], "",
             _num(single.get("held_out_auc"), ".4f"), "")]  # fmt: skip
    workers = sorted(int(k[4:]) for k in f if k.startswith("ray_"))
    for w in workers:
        x = f[f"ray_{w}"]
        rows.append((f"Ray, {_workers(w)}", x["seconds"],
                     x["driver_peak_rss_mb"],
                     f"{x['worker_peak_rss_mb']:.0f} MiB ({x['shards']} tasks of at most "
                     f"{x['task_attempts_max']:,} attempts)",
                     _num(x.get("held_out_auc"), ".4f"),
                     _num(x.get("max_parameter_difference", f.get("max_parameter_difference")),
                          ".2e")))  # fmt: skip
    if "held_out_auc" in single:
        held = (f"Every fit is trained on the students whose id is not a multiple of 5 and "
                f"predicts the {single['held_out_attempts']:,} attempt rows of the others "
                "(held-out AUC); the single-process fit prints its parameters in the same run, "
                "and each Ray fit is compared with it. A Ray run's driver gathers every "
                "held-out prediction and computes their AUC, part of its peak memory that "
                "`learnway calibrate --engine ray` does not have.")  # fmt: skip
    else:
        held = ("Parameters not compared in this run: the single-process figures are those of "
                "an earlier run of this benchmark on the same database, which printed no "
                "parameters.")  # fmt: skip
    gaps = [
        f"Ray with {_workers(w)}: largest parameter difference "
        f"{_num(f[f'ray_{w}'].get('max_parameter_difference'), '.2e')}, held-out AUC difference "
        f"{_num(f[f'ray_{w}'].get('auc_difference'), '.2e')}, competencies missing "
        f"{f[f'ray_{w}'].get('competencies_missing', 'not counted')}."
        for w in workers
        if "held_out_auc" in single
    ]
    if e.get("two_worker_task_slowdown") is not None:
        both = (f"; with 2 workers on these 2 shared cores each task took "
                f"{e['two_worker_task_slowdown']} times as long, and the whole fit "
                f"{f['ray_2']['seconds']:.0f} s against {f['ray_1']['seconds']:.0f} s with "
                "one")  # fmt: skip
    else:
        both = ""
    lines = [
        "# Scale: calibration and the live path on a synthetic district (PostgreSQL)", "",
        f"Machine: {m.get('cpu', '')} ({m.get('cpus', '')} cores), load average at start "
        f"{r['load_average']}. Database: {d['students']:,} students, "
        f"{d['attempts']:,} attempts in {d['attempt_partitions']} non-empty partitions "
        "(`learnway bench scale`).", "",
        "## BKT with forgetting, every competency with enough evidence", "",
        f"{single['attempts']:,} attempt rows (one per aligned competency) of "
        f"{single.get('competencies', '?')} competencies; attempts read as compact arrays.", "",
        "| engine | seconds | peak memory of the fitting process (MiB) "
        "| peak memory per Ray worker | held-out AUC | largest parameter difference from "
        "one process |",
        "|---|---:|---:|---|---:|---:|",
        *[f"| {a} | {b:.0f} | {c:.0f} | {x} | {auc} | {diff} |"
          for a, b, c, x, auc, diff in rows], "",
        held, "", *[f"- {g}" for g in gaps], *([""] if gaps else []),
        "## Extrapolation", "",
        *_render_extrapolation(e, both), "",
        *_render_live(live),
    ]  # fmt: skip
    return "\n".join(lines)


def _render_extrapolation(e: dict[str, Any], both: str) -> list[str]:
    if e.get("count_s") is not None:
        parts = (f"{e['count_s']} s for the database's count of each competency's attempts "
                 f"(about {e['predicted_count_s']:,} s at the target), {e['start_s']} s to "
                 "start")  # fmt: skip
    else:
        parts = f"{e.get('overhead_s', e.get('start_s'))} s overhead (the count included)"
    measured = f"Model: {e['model']}. Measured with {_workers(e.get('measured_with_workers', 1))}: "
    if "scan_rows_per_s_per_task" not in e:
        return [
            f"{measured}{e['rate_attempts_per_s_per_worker']:,} attempts a second per worker "
            f"(its tasks' own time), {parts}{both}. {e['target_attempts']:,} attempts on "
            f"{e['target_workers']} workers: about {e['predicted_seconds']:,} s, each worker "
            f"holding about {e['predicted_worker_peak_rss_mb']:.0f} MiB (a shard, whatever the "
            "total)."
        ]
    one = e["one_shard_per_worker"]
    return [
        f"{measured}a task reads {e['scan_rows_per_s_per_task']:,} rows of the log a second and "
        f"fits {e['fit_attempts_per_s_per_worker']:,} attempts a second; {parts}{both}.", "",
        f"{e['target_attempts']:,} attempts on {e['target_workers']} workers, in "
        f"{e['predicted_tasks']:,} shards of {e['shard_attempts']:,} attempts: about "
        f"{e['predicted_seconds']:,} s, each worker holding about "
        f"{e['predicted_worker_peak_rss_mb']:.0f} MiB (a shard, whatever the total). With one "
        f"shard per worker ({one['shard_attempts']:,} attempts, each worker's memory growing "
        f"in proportion): about {one['predicted_seconds']:,} s. Every task reading the whole "
        "log is what grows faster than the log: at the target a task spends "
        f"{e['predicted_read_share']:.0%} of its time reading, the database must serve one "
        f"scan per worker at once, and its count before the tasks takes about "
        f"{e['predicted_count_s']:,} s of the total.",
    ]  # fmt: skip


def _render_live(live: dict[str, Any]) -> list[str]:
    lines = [
        "## The live path on the partitioned database", "",
        f"Measured on {live['database']['students']:,} students and "
        f"{live['database']['attempts']:,} attempts (the fits above ran on the database as it "
        f"was then), load average at start {live.get('load_average', 'not recorded')}.", "",
        f"One answer stored with mastery updated (`record_practice`, {live['answer']['answers']} "
        f"answers of synthetic students with a year of history): p50 "
        f"{live['answer']['p50_ms']} ms, p99 {live['answer']['p99_ms']} ms.", "",
    ]  # fmt: skip
    section = live.get("section_pages")
    if section:
        lines += [
            f"The teacher's pages of the district's largest section ({section['students']} "
            f"students, {section['attempts']:,} attempts), server time through the functions "
            "the routes call (as `learnway bench live --part section`), target under "
            f"{section['target_ms']:.0f} ms:", "",
            "| teacher page | median ms | max ms |", "|---|---:|---:|",
            *[f"| {k} | {v['median_ms']} | {v['max_ms']} |"
              for k, v in section["pages"].items()], "",
        ]  # fmt: skip
    else:
        lines += ["The teacher's pages were not measured in this run.", ""]
    lines += [
        "| leader report | median ms | max ms |", "|---|---:|---:|",
        *[f"| {k} | {v['median_ms']} | {v['max_ms']} |"
          for k, v in live["leader_reports"].items() if isinstance(v, dict)],
        "",
    ]  # fmt: skip
    return lines


if __name__ == "__main__":
    main()
