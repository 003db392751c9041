"""Durability: every attempt the server acknowledged survives ``kill -9``, stored exactly once.

``learnway serve`` runs in a process of its own on the demo school (SQLite and PostgreSQL,
loopback only). Ten students answer as fast as they can, each attempt with an id of its own;
the server is killed with SIGKILL mid-stream. Every attempt answered 200 must be in the database
once; then the server is started again and every attempt is sent again, as a client that never
heard back would: each one ends stored exactly once, none twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import Engine, func, select

from learnway.store import transaction
from learnway.store._schema import Attempt, StepRow, User
from learnway.web import DEMO_PASSWORD, set_demo_passwords
from web.served import free_port, learnway_serve

pytestmark = pytest.mark.slow

STUDENTS = [f"student{n:02d}" for n in range(1, 11)]
KILL_AFTER = 40
"""Acknowledged attempts before the kill (it comes mid-stream: others are in flight)."""
KILL_BY_S = 90.0


def _steps(engine: Engine) -> list[int]:
    with transaction(engine) as session:
        return list(
            session.scalars(
                select(StepRow.id)
                .where(StepRow.problem_type == "TextBox", StepRow.answer_type == "arithmetic")
                .order_by(StepRow.id)
                .limit(20)
            )
        )


async def _answer_until_killed(
    base: str, steps: list[int], process: subprocess.Popen[bytes]
) -> tuple[dict[str, set[str]], dict[str, list[tuple[int, str]]]]:
    """Each student answers in a loop; SIGKILL after a few seconds. Returns, by student, the
    attempt ids acknowledged and every attempt sent (step, id)."""
    acknowledged: dict[str, set[str]] = {s: set() for s in STUDENTS}
    sent: dict[str, list[tuple[int, str]]] = {s: [] for s in STUDENTS}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        tokens = {}
        for name in STUDENTS:
            answer = await client.post(
                "/api/v1/tokens", json={"username": name, "password": DEMO_PASSWORD}
            )
            assert answer.status_code == 201, answer.text
            tokens[name] = f"Bearer {answer.json()['token']}"
        killed = asyncio.Event()
        statuses: dict[int, int] = {}

        async def student(name: str) -> None:
            n = 0
            while not killed.is_set():
                n += 1
                step, attempt = steps[n % len(steps)], f"durable-{name}-{n:05d}"
                sent[name].append((step, attempt))
                try:
                    answer = await client.post(
                        f"/api/v1/steps/{step}/attempts",
                        json={"response": str(n % 9), "attempt_id": attempt},
                        headers={"Authorization": tokens[name]},
                    )
                except httpx.TransportError:
                    return
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1
                if answer.status_code == 200 and answer.json()["recorded"]:
                    acknowledged[name].add(attempt)

        async def killer() -> None:
            """SIGKILL once enough attempts were acknowledged (or at the deadline)."""
            deadline = time.monotonic() + KILL_BY_S
            while sum(map(len, acknowledged.values())) < KILL_AFTER and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            os.kill(process.pid, signal.SIGKILL)
            killed.set()

        await asyncio.gather(killer(), *(student(s) for s in STUDENTS))
    print(f"\nanswers before the kill, by status: {statuses}")
    return acknowledged, sent


async def _send_again(base: str, sent: dict[str, list[tuple[int, str]]]) -> set[int]:
    statuses = set()
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for name, attempts in sent.items():
            answer = await client.post(
                "/api/v1/tokens", json={"username": name, "password": DEMO_PASSWORD}
            )
            token = f"Bearer {answer.json()['token']}"
            for step, attempt in attempts:
                again = await client.post(
                    f"/api/v1/steps/{step}/attempts",
                    json={"response": str(int(attempt[-5:]) % 9), "attempt_id": attempt},
                    headers={"Authorization": token},
                )
                statuses.add(again.status_code)
    return statuses


def _stored(engine: Engine) -> dict[str, int]:
    """Stored durability attempts: client id -> how many rows hold it."""
    with transaction(engine) as session:
        rows = session.execute(
            select(Attempt.id, func.count())
            .where(Attempt.id.like("%:durable-%"))
            .group_by(Attempt.id)
        ).all()
    return {stored.split(":", 1)[1]: n for stored, n in rows}


def test_acknowledged_attempts_survive_kill_9_exactly_once(
    demo_engine: Engine, tmp_path: Path
) -> None:
    set_demo_passwords(demo_engine)
    steps = _steps(demo_engine)
    port = free_port()
    with learnway_serve(demo_engine, tmp_path, port) as process:
        acknowledged, sent = asyncio.run(
            _answer_until_killed(f"http://127.0.0.1:{port}", steps, process)
        )
        assert process.wait(timeout=30) == -signal.SIGKILL
    demo_engine.dispose()
    stored = _stored(demo_engine)
    every = {a for ids in acknowledged.values() for a in ids}
    assert len(every) >= KILL_AFTER, "the students were answering when the server was killed"
    assert every <= set(stored), f"acknowledged but lost: {sorted(every - set(stored))[:5]}"
    assert set(stored.values()) == {1}
    with transaction(demo_engine) as session:
        owners = dict(session.execute(select(User.username, User.id)).all())
    for name, ids in acknowledged.items():  # each under its own student
        with transaction(demo_engine) as session:
            mine = set(session.scalars(select(Attempt.id).where(
                Attempt.student_id == owners[name], Attempt.id.like("%:durable-%"))))  # fmt: skip
        assert {f"{owners[name]}:{a}" for a in ids} <= mine
    # the clients send everything again to a fresh server: still exactly once each
    port = free_port()
    with learnway_serve(demo_engine, tmp_path, port):
        statuses = asyncio.run(_send_again(f"http://127.0.0.1:{port}", sent))
    assert not any(status >= 500 for status in statuses), statuses
    after = _stored(demo_engine)
    assert set(after.values()) == {1} and set(stored) <= set(after)
    print(
        f"\n{len(every)} acknowledged before SIGKILL, all stored once; "
        f"{sum(len(a) for a in sent.values())} sent, {len(after)} stored once after resending"
    )
