"""Answers through HTTP, against a bare endpoint on the same database (``learnway bench live
--part http``).

Two servers run side by side on one port range, each with as many worker processes as the
machine has cores: ``learnway serve --workers N`` (the whole answer path: sign-in by bearer
token, access rules, the answer checked in the checker's worker processes, the attempt stored,
the live state updated with its events, the audit record) and :func:`bare_app`, a FastAPI
endpoint that does only the writes an answer must do (insert the attempt, upsert one state
row) on the same database. The same load, ``clients`` concurrent simulated students answering
as fast as they are answered, runs against each in a process of its own (:func:`_load`), one
server at a time, in turns (``ROUNDS``), and afterwards every acknowledged attempt is looked
up: stored once, or counted as lost. The CPU time the server's processes used (not the
database server's) is given per answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel
from sqlalchemy import Engine, func, select, text

BARE_URL_VARIABLE = "LEARNWAY_BARE_DATABASE_URL"
WARM_UP_S = 10.0
"""Each server answers this long before it is measured (its worker processes started, its
caches filled)."""
ROUNDS = 3
"""The measured load runs in this many turns per server, the servers alternating, so that a
drift of the machine's speed during the run (a shared machine's is often 10 to 20%) weighs on
both alike."""


class BareAnswer(BaseModel):
    id: str
    student_id: int
    step_id: int
    competency_id: int
    model_version: int
    correct: bool


# --- the bare endpoint --------------------------------------------------------------------------


def bare_app() -> Any:
    """The peer: one POST that inserts the attempt and upserts one state row, nothing else."""
    from fastapi import FastAPI

    from learnway.store import make_engine

    engine = make_engine(os.environ[BARE_URL_VARIABLE])
    app = FastAPI()
    insert_attempt = text(
        "INSERT INTO attempts (id, student_id, step_id, correct, hints_used, timestamp, source)"
        " VALUES (:id, :student, :step, :correct, 0, :at, 'web')"
        " ON CONFLICT DO NOTHING RETURNING id"
    )
    upsert_state = text(
        "INSERT INTO mastery (student_id, competency_id, model_version, p_mastery, evidence,"
        " evidence_count, no_progress, peak, hint_rate, reviews, mastered_once,"
        " last_evidence_at, status, updated_at)"
        " VALUES (:student, :competency, :version, :p, 1, 1, 0, :p, 0, 0, false, :at,"
        " 'practicing', :at)"
        " ON CONFLICT (student_id, competency_id, model_version) DO UPDATE SET"
        " p_mastery = EXCLUDED.p_mastery, evidence = mastery.evidence + 1,"
        " evidence_count = mastery.evidence_count + 1, last_evidence_at = EXCLUDED.updated_at,"
        " updated_at = EXCLUDED.updated_at"
    )

    @app.post("/attempts")
    def answer(body: BareAnswer) -> dict[str, bool]:
        now = dt.datetime.now(dt.UTC)
        with engine.begin() as connection:
            stored = connection.execute(
                insert_attempt,
                {"id": body.id, "student": body.student_id, "step": body.step_id,
                 "correct": body.correct, "at": now},
            ).first()  # fmt: skip
            connection.execute(
                upsert_state,
                {"student": body.student_id, "competency": body.competency_id,
                 "version": body.model_version, "p": 0.6 if body.correct else 0.4, "at": now},
            )  # fmt: skip
        return {"recorded": stored is not None}

    return app


# --- the load -----------------------------------------------------------------------------------


async def _load(plan: dict[str, Any]) -> dict[str, Any]:
    """Run one load: each client answers its own steps in turn until ``seconds`` have passed."""
    import httpx2 as httpx

    base, seconds, mode = plan["base"], float(plan["seconds"]), plan["mode"]
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    acknowledged: list[str] = []
    limits = httpx.Limits(max_connections=len(plan["clients"]) + 4)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        stop = time.perf_counter() + seconds

        async def student(k: int, who: dict[str, Any]) -> None:
            n = 0
            while time.perf_counter() < stop:
                step = who["steps"][n % len(who["steps"])]
                attempt_id = f"{mode}-{k}-{n}-{plan['run']}"
                right = n % 3 != 0
                if mode == "bare":
                    request = client.post("/attempts", json={
                        "id": attempt_id, "student_id": who["id"], "step_id": step["id"],
                        "competency_id": step["competency"], "model_version": who["version"],
                        "correct": right})  # fmt: skip
                else:
                    request = client.post(
                        f"/api/v1/steps/{step['id']}/attempts",
                        json={"response": step["answer"] if right else "-12345",
                              "attempt_id": attempt_id},
                        headers={"Authorization": f"Bearer {who['token']}"},
                    )  # fmt: skip
                started = time.perf_counter()
                try:
                    status = (await request).status_code
                except httpx.TransportError:  # counted, never acknowledged
                    status = 0
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
                if status in (200, 201):
                    acknowledged.append(attempt_id)
                n += 1

        began = time.perf_counter()
        await asyncio.gather(*(student(k, w) for k, w in enumerate(plan["clients"])))
        elapsed = time.perf_counter() - began
    return {"latencies": latencies, "statuses": statuses, "acknowledged": acknowledged,
            "seconds": elapsed}  # fmt: skip


def _run_load(plan: dict[str, Any], folder: Path) -> dict[str, Any]:
    """The load in a process of its own, so that its work neither slows the server under test
    nor shares its interpreter."""
    path = folder / f"plan-{plan['mode']}.json"
    path.write_text(json.dumps(plan))
    done = subprocess.run(
        [sys.executable, "-m", "learnway._httpbench", str(path)], capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"the load against {plan['base']} failed:\n{done.stderr[-3000:]}")
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout_s: float = 120.0) -> None:
    import httpx2 as httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server on {url} exited with code {process.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    raise RuntimeError(f"the server on {url} did not start in {timeout_s:g} s")


@contextmanager
def _server(
    command: list[str], env: dict[str, str], probe: str, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_for(probe, process)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _cpu_s(root: int) -> float:
    """CPU time (user and system) used so far by process ``root`` and its descendants that
    are alive (the web processes and answer checkers of a server), read from ``/proc``."""
    children: dict[int, list[int]] = {}
    used: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
            used[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += used.get(pid, 0.0)
        todo += children.get(pid, [])
    return total


def _summary(found: dict[str, Any], stored: int) -> dict[str, Any]:
    ms = np.asarray(found["latencies"], dtype=np.float64) * 1000.0
    acknowledged = len(found["acknowledged"])
    return {
        "requests": int(ms.size),
        "acknowledged": acknowledged,
        "answers_per_s": round(acknowledged / found["seconds"], 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 1) if ms.size else None,
        "p99_ms": round(float(np.percentile(ms, 99)), 1) if ms.size else None,
        "statuses": {str(k): v for k, v in sorted(found["statuses"].items())},
        "stored_once": stored,
        "lost": acknowledged - stored,
        "server_cpu_ms_per_answer": round(found["cpu_s"] * 1000.0 / acknowledged, 2)
        if acknowledged
        else None,
    }


def _stored(engine: Engine, ids: list[str], student_ids: list[int]) -> int:
    """How many acknowledged attempts are stored, each id counted once (ids are per student,
    so the web path's stored ids carry the student's namespace: match by suffix)."""
    from learnway.store._schema import Attempt

    wanted = set(ids)
    found = 0
    with engine.connect() as connection:
        for chunk in range(0, len(student_ids), 500):
            rows = connection.execute(
                select(Attempt.id).where(Attempt.student_id.in_(student_ids[chunk : chunk + 500]))
            ).scalars()
            found += sum(1 for i in rows if i in wanted or i.split(":", 1)[-1] in wanted)
    return found


def http_benchmark(
    engine: Engine, *, clients: int = 32, seconds: float = 30.0, workers: int | None = None,
    port: int = 8765,
) -> dict[str, Any]:  # fmt: skip
    """Answers a second through ``learnway serve --workers N`` and through the bare endpoint,
    both running on the same database and loaded in turns (``ROUNDS``, ``seconds`` each in
    all); returns both summaries and their ratio."""
    from learnway._livebench import _new_students, school
    from learnway.store import transaction
    from learnway.store._schema import Attempt, StepRow, User
    from learnway.web._security import issue_token

    workers = workers or os.cpu_count() or 1
    where = school(engine)
    # students of their own each run (a district's database keeps those of earlier runs)
    ids, _ = _new_students(engine, clients, prefix=f"http-{uuid.uuid4().hex[:8]}-")
    answers: dict[int, str] = {}
    with transaction(engine) as session:
        for step_id, given in session.execute(select(StepRow.id, StepRow.answers)):
            if given:
                answers[step_id] = str(given[0])
        tokens = [issue_token(session, user=session.get_one(User, i), kind="api").token
                  for i in ids]  # fmt: skip
        before = session.scalar(select(func.count()).select_from(Attempt))
    steps = [
        {"id": s, "competency": int(where.live.competency_ids[c]), "answer": answers[s]}
        for c in sorted(where.steps_of) for s in where.steps_of[c][:1] if s in answers
    ]  # fmt: skip
    rng = np.random.default_rng(3)
    plan_clients = [
        {"id": sid, "token": token, "version": where.live.version,
         "steps": [steps[j] for j in rng.permutation(len(steps))[:40]]}
        for sid, token in zip(ids, tokens, strict=True)
    ]  # fmt: skip
    url = engine.url.render_as_string(hide_password=False)
    results: dict[str, Any] = {"clients": clients, "seconds": seconds, "workers": workers,
                               "history_attempts": before}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="learnway-http-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "LEARNWAY_SECRET_KEY": "a-secret-key-for-the-http-benchmark-0123456",
               "LEARNWAY_DATA_DIR": tmp, BARE_URL_VARIABLE: url}  # fmt: skip
        learnway_cmd = [sys.executable, "-c", "from learnway.cli import main; main()", "serve",
                        "--host", "127.0.0.1", "--port", str(port), "--database", url,
                        "--workers", str(workers)]  # fmt: skip
        bare_cmd = [sys.executable, "-m", "uvicorn", "learnway._httpbench:bare_app", "--factory",
                    "--host", "127.0.0.1", "--port", str(port + 1), "--workers", str(workers),
                    "--log-level", "warning", "--no-access-log"]  # fmt: skip
        servers = {
            "learnway": (learnway_cmd, f"http://127.0.0.1:{port}", "/login"),
            "bare": (bare_cmd, f"http://127.0.0.1:{port + 1}", "/docs"),
        }
        found: dict[str, list[dict[str, Any]]] = {mode: [] for mode in servers}
        with contextlib.ExitStack() as running:
            processes = {}
            for mode, (command, base, probe) in servers.items():
                log = folder / f"{mode}.log"
                processes[mode] = running.enter_context(_server(command, env, base + probe, log))
                _run_load({"mode": mode, "base": base, "seconds": WARM_UP_S, "run": "warm",
                           "clients": plan_clients}, folder)  # fmt: skip
            for turn in range(ROUNDS):  # in turns: the machine's speed drifts between them
                for mode, (_, base, _) in servers.items():
                    plan = {"mode": mode, "base": base, "seconds": seconds / ROUNDS,
                            "run": f"measured-{turn}", "clients": plan_clients}  # fmt: skip
                    cpu_before = _cpu_s(processes[mode].pid)
                    load = _run_load(plan, folder)
                    found[mode].append({**load, "cpu_s": _cpu_s(processes[mode].pid) - cpu_before})
        for mode, loads in found.items():
            together = {"latencies": [x for f in loads for x in f["latencies"]],
                        "statuses": dict(sum((Counter(f["statuses"]) for f in loads), Counter())),
                        "acknowledged": [x for f in loads for x in f["acknowledged"]],
                        "seconds": sum(f["seconds"] for f in loads),
                        "cpu_s": sum(f["cpu_s"] for f in loads)}  # fmt: skip
            results[mode] = _summary(together, _stored(engine, together["acknowledged"], ids))
    served, bare = results["learnway"]["answers_per_s"], results["bare"]["answers_per_s"]
    results["ratio"] = round(served / bare, 3) if bare else None
    return results


if __name__ == "__main__":
    plan = json.loads(Path(sys.argv[1]).read_text())
    print(json.dumps(asyncio.run(_load(plan))))
