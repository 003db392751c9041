"""Response headers: Permissions-Policy always, HSTS in production only, no ``Server`` header
from the real server; and the API docs page, served from vendored Swagger UI under the content
security policy, renders in a real browser."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from learnway.settings import Settings
from learnway.web import create_app
from learnway.web._serve import uvicorn_config

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
STATIC = Path(__file__).resolve().parents[2] / "src" / "learnway" / "web" / "static"
ON_SQLITE = pytest.mark.parametrize("demo_template", ["sqlite"], indirect=True, scope="session")


def _settings(environment: str) -> Settings:
    return Settings(environment=environment, secret_key="k" * 40)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def engine(demo_template: object) -> Iterator[Engine]:
    made: Engine = demo_template()  # type: ignore[operator]
    yield made
    made.dispose()


@ON_SQLITE
@pytest.mark.parametrize("environment", ["development", "production"])
def test_security_headers(engine: Engine, environment: str) -> None:
    client = TestClient(create_app(engine, settings=_settings(environment)))
    for path in ("/login", "/api/v1/openapi.json", "/api/v1/docs"):
        headers = client.get(path).headers
        assert "camera=()" in headers["permissions-policy"], path
        assert "script-src 'self'" in headers["content-security-policy"], path
        hsts = headers.get("strict-transport-security")
        if environment == "production":
            assert hsts == "max-age=31536000; includeSubDomains", path
        else:
            assert hsts is None, "HSTS would pin plain-HTTP development servers to HTTPS"


@pytest.fixture(scope="module")
def served(engine: Engine) -> Iterator[str]:
    """The application served as ``learnway serve`` serves it, on 127.0.0.1."""
    app: FastAPI = create_app(engine, settings=_settings("development"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(app, host="127.0.0.1", port=port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@ON_SQLITE
def test_the_server_names_no_software(served: str) -> None:
    for path in ("/login", "/api/v1/me", "/static/app.css", "/no-such-page"):
        response = httpx.get(served + path)
        assert "server" not in response.headers, (path, response.headers.get("server"))
        assert response.headers.get("date")


def test_the_docs_page_loads_only_vendored_assets_with_their_licence() -> None:
    vendor = STATIC / "vendor" / "swagger-ui"
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "LICENSE", "NOTICE"):
        assert (vendor / name).is_file(), name
    assert "Apache License" in (vendor / "LICENSE").read_text()
    script = (STATIC / "apidocs.js").read_text()
    assert "http" not in script, "the docs page fetches nothing from elsewhere"


def _require_chromium() -> None:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        message = f"the browser test needs {CHROMIUM}: run tests/web/install_browser_deps.sh"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@ON_SQLITE
@pytest.mark.browser
def test_the_api_docs_render_under_the_content_security_policy(served: str) -> None:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()  # the CSP is enforced: no bypass
            blocked: list[str] = []
            page.on("console", lambda m: blocked.append(m.text) if "Content Security" in m.text
                    or "Refused" in m.text else None)  # fmt: skip
            outside: list[str] = []
            page.on("request", lambda r: outside.append(r.url)
                    if not r.url.startswith((served, "data:")) else None)  # fmt: skip
            page.goto(f"{served}/api/v1/docs")
            page.wait_for_selector(".opblock-tag", timeout=20_000)
            text = page.inner_text("#swagger-ui")
            assert "Learnway" in text
            tags = page.locator(".opblock-tag").all_inner_texts()
            assert any("practice" in t.lower() for t in tags), tags
            assert page.locator(".opblock").count() > 20
            assert not blocked, blocked
            assert not outside, outside
        finally:
            browser.close()
