"""Serving the application with uvicorn (``learnway serve`` and the end of ``learnway demo``)."""

from __future__ import annotations

import threading
import webbrowser
from collections.abc import Callable

from sqlalchemy import Engine

from learnway.web._demo import DEMO_PASSWORD
from learnway.web._demo import sign_in_links as demo_links


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

    from learnway.web._app import create_app

    app = create_app(engine_url)
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
    uvicorn.run(app, host=host, port=port, log_level="warning")
