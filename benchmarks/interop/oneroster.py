"""Import time of a district-sized OneRoster 1.2 bulk bundle (default: 100,000 students).

Writes a synthetic district (schools, terms, courses, classes, students with a guardian and
demographics each, teachers, administrators; every student in five classes) as a bundle folder,
then times reading it, importing it into an empty database, and importing it again (nothing
changes). SQLite always; PostgreSQL too with ``--postgres URL`` (a database that is emptied).
Writes results/oneroster.json and .md.

    python benchmarks/interop/oneroster.py [--students 100000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import csv
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from learnway.interop import read_oneroster
from learnway.interop._oneroster import COLUMNS
from learnway.store import make_engine, save_roster, transaction, upgrade
from machine import machine, write

SCHOOLS = 20
CLASSES_PER_STUDENT = 5
STUDENTS_PER_CLASS = 25


def district(folder: Path, students: int, seed: int = 3) -> dict[str, int]:
    """Write the bundle; return how many rows each file holds."""
    rng = np.random.default_rng(seed)
    teachers = max(students // 25, 1)
    classes = max(students * CLASSES_PER_STUDENT // STUDENTS_PER_CLASS, 1)
    schools = [f"sch-{n}" for n in range(SCHOOLS)]
    tables: dict[str, list[dict[str, str]]] = {
        "orgs": [{"sourcedId": "dist", "name": "Bench District", "type": "district"}]
        + [{"sourcedId": s, "name": f"School {s}", "type": "school", "parentSourcedId": "dist"}
           for s in schools],
        "academicSessions": [
            {"sourcedId": "y", "title": "2026-27", "type": "schoolYear",
             "startDate": "2026-08-17", "endDate": "2027-06-11", "schoolYear": "2027"},
            {"sourcedId": "t1", "title": "Fall", "type": "term", "startDate": "2026-08-17",
             "endDate": "2026-12-18", "parentSourcedId": "y", "schoolYear": "2027"},
        ],
        "courses": [{"sourcedId": f"crs-{s}-{k}", "title": f"Course {k}", "orgSourcedId": s}
                    for s in schools for k in range(10)],
    }  # fmt: skip
    class_school = rng.integers(0, SCHOOLS, classes)
    tables["classes"] = [
        {"sourcedId": f"cls-{c}", "title": f"Class {c}", "classType": "scheduled",
         "courseSourcedId": f"crs-{schools[s]}-{c % 10}", "schoolSourcedId": schools[s],
         "termSourcedIds": "t1"}
        for c, s in enumerate(class_school)
    ]  # fmt: skip
    users, roles, enrollments, demographics = [], [], [], []

    def person(sid: str, role: str, org: str, agents: str = "") -> None:
        users.append(
            {
                "sourcedId": sid,
                "status": "active",
                "enabledUser": "true",
                "username": sid,
                "givenName": "Given",
                "familyName": sid.title(),
                "agentSourcedIds": agents,
                "grades": "07",
                "primaryOrgSourcedId": org,
            }
        )
        roles.append({"sourcedId": f"r-{sid}", "userSourcedId": sid, "roleType": "primary",
                      "role": role, "orgSourcedId": org})  # fmt: skip

    for t in range(teachers):
        person(f"tch-{t}", "teacher", schools[t % SCHOOLS])
    for c in range(classes):
        enrollments.append(
            {
                "sourcedId": f"e-t-{c}",
                "classSourcedId": f"cls-{c}",
                "schoolSourcedId": schools[class_school[c]],
                "userSourcedId": f"tch-{c % teachers}",
                "role": "teacher",
            }
        )
    for n in range(students):
        school = schools[n % SCHOOLS]
        person(f"stu-{n}", "student", school, agents=f"par-{n}")
        person(f"par-{n}", "parent", school, agents=f"stu-{n}")
        demographics.append(
            {
                "sourcedId": f"stu-{n}",
                "birthDate": "2013-05-02",
                "sex": "female" if n % 2 else "male",
                "hispanicOrLatinoEthnicity": "true" if n % 3 == 0 else "false",
            }
        )
        for c in rng.choice(classes, CLASSES_PER_STUDENT, replace=False):
            enrollments.append({"sourcedId": f"e-{n}-{c}", "classSourcedId": f"cls-{c}",
                                "schoolSourcedId": schools[class_school[c]],
                                "userSourcedId": f"stu-{n}", "role": "student"})  # fmt: skip
    for k, school in enumerate(schools):
        person(f"adm-{k}", "principal", school)
    tables.update(users=users, roles=roles, enrollments=enrollments, demographics=demographics)

    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "manifest.csv").open("w", newline="") as out:
        rows = [("manifest.version", "1.0"), ("oneroster.version", "1.2")]
        rows += [
            (f"file.{name}", "bulk" if name in tables else "absent") for name in COLUMNS["1.2"]
        ]
        csv.writer(out).writerows([("propertyName", "value"), *rows])
    for name, rows_of in tables.items():
        columns = COLUMNS["1.2"][name]
        with (folder / f"{name}.csv").open("w", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=columns)
            writer.writeheader()
            writer.writerows({c: row.get(c, "") for c in columns} for row in rows_of)
    return {name: len(rows_of) for name, rows_of in tables.items()}


def _timed(work: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    out = work()
    return out, time.perf_counter() - started


def run(students: int, postgres: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        bundle = Path(tmp) / "bundle"
        counts = district(bundle, students)
        roster, read_s = _timed(lambda: read_oneroster(bundle))
        backends = {"sqlite": f"sqlite:///{tmp}/bench.db"}
        if postgres:
            backends["postgresql"] = postgres
        timings: dict[str, dict[str, float]] = {}
        for backend, url in backends.items():
            engine = make_engine(url)
            if backend == "postgresql":
                with engine.begin() as connection:
                    connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            upgrade(engine)

            def load(engine: Any = engine) -> Any:
                with transaction(engine) as session:
                    return save_roster(session, roster)

            first, first_s = _timed(load)
            again, again_s = _timed(load)
            assert again.changed == 0, "importing the same bundle again changed rows"
            timings[backend] = {
                "import_s": round(first_s, 2),
                "rows_written": first.changed,
                "import_again_s": round(again_s, 2),
            }
            engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "students": students,
        "rows_per_file": counts,
        "read_s": round(read_s, 2),
        "backends": timings,
        "peak_memory_mb": round(peak_mb),
        "machine": machine(("sqlalchemy", "psycopg")),
    }


def markdown(r: dict[str, Any]) -> str:
    files = ", ".join(f"{name} {n:,}" for name, n in r["rows_per_file"].items())
    lines = [
        "# OneRoster import: a district-sized bulk bundle",
        "",
        f"Synthetic OneRoster 1.2 bulk bundle, {r['students']:,} students ({files} rows). "
        "Times are wall-clock seconds in one process; the second import finds every row "
        "unchanged.",
        "",
        f"Reading and validating the bundle: {r['read_s']:.1f} s.",
        "",
        "| database | import (empty database) | rows written | import again (no change) |",
        "|---|---|---|---|",
    ]
    for backend, t in r["backends"].items():
        lines.append(
            f"| {backend} | {t['import_s']:.1f} s | {t['rows_written']:,} | "
            f"{t['import_again_s']:.1f} s |"
        )
    m = r["machine"]
    lines += [
        "",
        f"Peak memory of the process: {r['peak_memory_mb']:,} MB.",
        "",
        f"Machine: {m.get('cpu')}, {m.get('cpus')} CPUs, {m.get('memory_gib')} GiB, "
        f"{m.get('platform')}, Python {m.get('python')}; "
        f"load average at the end {m.get('load_average')}.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL whose database may be emptied")
    args = parser.parse_args()
    results = run(args.students, args.postgres)
    path = write("oneroster", results, markdown(results))
    print(markdown(results))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
