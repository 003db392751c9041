"""Load clients run in processes of their own, so that their work neither slows the server
under test nor inflates each other's timings. Each prints one JSON line.

    python load_client.py attack BASE_URL USERNAME ATTACKERS
        ATTACKERS concurrent wrong passwords for one account, each on a connection of its own,
        written as plain HTTP/1.1 (an HTTP client library's own work for hundreds of requests
        would take the cores that the server under test needs; a real attacker's does not):
        their status codes and duration.
    python load_client.py ordinary BASE_URL TOKEN [TOKEN ...]
        signed-in users asking /api/v1/me over and over until standard input closes: the
        status codes of their requests, and when each started (Unix time) and how long it took.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

import httpx2 as httpx


async def attack(base: str, username: str, attackers: int) -> dict[str, object]:
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


async def ordinary(base: str, tokens: list[str]) -> dict[str, object]:
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


if __name__ == "__main__":
    mode, base, *rest = sys.argv[1:]
    if mode == "attack":
        found = asyncio.run(attack(base, rest[0], int(rest[1])))
    else:
        print("ready", flush=True)
        found = asyncio.run(ordinary(base, rest))
    print(json.dumps(found))
