"""One answer must never stall the server (issue: a student's ``9^99999999`` froze it for minutes).

``learnway serve`` runs in a process of its own on 127.0.0.1 over the demo school, on SQLite and
PostgreSQL. Twenty students answer practice steps as students do (an answer, a pause, the next)
while twenty others post, all at once, the answers that used to freeze the server and worse
ones. Every oversized answer must be refused with a message within 5 s and leave no attempt
behind; no request may end in a server error; and the ordinary answers must not stall (an
answer that froze the server held every request for minutes): their 99th percentile stays
under 2 s on a machine that gives the test its processor, proportionally more on one busy with
other work, by the slowdown of a busy loop measured before and after the scenario. The service
aims at 500 ms there; that figure is printed and recorded in docs/web.md, not asserted, as
speed is measured, not held to a line in a test.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx2 as httpx
import pytest
from sqlalchemy import Engine, func, select

from learnway.store import transaction
from learnway.store._schema import Attempt, StepRow
from learnway.web import DEMO_PASSWORD, set_demo_passwords
from web.served import free_port, learnway_serve

pytestmark = pytest.mark.slow

# The answers of the issue, then worse ones: each is refused before it is worked out, or (the
# last four, within every size limit but slow to compare) stopped at the time limit.
MALICIOUS = [
    "9^99999999",
    "9^9^9^9",
    "10^10^10",
    "10^-999999999",
    "(x+1)^5000*(x-1)^5000",
    "2^2^2^2^2^2",
    "x^(10^9)",
    "\\frac{1}{7^{100000}}",
    "\\sqrt[0.000001]{3}",
    "99999^99999",
    "1.0000001^1000000000",
    "\\pi^{10^{8}}",
    "2^{x^{x^{x}}}",
    "(a+b+c+d+1)^{14} = y(a+b+c+d)^{14}",
    "\\sqrt{-x^2-1}(x^3+y^3+z^3+w^3)^{5}(a+b+c)^{6}",
    "(x+1)(x+2)(x+3)(x+4)(x+5)(x+6)(x+7)(x+8)(x+9)(x+10)(x+11)",
    "\\sqrt{-x^2-1}(x+y+z)^{28}",
    "\\sqrt{-a^2-1}(a+b+c+1)^{12}",
    "\\sqrt{-p^2-2}(p+q+r)^{29}",
    "\\sqrt{-u^2-3}(u+v+w+1)^{12}",
]
ORDINARY = [f"student{n:02d}" for n in range(1, 21)]
ATTACKERS = [f"student{n:02d}" for n in range(21, 41)]
P99_TARGET_S = 0.5  # what the service aims at, printed beside the figure
STALL_S = 2.0  # what must never be crossed: four times the aim
PAUSE_S = 1.0
REFUSAL_LIMIT_S = 5.0


def slowdown(cpu_s: float = 0.3) -> float:
    """How many times its CPU time a busy loop takes by the clock here, now: 1 on a machine
    that gives this process a processor, more when other work shares it (the server under test
    runs at the same priority as this process)."""
    started, cpu = time.perf_counter(), time.process_time()
    while time.process_time() - cpu < cpu_s:
        pass
    return (time.perf_counter() - started) / cpu_s


@pytest.fixture
def server(demo_engine: Engine, tmp_path: Path) -> Iterator[str]:
    """``learnway serve`` on the demo school, in a process of its own."""
    set_demo_passwords(demo_engine)
    port = free_port()
    with learnway_serve(demo_engine, tmp_path, port):
        yield f"http://127.0.0.1:{port}"


@dataclass
class Results:
    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    refusals: list[tuple[str, int, float, str]] = field(default_factory=list)


def _steps(engine: Engine) -> tuple[int, list[tuple[int, str]]]:
    """A step for the attackers, and (step, right answer) pairs for ordinary students."""
    with transaction(engine) as session:
        rows = session.execute(
            select(StepRow.id, StepRow.answers)
            .where(StepRow.problem_type == "TextBox", StepRow.answer_type == "arithmetic")
            .order_by(StepRow.id)
            .limit(60)
        ).all()
    pairs = [(step, str(answers[0]).replace("$$", "")) for step, answers in rows if answers]
    plain = [(s, a) for s, a in pairs if "=" not in a and "\\" not in a]
    assert len(plain) >= 20, "the course has simple arithmetic steps"
    return plain[0][0], plain[:20]


async def _token(client: httpx.AsyncClient, username: str) -> str:
    answer = await client.post(
        "/api/v1/tokens", json={"username": username, "password": DEMO_PASSWORD}
    )
    assert answer.status_code == 201, answer.text
    return f"Bearer {answer.json()['token']}"


async def _scenario(
    base: str, attack_step: int, steps: list[tuple[int, str]], malicious: list[str]
) -> Results:
    results = Results()
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        tokens = {u: await _token(client, u) for u in ORDINARY + ATTACKERS}
        warm = await client.post(
            f"/api/v1/steps/{steps[0][0]}/attempts",
            json={"response": steps[0][1]},
            headers={"Authorization": tokens[ORDINARY[0]]},
        )
        assert warm.status_code == 200, warm.text
        attack_done = asyncio.Event()

        async def student(n: int) -> None:
            step, right = steps[n]
            answers = ["12345.678", right]
            rounds = 0
            while rounds < 12 or not attack_done.is_set():
                started = time.perf_counter()
                answer = await client.post(
                    f"/api/v1/steps/{step}/attempts",
                    json={"response": answers[rounds % 2]},
                    headers={"Authorization": tokens[ORDINARY[n]]},
                )
                results.latencies.append(time.perf_counter() - started)
                results.statuses.append(answer.status_code)
                rounds += 1
                await asyncio.sleep(PAUSE_S)  # a student reads the feedback, then answers again

        async def attacker(n: int) -> None:
            started = time.perf_counter()
            answer = await client.post(
                f"/api/v1/steps/{attack_step}/attempts",
                json={"response": malicious[n]},
                headers={"Authorization": tokens[ATTACKERS[n]]},
            )
            detail = answer.json().get("detail", "") if answer.content else ""
            results.refusals.append(
                (malicious[n], answer.status_code, time.perf_counter() - started, str(detail))
            )

        async def attack() -> None:
            await asyncio.sleep(1.0)  # the students are answering by now
            await asyncio.gather(*(attacker(n) for n in range(len(malicious))))
            attack_done.set()

        await asyncio.gather(attack(), *(student(n) for n in range(len(ORDINARY))))
    return results


def test_malicious_answers_are_refused_while_students_answer_on(
    server: str, demo_engine: Engine
) -> None:
    attack_step, steps = _steps(demo_engine)
    with transaction(demo_engine) as session:
        before = session.scalar(select(func.count()).select_from(Attempt))
    busy_before = slowdown()
    results = asyncio.run(_scenario(server, attack_step, steps, MALICIOUS))
    busy = (busy_before + slowdown()) / 2
    bound = STALL_S * max(1.0, busy)

    ordered = sorted(results.latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
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
             if status != 422 or "too large to check" not in d]  # fmt: skip
    assert len(results.refusals) == len(MALICIOUS)
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
