"""Serving the application with uvicorn (``learnway serve`` and the end of ``learnway demo``)."""

from __future__ import annotations

import threading
import webbrowser
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine

from learnway.web._demo import DEMO_PASSWORD
from learnway.web._demo import sign_in_links as demo_links

if TYPE_CHECKING:
    import uvicorn


def uvicorn_config(app: Any, *, host: str, port: int) -> uvicorn.Config:
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
    )


def serve(
    engine_url: str | Engine | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    open_browser: bool = False,
    sign_in_links: bool = False,
    echo: Callable[[str], None] | None = None,
) -> None:
    """Serve Learnway on ``host:port`` until interrupted.

    With ``sign_in_links``, print sign-in links for the demo's student, teacher and leader (password
    :data:`DEMO_PASSWORD`); with ``open_browser``, open the student's link once the server is up.
    """
    import uvicorn

    from learnway._logging import configure_logging
    from learnway.web._app import create_app
    from learnway.worker import start

    app = create_app(engine_url)
    configure_logging(production=app.state.web.settings.environment == "production")
    app.state.web.checker.warm()
    _, stop_worker = start(app.state.web.engine)
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
        uvicorn.Server(uvicorn_config(app, host=host, port=port)).run()
    finally:
        stop_worker.set()
