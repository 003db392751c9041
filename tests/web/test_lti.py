"""LTI 1.3 launches from a platform simulated here: its own RSA keys, its signed id_tokens."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from learnway.cli import app as cli
from learnway.store import transaction
from learnway.store._schema import User
from learnway.web._models import LtiLaunchState, LtiPlatform
from web.support import engine_of

ISSUER = "https://lms.example.edu"
CLIENT = "learnway-client-1"
DEPLOYMENT = "deployment-1"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


class Platform:
    """A platform: signs id_tokens with its private key; publishes the public one as a JWKS."""

    def __init__(self, kid: str = "key-1") -> None:
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def id_token(self, nonce: str, person: str, changes: dict[str, Any] | None = None) -> str:
        now = dt.datetime.now(dt.UTC)
        claims = {
            "iss": ISSUER, "aud": CLIENT, "sub": "lms-user-7", "nonce": nonce,
            "iat": now, "exp": now + dt.timedelta(minutes=5),
            CLAIM + "message_type": "LtiResourceLinkRequest", CLAIM + "version": "1.3.0",
            CLAIM + "deployment_id": DEPLOYMENT,
            CLAIM + "resource_link": {"id": "link-1"},
            CLAIM + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"],
            CLAIM + "lis": {"person_sourcedid": person},
        }  # fmt: skip
        claims.update(changes or {})
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture
def platform(app: FastAPI, tmp_path: Path) -> Platform:
    """A platform registered through the command line, on the test's database."""
    made = Platform()
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps(made.jwks()))
    url = engine_of(app).url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        cli,
        ["add-lti-platform", "--issuer", ISSUER, "--client-id", CLIENT,
         "--auth-url", f"{ISSUER}/auth", "--jwks", str(keys), "--deployment", DEPLOYMENT,
         "--database", url],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return made


def _login(client: TestClient) -> dict[str, str]:
    """The login initiation; returns the parameters sent on to the platform's auth endpoint."""
    response = client.post(
        "/lti/login",
        data={"iss": ISSUER, "login_hint": "7", "target_link_uri": "http://testserver/lti/launch",
              "lti_message_hint": "m", "client_id": CLIENT},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 302, response.text
    target = urlsplit(response.headers["location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{ISSUER}/auth"
    return {k: v[0] for k, v in parse_qs(target.query).items()}


def _sourced_id(app: FastAPI, username: str) -> str:
    with transaction(engine_of(app)) as session:
        found = session.scalar(select(User.sourced_id).where(User.username == username))
    assert found is not None
    return found


def test_a_launch_signs_the_person_in_and_opens_their_page(
    app: FastAPI, platform: Platform
) -> None:
    client = TestClient(app)
    sent = _login(client)
    assert sent["client_id"] == CLIENT and sent["response_mode"] == "form_post"
    assert (
        sent["redirect_uri"] == "http://testserver/lti/launch" and sent["lti_message_hint"] == "m"
    )
    token = platform.id_token(sent["nonce"], _sourced_id(app, "student01"))
    launch = client.post(
        "/lti/launch", data={"id_token": token, "state": sent["state"]}, follow_redirects=False
    )
    assert launch.status_code == 303, launch.text
    assert launch.headers["location"].endswith("/path")
    me = client.get("/api/v1/me").json()["user"]
    assert me["username"] == "student01"
    # the same launch cannot be used twice
    again = TestClient(app).post("/lti/launch", data={"id_token": token, "state": sent["state"]})
    assert again.status_code == 403 and "already used" in again.text


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"aud": "someone-else"}, "not valid"),
        ({"iss": "https://evil.example"}, "not valid"),
        ({"exp": dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)}, "not valid"),
        ({"nonce": "not-the-nonce"}, "nonce"),
        ({CLAIM + "deployment_id": "deployment-9"}, "deployment"),
        ({CLAIM + "message_type": "LtiDeepLinkingRequest"}, "resource link"),
        ({CLAIM + "version": "1.1"}, "1.3.0"),
        ({CLAIM + "lis": {"person_sourcedid": "nobody-here"}}, "not in Learnway"),
        ({CLAIM + "lis": {}}, "person_sourcedid"),
    ],
)
def test_a_launch_that_fails_a_check_signs_no_one_in(
    app: FastAPI, platform: Platform, change: dict[str, Any], reason: str
) -> None:
    client = TestClient(app)
    sent = _login(client)
    token = platform.id_token(sent["nonce"], _sourced_id(app, "student01"), change)
    launch = client.post("/lti/launch", data={"id_token": token, "state": sent["state"]})
    assert launch.status_code == 403 and reason in launch.text, launch.text
    assert client.get("/api/v1/me").status_code == 401
    with transaction(engine_of(app)) as session:  # the state is spent all the same
        assert session.scalar(select(func.count()).select_from(LtiLaunchState)) == 0


def test_a_token_signed_with_another_key_is_refused(app: FastAPI, platform: Platform) -> None:
    client = TestClient(app)
    sent = _login(client)
    forged = Platform(kid=platform.kid).id_token(sent["nonce"], _sourced_id(app, "teacher"))
    launch = client.post("/lti/launch", data={"id_token": forged, "state": sent["state"]})
    assert launch.status_code == 403 and "Signature verification failed" in launch.text
    assert client.get("/api/v1/me").status_code == 401


def test_unknown_platforms_and_malformed_requests(app: FastAPI, platform: Platform) -> None:
    client = TestClient(app)
    unknown = client.get(
        "/lti/login",
        params={"iss": "https://other.example", "login_hint": "x", "target_link_uri": "y"},
        follow_redirects=False,
    )
    assert unknown.status_code == 403 and "is not registered" in unknown.text
    assert client.get("/lti/login", params={"iss": ISSUER}).status_code == 422
    assert client.post("/lti/launch", data={"state": "x"}).status_code == 422
    stale = client.post("/lti/launch", data={"id_token": "a.b.c", "state": "never-issued"})
    assert stale.status_code == 403 and "unknown" in stale.text
    with transaction(engine_of(app)) as session:
        assert session.scalar(select(func.count()).select_from(LtiPlatform)) == 1
