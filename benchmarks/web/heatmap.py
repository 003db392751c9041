"""Server time of the class heatmap: 150 students x 201 competencies (target: under 200 ms).

Builds the demo school in a temporary SQLite database, adds a class of 150 students whose
mastery rows cover every competency, signs the teacher in and times the JSON twin and the HTML
page in process (the application's own time, no network). Writes results/web.json and .md.

    python benchmarks/web/heatmap.py [--runs 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from learnway.demo import build_demo
from learnway.settings import Settings
from learnway.store import make_engine, transaction
from learnway.store._schema import (
    CompetencyRow,
    Course,
    Enrollment,
    Mastery,
    Org,
    Section,
    User,
)
from learnway.web import DEMO_PASSWORD, create_app, set_demo_passwords
from machine import machine, write

STUDENTS = 150
TARGET_MS = 200.0
STATUSES = np.array(["not_started", "practicing", "mastered", "due_for_review", "stuck"])


def _big_class(engine: object, seed: int = 11) -> int:
    """A class of 150 students with a mastery row for every competency of the course."""
    rng = np.random.default_rng(seed)
    with transaction(engine) as session:  # type: ignore[arg-type]
        school = session.scalar(select(Org).where(Org.sourced_id == "demo-school"))
        course = session.scalar(select(Course).where(Course.sourced_id == "demo-course-algebra"))
        teacher = session.scalar(select(User).where(User.username == "teacher"))
        assert school and course and teacher
        deadline = dt.date.today() + dt.timedelta(days=120)
        section = Section(sourced_id="bench-section", title="Benchmark class",
                          course_id=course.id, school_id=school.id, deadline=deadline)  # fmt: skip
        session.add(section)
        session.flush()
        students = []
        for n in range(STUDENTS):
            user = User(sourced_id=f"bench-{n}", username=f"bench{n:03d}",
                        given_name="Bench", family_name=f"Student {n:03d}", role="student",
                        org_id=school.id)  # fmt: skip
            session.add(user)
            students.append(user)
        session.flush()
        session.execute(insert(Enrollment), [
            {"sourced_id": f"bench-enr-{u.id}", "section_id": section.id, "user_id": u.id,
             "role": "student"} for u in students
        ] + [{"sourced_id": "bench-enr-teacher", "section_id": section.id, "user_id": teacher.id,
              "role": "teacher"}])  # fmt: skip
        competencies = session.scalars(
            select(CompetencyRow.id).where(
                CompetencyRow.framework_id == course.framework_id, CompetencyRow.kind == "skill"
            )
        ).all()
        now = dt.datetime.now(dt.UTC)
        rows = []
        for u in students:
            for c in competencies:
                p, n = float(rng.uniform(0.001, 0.999)), int(rng.integers(1, 12))
                rows.append(
                    {"student_id": u.id, "competency_id": c, "model_version": 0, "p_mastery": p,
                     "evidence": float(n), "evidence_count": n, "no_progress": 0, "peak": p,
                     "hint_rate": 0.0, "reviews": 0, "mastered_once": False,
                     "status": str(rng.choice(STATUSES)),
                     "last_evidence_at": now - dt.timedelta(days=float(rng.random() * 20)),
                     "updated_at": now}
                )  # fmt: skip
        session.execute(insert(Mastery), rows)
        return section.id


def _time(client: TestClient, url: str, runs: int) -> dict[str, float]:
    client.get(url)  # warm: course and catalog caches
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.text[:300]
    return {
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(float(np.percentile(times, 95)), 1),
        "min_ms": round(min(times), 1),
        "bytes": len(response.content),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        build_demo(engine)
        section = _big_class(engine)
        set_demo_passwords(engine)
        app = create_app(engine, settings=Settings(secret_key="benchmark-" + "x" * 32))
        client = TestClient(app)
        token = client.post(
            "/api/v1/tokens", json={"username": "teacher", "password": DEMO_PASSWORD}
        ).json()["token"]
        client.headers["Authorization"] = f"Bearer {token}"
        shape = client.get(f"/api/v1/sections/{section}/heatmap").json()
        cells = (len(shape["rows"]), len(shape["columns"]))
        results = {
            "students": cells[0],
            "competencies": cells[1],
            "runs": args.runs,
            "target_ms": TARGET_MS,
            "backend": "sqlite",
            "json": _time(client, f"/api/v1/sections/{section}/heatmap", args.runs),
            "html": _time(client, f"/sections/{section}/heatmap", args.runs),
            "machine": machine(("fastapi", "sqlalchemy", "jinja2")),
        }
        engine.dispose()
    ok = all(results[k]["median_ms"] < TARGET_MS for k in ("json", "html"))
    lines = [
        "# Web: class heatmap server time",
        "",
        f"Class heatmap of {cells[0]} students x {cells[1]} competencies, timed in process "
        f"({args.runs} runs after one warm-up, SQLite). Target: under {TARGET_MS:.0f} ms.",
        "",
        "| view | median ms | p95 ms | min ms | bytes |",
        "|---|---|---|---|---|",
    ]
    for key in ("json", "html"):
        r = results[key]
        lines.append(f"| {key} | {r['median_ms']} | {r['p95_ms']} | {r['min_ms']} | {r['bytes']} |")
    m = results["machine"]
    lines += ["", f"Target met: {'yes' if ok else 'no'}.", "",
              f"Machine: {m['cpu']}, {m['cpus']} cores, {m['memory_gib']} GiB, "
              f"Python {m['python']}, {m['date']}."]  # fmt: skip
    write("web", results, "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
