"""The attacks of the hardening work, as loads and as a benchmark (``learnway bench attack``).

Two attacks, each against ``learnway serve`` on the demo school, on loopback:

- **answers**: twenty students answer practice steps as students do (an answer, a pause of a
  second, the next) while twenty others post at once the answers that used to freeze the server
  (:data:`MALICIOUS`) and worse ones: each must be refused with a message, quickly, and the
  ordinary answers must not stall;
- **sign-in**: 40 or 400 concurrent wrong passwords for one account, each written as plain
  HTTP/1.1 on a connection of its own (a client library's own work for hundreds of requests
  would take the cores the server needs; a real attacker's does not), while ten signed-in users
  ask for their own record over and over: no server error, exactly the configured number of
  password checks, and the owner of the account signs in once the delay has passed.

The loads run in processes of their own (``python -m learnway._attackbench``), so that their
work neither slows the server under test nor shares its interpreter. The security tests run the
same loads and assert on them; :func:`run_attack_benchmark` measures them on fresh databases and
writes ``attack.json`` and ``attack.md``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, func, select

# The answers that froze the server, then worse ones: each is refused before it is worked out
# (the last four, at most a few hundred terms too many, by the size limits) or stopped at the
# time limit.
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
ANSWERING = [f"student{n:02d}" for n in range(1, 21)]
"""The students who answer as students do during the answers attack."""
ANSWER_ATTACKERS = [f"student{n:02d}" for n in range(21, 41)]
SIGNED_IN = [f"student{n:02d}" for n in range(1, 11)]
"""The signed-in users who work during the sign-in attack."""
ATTACKED_ACCOUNT = "teacher"
SIGN_IN_ATTACKERS = (40, 400)
PASSWORD_CHECKS = 5
"""Password checks the server allows one account in a window (its limiter's ``limit``)."""
P99_TARGET_S = 0.5
"""What the service aims at for ordinary users' p99 during an attack."""
REFUSAL_LIMIT_S = 5.0
"""A malicious answer must be refused within this."""
TOO_LARGE = "too large to check"
"""What the refusal of an answer too large to check says."""
PAUSE_S = 1.0
"""How long a student reads the feedback before answering again."""
ANSWERS_CALM_S = 8.0
"""How long the students answer before the benchmark's answers attack (the test's: 1 s)."""
ANSWER_WAVES = 8
"""How many waves of malicious answers the benchmark sends, one a second (the test's: 3)."""
SIGN_IN_CALM_S = 2.0
"""How long the signed-in users work before the wrong passwords arrive."""


def percentile(values: list[float], q: float) -> float:
    """The value at rank ``q`` (0 to 1) of ``values``, without interpolation."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def slowdown(cpu_s: float = 0.3) -> float:
    """How many times its CPU time a busy loop takes by the clock here, now: 1 on a machine
    that gives this process a processor, more when other work shares it."""
    started, cpu = time.perf_counter(), time.process_time()
    while time.process_time() - cpu < cpu_s:
        pass
    return (time.perf_counter() - started) / cpu_s


# --- the answers attack -------------------------------------------------------------------------


def answer_steps(engine: Engine) -> tuple[int, list[tuple[int, str]]]:
    """A step for the attackers, and (step, right answer) pairs for the ordinary students."""
    from learnway.store import transaction
    from learnway.store._schema import StepRow

    with transaction(engine) as session:
        rows = session.execute(
            select(StepRow.id, StepRow.answers)
            .where(StepRow.problem_type == "TextBox", StepRow.answer_type == "arithmetic")
            .order_by(StepRow.id)
            .limit(60)
        ).all()
    pairs = [(step, str(answers[0]).replace("$$", "")) for step, answers in rows if answers]
    plain = [(s, a) for s, a in pairs if "=" not in a and "\\" not in a]
    if len(plain) < len(ANSWERING):
        raise ValueError("the course has too few simple arithmetic steps for the answers attack")
    return plain[0][0], plain[: len(ANSWERING)]


@dataclass
class AnswerAttack:
    """What the ordinary students and the attackers saw. Times are ``time.perf_counter()``."""

    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    starts: list[float] = field(default_factory=list)
    refusals: list[tuple[str, int, float, str]] = field(default_factory=list)
    """(answer, status, seconds, message) of each malicious answer."""
    attack_started: float = 0.0
    attack_ended: float = 0.0

    def before(self) -> list[float]:
        """Ordinary answers sent before the attack."""
        return [t for s, t in zip(self.starts, self.latencies, strict=True)
                if s < self.attack_started]  # fmt: skip

    def during(self) -> list[float]:
        """Ordinary answers sent while the malicious ones were in flight."""
        return [t for s, t in zip(self.starts, self.latencies, strict=True)
                if self.attack_started <= s < self.attack_ended]  # fmt: skip

    def refused(self) -> list[tuple[str, int, float, str]]:
        """The malicious answers refused with the message of an answer too large to check."""
        return [r for r in self.refusals if r[1] == 422 and TOO_LARGE in r[3]]


async def _token(client: Any, username: str, password: str) -> str:
    answer = await client.post("/api/v1/tokens", json={"username": username, "password": password})
    if answer.status_code != 201:
        raise RuntimeError(f"{username} could not sign in: {answer.status_code} {answer.text}")
    return f"Bearer {answer.json()['token']}"


async def answer_attack(
    base: str,
    attack_step: int,
    steps: list[tuple[int, str]],
    password: str,
    *,
    malicious: list[str] = MALICIOUS,
    calm_s: float = 1.0,
    rounds: int = 12,
    waves: int = 3,
) -> AnswerAttack:
    """Each of :data:`ANSWERING` answers its own step (a wrong answer, then the right one, and
    so on, a pause of :data:`PAUSE_S` after each) at least ``rounds`` times and until the attack
    is over; after ``calm_s`` seconds, each of :data:`ANSWER_ATTACKERS` posts one of
    ``malicious`` to ``attack_step``, all at once, in ``waves`` waves :data:`PAUSE_S` apart, so
    that the attack spans as many of the students' answers as it has waves (a refusal takes a
    fraction of a second: a single wave would be over before most students answer again)."""
    import httpx2 as httpx

    found = AnswerAttack()
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        tokens = {u: await _token(client, u, password) for u in ANSWERING + ANSWER_ATTACKERS}
        warm = await client.post(
            f"/api/v1/steps/{steps[0][0]}/attempts",
            json={"response": steps[0][1]},
            headers={"Authorization": tokens[ANSWERING[0]]},
        )
        if warm.status_code != 200:
            raise RuntimeError(f"the first answer was not taken: {warm.status_code} {warm.text}")
        attack_done = asyncio.Event()

        async def student(n: int) -> None:
            step, right = steps[n]
            answers = ["12345.678", right]
            done = 0
            while done < rounds or not attack_done.is_set():
                started = time.perf_counter()
                answer = await client.post(
                    f"/api/v1/steps/{step}/attempts",
                    json={"response": answers[done % 2]},
                    headers={"Authorization": tokens[ANSWERING[n]]},
                )
                found.latencies.append(time.perf_counter() - started)
                found.starts.append(started)
                found.statuses.append(answer.status_code)
                done += 1
                await asyncio.sleep(PAUSE_S)  # a student reads the feedback, then answers again

        async def attacker(n: int) -> None:
            started = time.perf_counter()
            answer = await client.post(
                f"/api/v1/steps/{attack_step}/attempts",
                json={"response": malicious[n]},
                headers={"Authorization": tokens[ANSWER_ATTACKERS[n]]},
            )
            try:
                detail = answer.json().get("detail", "") if answer.content else ""
            except ValueError:
                detail = answer.text
            found.refusals.append(
                (malicious[n], answer.status_code, time.perf_counter() - started, str(detail))
            )

        async def attack() -> None:
            await asyncio.sleep(calm_s)  # the students are answering by now
            found.attack_started = time.perf_counter()
            for wave in range(waves):
                if wave:
                    next_wave = found.attack_started + wave * PAUSE_S
                    await asyncio.sleep(max(0.0, next_wave - time.perf_counter()))
                await asyncio.gather(*(attacker(n) for n in range(len(malicious))))
            found.attack_ended = time.perf_counter()
            attack_done.set()

        await asyncio.gather(attack(), *(student(n) for n in range(len(ANSWERING))))
    return found


# --- the sign-in attack -------------------------------------------------------------------------


async def _wrong_passwords(base: str, username: str, attackers: int) -> dict[str, Any]:
    """``attackers`` concurrent wrong passwords for ``username``, each on a connection of its
    own, written as plain HTTP/1.1: their status codes and how long they all took."""
    address = urlsplit(base)

    async def wrong(n: int) -> int:
        body = json.dumps({"username": username, "password": f"guess-{n}"}).encode()
        head = (f"POST /api/v1/tokens HTTP/1.1\r\nHost: {address.netloc}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n")  # fmt: skip
        reader, writer = await asyncio.open_connection(address.hostname, address.port)
        writer.write(head.encode() + body)
        answer = await reader.read()  # to the end: the server closes the connection
        writer.close()
        return int(answer.split(b" ", 2)[1])

    started = time.perf_counter()
    statuses = Counter(await asyncio.gather(*(wrong(n) for n in range(attackers))))
    return {"statuses": statuses, "seconds": time.perf_counter() - started}


async def _signed_in_users(base: str, tokens: list[str]) -> dict[str, Any]:
    """Signed-in users asking for ``/api/v1/me`` over and over until standard input closes:
    the status of each request, when it started (Unix time) and how long it took."""
    import httpx2 as httpx

    latencies: list[float] = []
    starts: list[float] = []
    statuses: Counter[int] = Counter()
    stop = asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:

        async def user(token: str) -> None:
            while not stop.done():
                started, wall = time.perf_counter(), time.time()
                answer = await client.get("/api/v1/me", headers={"Authorization": token})
                latencies.append(time.perf_counter() - started)
                starts.append(wall)
                statuses[answer.status_code] += 1
                await asyncio.sleep(0.05)

        await asyncio.gather(*(user(t) for t in tokens))
    return {"statuses": statuses, "latencies": latencies, "starts": starts}


def _load_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "learnway._attackbench", *args]


def wrong_passwords(base: str, username: str, attackers: int) -> dict[str, Any]:
    """:func:`_wrong_passwords` in a process of its own; its statuses keyed by their text."""
    done = subprocess.run(
        _load_command("attack", base, username, str(attackers)),
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


@dataclass
class SignInAttack:
    """What the attack and the signed-in users saw."""

    statuses: dict[int, int]
    """The wrong passwords' answers by status."""
    seconds: float
    users_statuses: dict[int, int]
    calm: list[float]
    """The users' latencies before the attack."""
    during: list[float]
    """The users' latencies from the start of the attack to half a second after its end."""


