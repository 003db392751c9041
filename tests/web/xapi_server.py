"""Helpers of the xAPI tests: a Learnway served by uvicorn on loopback, and a client that
speaks to its learning record store over real HTTP."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from learnway.store import transaction
from learnway.store import xapi as lrs

REQUIREMENTS: dict[str, list[str]] = {}
"""Requirement -> the tests that check it (filled by :func:`covers`)."""


def covers(*requirements: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Name the requirements of the xAPI 1.0.3 specification a test checks."""

    def mark(test: Callable[..., None]) -> Callable[..., None]:
        for requirement in requirements:
            REQUIREMENTS.setdefault(requirement, []).append(test.__name__)
        test.requirements = requirements  # type: ignore[attr-defined]
        return test

    return mark


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Served:
    """An application served on 127.0.0.1 in a thread; ``stop`` and ``start`` again on the
    same port (a store that goes down for a while)."""

    def __init__(self, app: FastAPI, port: int | None = None) -> None:
        self.app, self.port = app, port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the server on port {self.port} did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=30)
        self._server = self._thread = None


@contextlib.contextmanager
def served(app: FastAPI, port: int | None = None) -> Iterator[Served]:
    server = Served(app, port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def new_client(engine: Engine, name: str, scopes: tuple[str, ...] = ("all",)) -> tuple[str, str]:
    with transaction(engine) as session:
        return lrs.add_client(session, name=name, scopes=scopes)


class Lrs:
    """Plain HTTP to a served store, as another tool would call it."""

    def __init__(self, base: str, key: str, secret: str) -> None:
        self.base = base.rstrip("/") + "/xapi"
        self.http = httpx2.Client(timeout=30)
        weakref.finalize(self, self.http.close)  # its connections closed with it
        self.auth = (key, secret)
        self.headers = {"X-Experience-API-Version": "1.0.3"}

    def request(
        self,
        method: str,
        resource: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        content: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        version: bool = True,
    ) -> httpx2.Response:
        sent = dict(self.headers) if version else {}
        sent.update(headers or {})
        if json_body is not None:
            content = json.dumps(json_body)
            sent.setdefault("Content-Type", "application/json")
        return self.http.request(
            method,
            f"{self.base}/{resource}",
            params={k: _param(v) for k, v in (params or {}).items()},
            content=content,
            headers=sent,
            auth=self.auth if auth else None,
        )

    def post(self, statement: Any) -> httpx2.Response:
        return self.request("POST", "statements", json_body=statement)

    def get(self, **params: Any) -> httpx2.Response:
        return self.request("GET", "statements", params=params)


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)
