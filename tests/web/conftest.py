"""Fixtures of the web tests: the application on a demo school.

Tests that write get a database of their own (``demo_engine``, on SQLite and PostgreSQL);
read-mostly tests (the authorization matrix, the API fuzzer, the browser journeys) share one
copy per module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from web.support import make_app


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a real Chromium through Playwright")


@pytest.fixture
def app(demo_engine: Engine) -> FastAPI:
    """The application on a demo school of its own (each backend)."""
    return make_app(demo_engine)


@pytest.fixture(scope="module")
def shared_app(demo_template: Callable[[], Engine]) -> Iterator[FastAPI]:
    """The application on one demo school shared by a module's tests."""
    engine = demo_template()
    yield make_app(engine)
    engine.dispose()