def sign_in_attack(
    base: str,
    username: str,
    attackers: int,
    tokens: list[str],
    *,
    calm_s: float = SIGN_IN_CALM_S,
) -> SignInAttack:
    """Users holding ``tokens`` work for ``calm_s`` seconds, then ``attackers`` concurrent wrong
    passwords for ``username`` arrive while they go on; each load in a process of its own."""
    users = subprocess.Popen(
        _load_command("ordinary", base, *tokens),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert users.stdout is not None
        if users.stdout.readline().strip() != "ready":
            raise RuntimeError("the signed-in users' load did not start")
        time.sleep(calm_s)  # the same users without an attack: the peer of the figure
        attacked = time.time()
        found = wrong_passwords(base, username, attackers)
        time.sleep(0.5)
        seen = json.loads(users.communicate(input="", timeout=120)[0])
    finally:
        if users.poll() is None:
            users.kill()
            users.wait()
    timed = list(zip(seen["starts"], seen["latencies"], strict=True))
    return SignInAttack(
        statuses={int(k): v for k, v in found["statuses"].items()},
        seconds=float(found["seconds"]),
        users_statuses={int(k): v for k, v in seen["statuses"].items()},
        calm=[latency for start, latency in timed if start < attacked],
        during=[latency for start, latency in timed if start >= attacked],
    )


# --- the benchmark ------------------------------------------------------------------------------


def _figures(latencies: list[float]) -> dict[str, Any]:
    if not latencies:
        return {"n": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "n": len(latencies),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
    }


def _server_errors(statuses: dict[int, int] | list[int]) -> int:
    counted = Counter(statuses) if isinstance(statuses, list) else statuses
    return sum(n for status, n in counted.items() if status >= 500 or status == 0)


@contextmanager
def _learnway_serve(engine: Engine, folder: Path, port: int) -> Iterator[str]:
    """``learnway serve`` on ``engine`` in a process of its own; yields its base URL once its
    start-up work (the history's xAPI statements) is done."""
    from learnway._httpbench import _server

    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "LEARNWAY_SECRET_KEY": "a-secret-key-for-the-attack-benchmark-012345",
           "LEARNWAY_DATA_DIR": str(folder)}  # fmt: skip
    command = [sys.executable, "-c", "from learnway.cli import main; main()", "serve",
               "--host", "127.0.0.1", "--port", str(port), "--database", url]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with _server(command, env, base + "/login", folder / f"server-{port}.log"):
        _settled(engine)
        yield base


