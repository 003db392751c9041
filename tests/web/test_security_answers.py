"""One answer must never stall the server (issue: a student's ``9^99999999`` froze it for minutes).

``learnway serve`` runs in a process of its own on 127.0.0.1 over the demo school, on SQLite and
PostgreSQL. Twenty students answer practice steps as students do (an answer, a pause, the next)
while twenty others post, all at once and three times a second apart, the answers that used to
freeze the server and worse ones. Every oversized answer must be refused with a message within 5 s
and leave no attempt behind; no request may end in a server error; and the ordinary answers must
not stall (an answer that froze the server held every request for minutes): their 99th percentile
stays under 2 s on a machine that gives the test its processor, proportionally more on one busy
with other work, by the slowdown of a busy loop measured before and after the scenario. The service
aims at 500 ms there; that figure is printed here and measured by ``learnway bench attack``
(benchmarks/results/attack.md), not asserted, as speed is measured, not held to a line in a test.
The load is :func:`learnway._attackbench.answer_attack`, the benchmark's own.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from learnway._attackbench import (
    MALICIOUS,
    P99_TARGET_S,
    REFUSAL_LIMIT_S,
    TOO_LARGE,
    answer_attack,
    answer_steps,
    percentile,
    slowdown,
)
from learnway.store import transaction
from learnway.store._schema import Attempt
from learnway.web import DEMO_PASSWORD, set_demo_passwords
from web.served import free_port, learnway_serve

pytestmark = pytest.mark.slow

STALL_S = 2.0  # what must never be crossed: four times the aim
WAVES = 3  # the malicious answers, all at once, three times a second apart


@pytest.fixture
def server(demo_engine: Engine, tmp_path: Path) -> Iterator[str]:
    """``learnway serve`` on the demo school, in a process of its own."""
    set_demo_passwords(demo_engine)
    port = free_port()
    with learnway_serve(demo_engine, tmp_path, port):
        yield f"http://127.0.0.1:{port}"


def test_malicious_answers_are_refused_while_students_answer_on(
    server: str, demo_engine: Engine
) -> None:
    attack_step, steps = answer_steps(demo_engine)
    with transaction(demo_engine) as session:
        before = session.scalar(select(func.count()).select_from(Attempt))
    busy_before = slowdown()
    results = asyncio.run(answer_attack(server, attack_step, steps, DEMO_PASSWORD, waves=WAVES))
    busy = (busy_before + slowdown()) / 2
    bound = STALL_S * max(1.0, busy)

    ordered = sorted(results.latencies)
    p99 = percentile(ordered, 0.99)
    worst_refusal = max((s for _, _, s, _ in results.refusals), default=0.0)
    print(
        f"\n{demo_engine.dialect.name}: {len(ordered)} ordinary answers, p50 "
        f"{ordered[len(ordered) // 2] * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max "
        f"{ordered[-1] * 1000:.0f} ms; {len(results.refusals)} malicious answers, slowest "
        f"refusal {worst_refusal:.2f} s; aim {P99_TARGET_S * 1000:.0f} ms, stall bound "
        f"{bound * 1000:.0f} ms (slowdown {busy:.2f}, "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    slow = [(r, round(s, 2)) for r, status, s, _ in results.refusals if s > REFUSAL_LIMIT_S]
    wrong = [(r, status, d) for r, status, _, d in results.refusals
             if status != 422 or TOO_LARGE not in d]  # fmt: skip
    assert len(results.refusals) == WAVES * len(MALICIOUS)
    assert not wrong, f"not refused as too large to check: {wrong}"
    assert not slow, f"refused too late: {slow}"
    assert all(status == 200 for status in results.statuses), sorted(set(results.statuses))
    with transaction(demo_engine) as session:
        stored = session.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.response.in_(MALICIOUS))
        )
        after = session.scalar(select(func.count()).select_from(Attempt))
    assert stored == 0, "a refused answer was stored as an attempt"
    assert (after or 0) - (before or 0) == len(results.statuses) + 1  # each ordinary one stored
    assert p99 < bound, f"ordinary p99 {p99 * 1000:.0f} ms, bound {bound * 1000:.0f} ms"
