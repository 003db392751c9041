"""Helpers of the web tests: applications on a demo school, and signed-in clients."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from learnway.settings import Settings
from learnway.store import transaction
from learnway.store._schema import User
from learnway.web import DEMO_PASSWORD, create_app, set_demo_passwords

SETTINGS = Settings(secret_key="test-secret-key-for-the-web-tests-0123456789")


def make_app(engine: Engine) -> FastAPI:
    set_demo_passwords(engine)
    return create_app(engine, settings=SETTINGS)


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def browser_client(app: FastAPI, username: str, password: str = DEMO_PASSWORD) -> TestClient:
    """A client signed in through the sign-in form, holding the session cookie."""
    client = TestClient(app)
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def api_client(app: FastAPI, username: str, password: str = DEMO_PASSWORD) -> TestClient:
    """A client holding a bearer token."""
    client = TestClient(app)
    response = client.post("/api/v1/tokens", json={"username": username, "password": password})
    assert response.status_code == 201, response.text
    client.headers["Authorization"] = f"Bearer {response.json()['token']}"
    return client


def user_id(engine: Engine, username: str) -> int:
    with transaction(engine) as session:
        found = session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found


def engine_of(app: FastAPI) -> Engine:
    engine: Engine = app.state.web.engine
    return engine


def counts(engine: Engine, *tables: Any) -> dict[str, int]:
    with transaction(engine) as session:
        return {
            t.__tablename__: session.scalar(select(func.count()).select_from(t)) or 0
            for t in tables
        }