def _settled(engine: Engine, timeout_s: float = 300.0) -> None:
    """Wait until the count of xAPI statements stops growing (the server's start-up work)."""
    from learnway.store._schema import XapiStatement

    deadline, last = time.monotonic() + timeout_s, -1
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            now = connection.scalar(select(func.count()).select_from(XapiStatement)) or 0
        if now == last:
            return
        last = now
        time.sleep(2.0)


def _measure_answers(engine: Engine, base: str, password: str) -> dict[str, Any]:
    from learnway._machine import load_average
    from learnway.store import transaction
    from learnway.store._schema import Attempt

    attack_step, steps = answer_steps(engine)
    started = load_average()
    busy_before = slowdown()
    found = asyncio.run(
        answer_attack(base, attack_step, steps, password, calm_s=ANSWERS_CALM_S, waves=ANSWER_WAVES)
    )
    busy = (busy_before + slowdown()) / 2
    with transaction(engine) as session:
        stored = session.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.response.in_(MALICIOUS))
        )
    refused = found.refused()
    return {
        "ordinary_students": len(ANSWERING),
        "malicious_answers": len(found.refusals),
        "ordinary": {
            "before": _figures(found.before()),
            "during": _figures(found.during()),
            "whole_run": _figures(found.latencies),
        },
        "refused_with_message": len(refused),
        "messages": sorted({r[3] for r in refused}),
        "not_refused": [
            {"answer": r[0], "status": r[1], "detail": r[3]}
            for r in found.refusals
            if r not in refused
        ],
        "slowest_refusal_s": round(max((r[2] for r in found.refusals), default=0.0), 2),
        "malicious_stored": int(stored or 0),
        "server_errors": _server_errors(found.statuses + [r[1] for r in found.refusals]),
        "ordinary_statuses": {str(k): v for k, v in sorted(Counter(found.statuses).items())},
        "slowdown": round(busy, 2),
        "load_average_start": started,
        "load_average_end": load_average(),
    }


