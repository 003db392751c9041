"""Load clients run in processes of their own, so that their work neither slows the server
under test nor inflates each other's timings. Each prints one JSON line.

    python load_client.py attack BASE_URL USERNAME ATTACKERS
        ATTACKERS concurrent wrong passwords for one account: their status codes and duration.
    python load_client.py ordinary BASE_URL TOKEN [TOKEN ...]
        signed-in users asking /api/v1/me over and over until standard input closes: the
        status codes and latencies of their requests.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter

import httpx2 as httpx


async def attack(base: str, username: str, attackers: int) -> dict[str, object]:
    limits = httpx.Limits(max_connections=attackers)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:

        async def wrong(n: int) -> int:
            answer = await client.post(
                "/api/v1/tokens", json={"username": username, "password": f"guess-{n}"}
            )
            return answer.status_code

        started = time.perf_counter()
        statuses = Counter(await asyncio.gather(*(wrong(n) for n in range(attackers))))
        return {"statuses": statuses, "seconds": time.perf_counter() - started}


async def ordinary(base: str, tokens: list[str]) -> dict[str, object]:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    stop = asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:

        async def user(token: str) -> None:
            while not stop.done():
                started = time.perf_counter()
                answer = await client.get("/api/v1/me", headers={"Authorization": token})
                latencies.append(time.perf_counter() - started)
                statuses[answer.status_code] += 1
                await asyncio.sleep(0.05)

        await asyncio.gather(*(user(t) for t in tokens))
    return {"statuses": statuses, "latencies": latencies}


if __name__ == "__main__":
    mode, base, *rest = sys.argv[1:]
    if mode == "attack":
        found = asyncio.run(attack(base, rest[0], int(rest[1])))
    else:
        print("ready", flush=True)
        found = asyncio.run(ordinary(base, rest))
    print(json.dumps(found))
