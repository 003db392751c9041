"""Sign-in, the session cookie, CSRF, bearer tokens, sign-out and the sign-in rate limit."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from learnway.store import transaction
from learnway.store._schema import User
from learnway.web import DEMO_PASSWORD, create_app
from learnway.web._models import SignInLimit
from learnway.web._security import RateLimiter, verify_password
from web.support import api_client, browser_client, csrf_of, engine_of


def test_passwords_are_argon2_hashes(app: FastAPI) -> None:
    with transaction(engine_of(app)) as session:
        hashed = session.scalar(select(User.password_hash).where(User.username == "teacher"))
    assert hashed is not None and hashed.startswith("$argon2")
    assert verify_password(hashed, DEMO_PASSWORD)
    assert not verify_password(hashed, "wrong")


def test_session_cookie_is_signed_httponly_and_samesite(app: FastAPI) -> None:
    client = TestClient(app)
    page = client.get("/login?username=student01")
    assert 'value="student01"' in page.text
    response = client.post(
        "/login",
        data={"username": "student01", "password": DEMO_PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("learnway_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert response.headers["location"].endswith("/path")
    # a cookie whose signature does not match is no sign-in at all
    forged = TestClient(app, cookies={"learnway_session": "not-a-signed-value"})
    assert forged.get("/api/v1/me").status_code == 401
    assert forged.get("/students", follow_redirects=False).status_code == 303


def test_sign_in_form_needs_its_csrf_token(app: FastAPI) -> None:
    client = TestClient(app)
    response = client.post("/login", data={"username": "teacher", "password": DEMO_PASSWORD})
    assert response.status_code == 403
    assert "expired" in response.text


def test_forms_need_the_csrf_token(app: FastAPI) -> None:
    client = browser_client(app, "student01")
    me = client.get("/api/v1/me").json()["user"]["id"]
    refused = client.post(f"/students/{me}/interests", data={"interests": ["music"]})
    assert refused.status_code == 403
    assert "security token" in refused.text
    page = client.get(f"/students/{me}/interests")
    accepted = client.post(
        f"/students/{me}/interests",
        data={"interests": ["music"], "csrf_token": csrf_of(page.text)},
    )
    assert accepted.status_code == 200
    assert client.get(f"/api/v1/students/{me}/interests").json()["interests"] == ["music"]


def test_bearer_tokens_and_sign_out(app: FastAPI) -> None:
    client = api_client(app, "teacher")
    assert client.get("/api/v1/me").json()["user"]["role"] == "teacher"
    assert client.delete("/api/v1/tokens/current").status_code == 204
    assert client.get("/api/v1/me").status_code == 401
    browser = browser_client(app, "teacher")
    page = browser.get("/sections")
    response = browser.post(
        "/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert response.status_code == 303
    # the old cookie is revoked on the server, not only deleted in the browser
    stale = TestClient(
        app, cookies={"learnway_session": browser.cookies.get("learnway_session") or ""}
    )
    assert stale.get("/api/v1/me").status_code == 401


def test_wrong_password_and_rate_limit(app: FastAPI) -> None:
    client = TestClient(app)
    for _ in range(5):
        wrong = client.post("/api/v1/tokens", json={"username": "teacher", "password": "nope"})
        assert wrong.status_code == 401
        assert "not right" in wrong.json()["detail"]
    limited = client.post("/api/v1/tokens", json={"username": "teacher", "password": DEMO_PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    # another account is not locked out by these failures
    assert (
        client.post(
            "/api/v1/tokens", json={"username": "principal", "password": DEMO_PASSWORD}
        ).status_code
        == 201
    )


def test_a_nul_character_is_refused_before_the_database(app: FastAPI) -> None:
    """PostgreSQL cannot store or compare text holding NUL: a clear 422, never a server error."""
    client = TestClient(app)
    token = client.post("/api/v1/tokens", json={"username": "teacher\x00", "password": "x"})
    assert token.status_code == 422 and "NUL" in token.json()["detail"]
    page = client.get("/login")
    form = client.post(
        "/login",
        data={"username": "teacher\x00", "password": "x", "csrf_token": csrf_of(page.text)},
    )
    assert form.status_code == 422 and "NUL" in form.text and "<form" in form.text
    for address in ("/login?next=%00", "/practice/a%00b", "/api/v1/items/a%00b"):
        response = client.get(address)
        assert response.status_code == 422, address
        assert response.headers["x-frame-options"] == "DENY"
    with transaction(engine_of(app)) as session:
        assert session.scalars(select(SignInLimit.key)).all() == []


def test_security_headers(app: FastAPI) -> None:
    response = TestClient(app).get("/login")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


def test_failed_sign_ins_are_shared_by_every_server_process(app: FastAPI) -> None:
    """Two applications on one database (two server processes) count the same checks."""
    other = create_app(engine_of(app), settings=app.state.web.settings)
    first, second = TestClient(app), TestClient(other)
    wrong = {"username": "teacher", "password": "nope"}
    for client in (first, second, first, second, first):
        assert client.post("/api/v1/tokens", json=wrong).status_code == 401
    right = {"username": "teacher", "password": DEMO_PASSWORD}
    refused = second.post("/api/v1/tokens", json=right)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    with transaction(engine_of(app)) as session:
        checks = session.scalar(select(SignInLimit.checks).where(SignInLimit.key == "user:teacher"))
    assert checks == 5  # kept although each request was refused


def test_the_delay_grows_and_ends_and_a_success_clears_it(app: FastAPI) -> None:
    now = [1_000_000.0]
    limiter = RateLimiter(limit=2, window_s=60.0, max_window_s=200.0, clock=lambda: now[0])
    with transaction(engine_of(app)) as session:
        assert limiter.reserve(session, "user:a") == 0
        now[0] += 30
        assert limiter.reserve(session, "user:a") == 0
        assert limiter.reserve(session, "user:a") == pytest.approx(30)  # the window's end
        assert limiter.reserve(session, "user:b") == 0
        now[0] += 31
        assert limiter.reserve(session, "user:a") == 0  # a new window, twice as long
        assert limiter.reserve(session, "user:a") == 0
        assert limiter.reserve(session, "user:a") == pytest.approx(120)
        now[0] += 121
        assert limiter.reserve(session, "user:a") == 0
        assert limiter.reserve(session, "user:a") == 0
        assert limiter.reserve(session, "user:a") == pytest.approx(200)  # at most max_window_s
        limiter.succeeded(session, "user:a")
        assert limiter.reserve(session, "user:a") == 0
        row = session.get(SignInLimit, "user:a")
        assert row is not None and row.window_s == 60.0  # a success starts again
        now[0] += 1000
        limiter.forget_old(session)
        assert session.scalars(select(SignInLimit.key)).all() == []