def _measure_sign_in(engine: Engine, base: str, password: str, attackers: int) -> dict[str, Any]:
    import httpx2 as httpx

    from learnway._machine import load_average
    from learnway.store._schema import User
    from learnway.web._models import SignInLimit
    from learnway.web._security import verify_password

    with engine.connect() as connection:
        hashed = connection.scalar(
            select(User.password_hash).where(User.username == ATTACKED_ACCOUNT)
        )
    hash_started = time.perf_counter()
    verify_password(hashed, "not the password")
    one_hash = time.perf_counter() - hash_started
    started = load_average()
    with httpx.Client(base_url=base, timeout=60) as client:
        tokens = []
        for username in SIGNED_IN:  # one after the other, as people sign in
            answer = client.post(
                "/api/v1/tokens", json={"username": username, "password": password}
            )
            answer.raise_for_status()
            tokens.append(f"Bearer {answer.json()['token']}")
    found = sign_in_attack(base, ATTACKED_ACCOUNT, attackers, tokens)
    ended = load_average()
    with engine.connect() as connection:
        reserved = connection.scalar(
            select(SignInLimit.checks).where(SignInLimit.key == f"user:{ATTACKED_ACCOUNT}")
        )
    # the owner of the account: refused during the delay, then let in once it has passed
    right = {"username": ATTACKED_ACCOUNT, "password": password}
    with httpx.Client(base_url=base, timeout=60) as client:
        refused = client.post("/api/v1/tokens", json=right)
        wait = float(refused.headers.get("retry-after", 0)) if refused.status_code == 429 else 0
        time.sleep(wait)
        after = client.post("/api/v1/tokens", json=right)
    return {
        "attackers": attackers,
        "seconds": round(found.seconds, 2),
        "statuses": {str(k): v for k, v in sorted(found.statuses.items())},
        "password_checks": {
            "answered_401": found.statuses.get(401, 0),
            "reserved_in_database": reserved,
            "limit": PASSWORD_CHECKS,
        },
        "ordinary": {"before": _figures(found.calm), "during": _figures(found.during)},
        "ordinary_statuses": {str(k): v for k, v in sorted(found.users_statuses.items())},
        "server_errors": _server_errors(found.statuses) + _server_errors(found.users_statuses),
        "owner": {
            "during_delay": refused.status_code,
            "retry_after_s": wait,
            "after_delay": after.status_code,
            "signed_in": after.status_code == 201,
        },
        "one_hash_ms": round(one_hash * 1000, 1),
        "load_average_start": started,
        "load_average_end": ended,
    }


