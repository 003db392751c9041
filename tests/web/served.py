"""A real server on loopback for the tests that need concurrency: uvicorn in a thread."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx2 as httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from learnway.web._serve import uvicorn_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def served(app: FastAPI, *, timeout_s: float = 20.0) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 until the block ends; yields the base URL."""
    port = free_port()
    config = uvicorn_config(app, host="127.0.0.1", port=port)  # as `learnway serve` does
    config.backlog = 2048
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout_s)


@contextmanager
def learnway_serve(
    engine: Engine,
    folder: Path,
    port: int,
    *,
    start_timeout_s: float = 90.0,
    extra: Sequence[str] = (),
) -> Iterator[subprocess.Popen[bytes]]:
    """``learnway serve`` on ``engine`` in a process of its own on 127.0.0.1:``port``, its log
    in ``folder``; ready once its sign-in page answers. Stopped (if still running) at the end.
    ``extra``: more options of ``learnway serve`` (``--workers 2``)."""
    env = {**os.environ, "LEARNWAY_SECRET_KEY": "a-secret-key-for-the-served-tests-0123456789",
           "LEARNWAY_DATA_DIR": str(folder)}  # fmt: skip
    url = engine.url.render_as_string(hide_password=False)
    with (folder / f"server-{port}.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", "from learnway.cli import main; main()", "serve",
             "--host", "127.0.0.1", "--port", str(port), "--database", url, *extra],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + start_timeout_s
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError(f"learnway serve did not start: see {log.name}")
            time.sleep(0.2)
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def run(coroutine):  # type: ignore[no-untyped-def]
    return asyncio.run(coroutine)


__all__ = ["free_port", "httpx", "learnway_serve", "p99", "run", "served"]
