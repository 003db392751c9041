"""Property-based fuzzing of the JSON API from its OpenAPI document (schemathesis).

Every operation is called with generated input as a teacher and as a student: no answer may be
a server error, and every answer must match the status codes, content types and schemas the
document declares. Examples per operation stay few so that the run takes well under a minute.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from learnway.web import DEMO_PASSWORD, create_app
from web.support import SETTINGS

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# revoking the token (or every token) would sign the fuzzer out half-way
SKIPPED = {"DELETE /api/v1/tokens/current", "DELETE /api/v1/tokens"}
FUZZ = settings(
    max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)


def _operations(app: FastAPI) -> dict[str, Any]:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    found = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.label not in SKIPPED:
            found[operation.label] = operation
    return found


LABELS = sorted(_operations(create_app("sqlite://", settings=SETTINGS)))


@pytest.fixture(scope="module")
def operations(shared_app: FastAPI) -> dict[str, Any]:
    return _operations(shared_app)


@pytest.fixture(scope="module")
def tokens(shared_app: FastAPI) -> dict[str, str]:
    client = TestClient(shared_app)
    out = {}
    for username in ("teacher", "student01"):
        body = {"username": username, "password": DEMO_PASSWORD}
        response = client.post("/api/v1/tokens", json=body)
        assert response.status_code == 201
        out[username] = response.json()["token"]
    return out


@pytest.mark.parametrize("label", LABELS)
def test_operation(label: str, operations: dict[str, Any], tokens: dict[str, str]) -> None:
    operation = operations[label]

    for username, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"}

        @FUZZ
        @given(case=operation.as_strategy())
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)  # noqa: B023 (run at once)

        try:
            fuzz()
        except Exception as exc:
            exc.add_note(f"as {username}")
            raise