def attack_database(
    engine: Engine, folder: Path, *, port: int = 8775, progress: Callable[[str], None] = print
) -> dict[str, Any]:
    """Both attacks on the demo school in ``engine`` (built here when the database is empty),
    each against a ``learnway serve`` of its own."""
    from learnway.demo import build_demo
    from learnway.web import DEMO_PASSWORD, set_demo_passwords

    backend = engine.dialect.name
    progress(f"the demo school on {backend}")
    build_demo(engine)
    set_demo_passwords(engine)
    results: dict[str, Any] = {}
    progress(f"the answers attack on {backend}")
    with _learnway_serve(engine, folder, port) as base:
        results["answers"] = _measure_answers(engine, base, DEMO_PASSWORD)
    for k, attackers in enumerate(SIGN_IN_ATTACKERS):
        progress(f"{attackers} wrong passwords on {backend}")
        with _learnway_serve(engine, folder, port + 1 + k) as base:
            results[f"sign_in_{attackers}"] = _measure_sign_in(
                engine, base, DEMO_PASSWORD, attackers
            )
    return results


def run_attack_benchmark(
    out_dir: Path | str,
    *,
    postgres_url: str | None = None,
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Both attacks on a fresh SQLite database and, with ``postgres_url``, on a fresh
    PostgreSQL database there; writes ``attack.json`` and ``attack.md`` in ``out_dir``."""
    from learnway._livebench import _postgres_database
    from learnway._machine import load_average, machine_info
    from learnway.store import make_engine

    results: dict[str, Any] = {
        "machine": machine_info(("learnway", "fastapi", "uvicorn", "sqlalchemy", "sympy")),
        "load_average_start": load_average(),
        "databases": {},
    }
    with tempfile.TemporaryDirectory(prefix="learnway-attack-") as tmp:
        folder = Path(tmp)
        engines = [make_engine(f"sqlite:///{folder}/attack.db")]
        if postgres_url:
            engines.append(_postgres_database(postgres_url, "attack"))
        for engine in engines:
            try:
                results["databases"][engine.dialect.name] = attack_database(
                    engine, folder, progress=progress
                )
            finally:
                engine.dispose()
    results["load_average_end"] = load_average()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "attack.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "attack.md").write_text(render_markdown(results))
    return results


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _load(average: list[float]) -> str:
    """The one-minute load average of a :func:`learnway._machine.load_average` reading."""
    return f"{average[0]:g}" if average else "n/a"


def render_markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        "# Attacks on a served school",
        "",
        "`learnway bench attack`: `learnway serve` on the demo school, on loopback, a fresh "
        "server for each attack. Ordinary users' times are measured by a client in a process "
        "of its own, before the attack and while it is in flight.",
        "",
        f"Machine: {m.get('cpu')}, {m.get('cpus')} cores, {m.get('memory_gib')} GiB, Python "
        f"{m.get('python')}, {m.get('date')}; load average at the start "
        f"{results['load_average_start']}, at the end {results['load_average_end']}.",
        "",
        f"## Answers: {len(MALICIOUS)} malicious answers at once while {len(ANSWERING)} "
        "students answer",
        "",
        f"Each student answers, reads the feedback for {PAUSE_S:g} s and answers again, so "
        'every second about twenty answers arrive together; "before" is the first '
        f"{ANSWERS_CALM_S:g} s. Then the {len(MALICIOUS)} malicious answers are posted all at "
        f"once, {ANSWER_WAVES} times, {PAUSE_S:g} s apart; "
        '"during" holds the ordinary answers sent from the first wave to the last refusal. '
        "Aim: ordinary p99 under "
        f"{P99_TARGET_S * 1000:g} ms during the attack, no server error, each malicious answer "
        f"refused with a message within {REFUSAL_LIMIT_S:g} s.",
        "",
        "| database | ordinary p50 / p99 before (ms) | ordinary p50 / p99 during (ms) | "
        "refused with a message | slowest refusal (s) | stored | 5xx | load average "
        "(start, end) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    databases = results["databases"]
    for name, found in databases.items():
        a = found["answers"]
        before, during = a["ordinary"]["before"], a["ordinary"]["during"]
        lines.append(
            f"| {name} | {_ms(before['p50_ms'])} / {_ms(before['p99_ms'])} (n {before['n']}) | "
            f"{_ms(during['p50_ms'])} / {_ms(during['p99_ms'])} (n {during['n']}) | "
            f"{a['refused_with_message']} of {a['malicious_answers']} | "
            f"{a['slowest_refusal_s']:g} | {a['malicious_stored']} | {a['server_errors']} | "
            f"{_load(a['load_average_start'])}, {_load(a['load_average_end'])} |"
        )
    messages = sorted({msg for found in databases.values() for msg in found["answers"]["messages"]})
    lines.append("")
    lines += [f'The refusal: "{msg}"' for msg in messages]
    lines += [
        "",
        f"## Sign-in: concurrent wrong passwords for one account ({ATTACKED_ACCOUNT})",
        "",
        f"Each wrong password on a connection of its own, while {len(SIGNED_IN)} signed-in "
        f'users ask for their own record every 50 ms; "before" is the {SIGN_IN_CALM_S:g} s '
        'before the attack, "during" from its start to half a second after its end. Aim: no '
        "500, ordinary p99 under "
        f"{P99_TARGET_S * 1000:g} ms, exactly {PASSWORD_CHECKS} password checks for the "
        "account (answered 401, and reserved in the database), the owner let in once the "
        "delay has passed.",
        "",
        "| database | attackers | answers | password checks (401, reserved) | ordinary p50 / "
        "p99 before (ms) | ordinary p50 / p99 during (ms) | 5xx | owner during the delay, "
        "after it (wait) | one hash (ms) | load average (start, end) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, found in databases.items():
        for attackers in SIGN_IN_ATTACKERS:
            s = found.get(f"sign_in_{attackers}")
            if s is None:
                continue
            before, during = s["ordinary"]["before"], s["ordinary"]["during"]
            checks, owner = s["password_checks"], s["owner"]
            answers = ", ".join(f"{n} × {code}" for code, n in s["statuses"].items())
            lines.append(
                f"| {name} | {attackers} | {answers} in {s['seconds']:g} s | "
                f"{checks['answered_401']}, {checks['reserved_in_database']} | "
                f"{_ms(before['p50_ms'])} / {_ms(before['p99_ms'])} (n {before['n']}) | "
                f"{_ms(during['p50_ms'])} / {_ms(during['p99_ms'])} (n {during['n']}) | "
                f"{s['server_errors']} | {owner['during_delay']}, {owner['after_delay']} "
                f"({owner['retry_after_s']:g} s) | {s['one_hash_ms']:g} | "
                f"{_load(s['load_average_start'])}, {_load(s['load_average_end'])} |"
            )
    lines += [
        "",
        "Figures taken on a machine shared with other work are slower than on a quiet one: read "
        "them beside the load average.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    mode, base, *rest = sys.argv[1:]
    if mode == "attack":
        print(json.dumps(asyncio.run(_wrong_passwords(base, rest[0], int(rest[1])))))
    else:
        print("ready", flush=True)
        print(json.dumps(asyncio.run(_signed_in_users(base, rest))))
