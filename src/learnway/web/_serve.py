"""Serving the application with uvicorn (``learnway serve`` and the end of ``learnway demo``)."""

from __future__ import annotations

import os
import signal
import socket
import tempfile
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from learnway.web._demo import DEMO_PASSWORD
from learnway.web._demo import sign_in_links as demo_links

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI


def uvicorn_config(app: Any, *, host: str, port: int, **more: Any) -> uvicorn.Config:
    """How Learnway is served. ``X-Forwarded-For`` is read only from the proxies named in
    ``LEARNWAY_TRUSTED_PROXIES`` (:func:`learnway.web._signin.client_address`), never by uvicorn,
    which would otherwise believe it from any client on loopback. No ``Server`` header is sent,
    and the access log is Learnway's own (:mod:`learnway._logging`)."""
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=False,
        server_header=False,  # no "Server: uvicorn"
        access_log=False,  # Learnway's own access log names routes, not paths (_logging.py)
        log_config=None,  # logging is set up by configure_logging
        **more,
    )


FACTORY = "learnway.web._serve:app_from_environment"
"""What each web process of ``learnway serve --workers N`` imports and calls."""


def app_from_environment() -> FastAPI:
    """The application of one web process, its database and settings read from ``LEARNWAY_*``
    (``serve`` names the database in ``LEARNWAY_DATABASE_URL`` before the processes start)."""
    from learnway._logging import configure_logging
    from learnway.web._app import create_app

    app = create_app()
    configure_logging(production=app.state.web.settings.environment == "production")
    ready_to_serve(app)
    return app


def ready_to_serve(app: FastAPI) -> None:
    """What a web process does once its application is built, before the first request: the
    answer checkers started, and the modules, content and routes kept out of the garbage
    collector's sight (:func:`learnway.web._context.keep_for_life`)."""
    from learnway.web._context import keep_for_life

    app.state.web.checker.warm()
    keep_for_life()


def _prepare_processes(engine: Engine) -> None:
    """What the web processes inherit: the database's URL, and a fresh folder in which
    ``prometheus_client`` sums their counters (unless the operator named one)."""
    os.environ["LEARNWAY_DATABASE_URL"] = engine.url.render_as_string(hide_password=False)
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        for stale in Path(folder).glob("*.db"):  # counters of an earlier run
            stale.unlink()
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="learnway-metrics-")


def serve(
    engine_url: str | Engine | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    open_browser: bool = False,
    sign_in_links: bool = False,
    echo: Callable[[str], None] | None = None,
    workers: int = 1,
) -> None:
    """Serve Learnway on ``host:port`` until interrupted.

    With ``sign_in_links``, print sign-in links for the demo's student, teacher and leader (password
    :data:`DEMO_PASSWORD`); with ``open_browser``, open the student's link once the server is up.
    With ``workers`` above 1, that many web processes share the port, each on a listening
    socket of its own (:func:`supervise` restarts one that dies); the background job worker
    runs once, in this process, never in each web process.
    """
    import uvicorn

    from learnway._logging import configure_logging
    from learnway.worker import start

    if workers < 1:
        raise ValueError(f"workers must be 1 or more, not {workers}")
    if workers == 1:
        from learnway.web._app import create_app

        app: FastAPI | None = create_app(engine_url)
        assert app is not None
        engine = app.state.web.engine
        configure_logging(production=app.state.web.settings.environment == "production")
        ready_to_serve(app)
    else:
        from learnway.settings import get_settings
        from learnway.store import make_engine

        app = None
        if engine_url is None or isinstance(engine_url, str):
            engine = make_engine(engine_url or get_settings().resolved_database_url)
        else:
            engine = engine_url
        configure_logging(production=get_settings().environment == "production")
        _prepare_processes(engine)
    _, stop_worker = start(engine)
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    base = f"http://{shown}:{port}"
    say = echo or print
    links = demo_links(base)
    say(f"Learnway is running at {base}/ (Ctrl+C to stop).")
    if sign_in_links:
        for role, link in links.items():
            say(f"  sign in as the demo {role}: {link}")
        say(f"  password for every demo account: {DEMO_PASSWORD}")
    if open_browser:
        threading.Timer(1.5, webbrowser.open, args=(links["student"],)).start()
    try:
        if app is not None:
            uvicorn.Server(uvicorn_config(app, host=host, port=port)).run()
        else:
            config = uvicorn_config(FACTORY, host=host, port=port, workers=workers, factory=True)
            supervise(config, [listening_socket(host, port) for _ in range(workers)])
    finally:
        stop_worker.set()


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port`` beside others of this user on the same port
    (``SO_REUSEPORT``): the kernel spreads new connections evenly over them."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def supervise(config: uvicorn.Config, sockets: list[socket.socket]) -> None:
    """One web process per socket until SIGINT or SIGTERM; one that dies or stops answering
    its health check is replaced on the same socket.

    Web processes sharing one listening socket do not share its connections: the first to
    wake accepts every connection waiting, and a client's connection stays with the process
    that accepted it, so that clients connecting at once could all be served by one process
    while the others idled. With a socket each, the kernel balances them."""
    from uvicorn.config import STARTUP_FAILURE
    from uvicorn.supervisors.multiprocess import Process

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    def started(sock: socket.socket) -> Process:
        process = Process(config, [sock])
        process.start()
        return process

    processes = [started(sock) for sock in sockets]
    while not stop.wait(0.5):
        for i, process in enumerate(processes):
            if process.is_alive(timeout=config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:  # it would fail again: stop serving
                stop.set()
                break
            processes[i] = started(sockets[i])
    for process in processes:
        process.terminate()
    for process in processes:
        process.join()
