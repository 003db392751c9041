"""LTI 1.3 launches from a platform simulated here: its own RSA keys, its signed id_tokens.

The refusals of a plain launch, then LTI Advantage's checks one at a time (the end-to-end
journey against a third-party platform is test_lti_platform.py)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text
from typer.testing import CliRunner

from learnway.cli import app as cli
from learnway.settings import Settings
from learnway.store import transaction
from learnway.store._schema import Enrollment, Section, User
from learnway.web import create_app
from learnway.web._lti_models import LtiAccount, LtiContext, LtiLink, LtiScore
from learnway.web._lti_register import registration_code
from learnway.web._lti_services import send_scores
from learnway.web._models import LtiLaunchState, LtiPlatform
from web.lti_platform import serve
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


def _login(client: TestClient, target_link: str = "http://testserver/lti/launch") -> dict[str, str]:
    """The login initiation; returns the parameters sent on to the platform's auth endpoint."""
    response = client.post(
        "/lti/login",
        data={"iss": ISSUER, "login_hint": "7", "target_link_uri": target_link,
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


# --- LTI Advantage: the browser, the target, the keys, framing, roles ------------------------


def test_a_login_begun_in_one_browser_cannot_be_completed_in_another(
    app: FastAPI, platform: Platform
) -> None:
    """The state travels in the URL, so whoever sees it (a link shared, a log) could complete
    the launch in their own browser and be signed in as the person: the cookie set by the
    login must come back with the launch."""
    victim, other = TestClient(app), TestClient(app)
    sent = _login(victim)
    token = platform.id_token(sent["nonce"], _sourced_id(app, "student01"))
    stolen = other.post("/lti/launch", data={"id_token": token, "state": sent["state"]})
    assert stolen.status_code == 403 and "not begun in this browser" in stolen.text
    assert other.get("/api/v1/me").status_code == 401
    again = victim.post("/lti/launch", data={"id_token": token, "state": sent["state"]})
    assert again.status_code == 403 and "already used" in again.text  # spent all the same


def test_the_state_cookie_goes_with_a_cross_site_launch_in_production(
    demo_engine: Engine, platform: Platform
) -> None:
    settings = Settings(environment="production", secret_key="p" * 40)
    client = TestClient(create_app(demo_engine, settings=settings), base_url="https://testserver")
    response = client.post(
        "/lti/login",
        data={"iss": ISSUER, "login_hint": "7", "target_link_uri": "https://testserver/lti/launch",
              "client_id": CLIENT},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 302, response.text
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("learnway_lti_")
    for part in ("httponly", "secure", "samesite=none", "path=/lti/", "max-age=600"):
        assert part in cookie, cookie


def test_the_target_link_uri_must_be_learnways_and_is_honoured(
    app: FastAPI, platform: Platform
) -> None:
    client = TestClient(app)
    away = client.post(
        "/lti/login",
        data={"iss": ISSUER, "login_hint": "7", "target_link_uri": "https://evil.example/x"},
    )
    assert away.status_code == 403 and "not an address of this Learnway" in away.text
    for elsewhere in ("http://testserver//evil.example/x", "http://testserver/\\evil.example"):
        sideways = client.post(
            "/lti/login", data={"iss": ISSUER, "login_hint": "7", "target_link_uri": elsewhere}
        )
        assert sideways.status_code == 403 and "not a Learnway page" in sideways.text
    sent = _login(client, target_link="http://testserver/students")
    teacher = _sourced_id(app, "teacher")
    launch = client.post(
        "/lti/launch",
        data={"id_token": platform.id_token(sent["nonce"], teacher), "state": sent["state"]},
        follow_redirects=False,
    )
    assert launch.status_code == 303 and launch.headers["location"] == "/students"
    # the token must name the target of its login
    sent = _login(client, target_link="http://testserver/students")
    changed = {CLAIM + "target_link_uri": "http://testserver/sections"}
    token = platform.id_token(sent["nonce"], teacher, changed)
    refused = client.post("/lti/launch", data={"id_token": token, "state": sent["state"]})
    assert refused.status_code == 403 and "target_link_uri" in refused.text


def _section_of(app: FastAPI, username: str) -> tuple[int, str]:
    with transaction(engine_of(app)) as session:
        found = session.execute(
            select(Section.id, Section.sourced_id)
            .join(Enrollment, Enrollment.section_id == Section.id)
            .join(User, User.id == Enrollment.user_id)
            .where(User.username == username)
            .order_by(Section.id)
        ).first()
    assert found is not None
    return found[0], found[1]


INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"


@pytest.mark.parametrize(
    ("username", "role", "lands"),
    [
        ("teacher", INSTRUCTOR, "heatmap"),
        ("teacher", "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner", "/sections"),
        ("student01", INSTRUCTOR, "/path"),  # an LMS role never gives more than the roster
    ],
)
def test_lti_roles_choose_where_a_launch_lands(
    app: FastAPI, platform: Platform, username: str, role: str, lands: str
) -> None:
    section_id, section = _section_of(app, username)
    client = TestClient(app)
    sent = _login(client)
    claims = {
        CLAIM + "roles": [role],
        CLAIM + "context": {"id": "course-7", "title": "Algebra"},
        CLAIM + "lis": {"person_sourcedid": _sourced_id(app, username),
                        "course_section_sourcedid": section},
    }  # fmt: skip
    token = platform.id_token(sent["nonce"], "", claims)
    launch = client.post(
        "/lti/launch", data={"id_token": token, "state": sent["state"]}, follow_redirects=False
    )
    assert launch.status_code == 303, launch.text
    if lands == "heatmap":
        assert launch.headers["location"] == f"/sections/{section_id}/heatmap"
        assert client.get(launch.headers["location"]).status_code == 200
    else:
        assert launch.headers["location"].endswith(lands)


def _deep_linking(app: FastAPI, platform: Platform, username: str, role: str) -> Any:
    client = TestClient(app)
    sent = _login(client)
    claims = {
        CLAIM + "message_type": "LtiDeepLinkingRequest",
        CLAIM + "roles": [role],
        CLAIM + "context": {"id": "course-7", "title": "Algebra"},
        "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings": {
            "deep_link_return_url": f"{ISSUER}/dl-return",
            "accept_types": ["ltiResourceLink"],
        },
        CLAIM + "lis": {"person_sourcedid": _sourced_id(app, username),
                        "course_section_sourcedid": _section_of(app, "teacher")[1]},
    }  # fmt: skip
    token = platform.id_token(sent["nonce"], "", claims)
    return client.post("/lti/launch", data={"id_token": token, "state": sent["state"]})


def test_only_registered_platforms_may_frame_the_lti_pages(
    app: FastAPI, platform: Platform
) -> None:
    picker = _deep_linking(app, platform, "teacher", INSTRUCTOR)
    assert picker.status_code == 200 and 'name="competency"' in picker.text
    policy = picker.headers["content-security-policy"]
    assert f"frame-ancestors {ISSUER};" in policy and "x-frame-options" not in picker.headers
    assert "script-src 'self'" in policy and "default-src 'self'" in policy
    for page in ("/login", "/lti/jwks"):  # the rest keeps refusing to be framed
        answer = TestClient(app).get(page)
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert answer.headers["x-frame-options"] == "DENY"
    refused = _deep_linking(app, platform, "student01", INSTRUCTOR)
    assert refused.status_code == 403 and "instructors" in refused.text
    assert "frame-ancestors 'none'" in refused.headers["content-security-policy"]


def test_a_deep_link_answer_is_a_signed_jwt_for_the_platform(
    app: FastAPI, platform: Platform
) -> None:
    picker = _deep_linking(app, platform, "teacher", INSTRUCTOR)
    ticket = re.search(r'name="ticket" value="([^"]+)"', picker.text)
    competencies = re.findall(r'name="competency" value="(\d+)"', picker.text)[:3]
    assert ticket and competencies
    client = TestClient(app)
    tampered = client.post("/lti/deep-link", data={"ticket": ticket.group(1) + "x",
                                                  "competency": competencies})  # fmt: skip
    assert tampered.status_code == 422 and "expired or was altered" in tampered.text
    answer = client.post(
        "/lti/deep-link", data={"ticket": ticket.group(1), "competency": competencies}
    )
    assert answer.status_code == 200, answer.text
    assert f"form-action 'self' {ISSUER}" in answer.headers["content-security-policy"]
    jwt_value = re.search(r'name="JWT" value="([^"]+)"', answer.text)
    assert jwt_value
    keys = jwt.PyJWKSet.from_dict(client.get("/lti/jwks").json())
    kid = jwt.get_unverified_header(jwt_value.group(1))["kid"]
    key = next(k for k in keys.keys if k.key_id == kid)
    claims = jwt.decode(jwt_value.group(1), key.key, algorithms=["RS256"], audience=ISSUER)
    assert claims["iss"] == CLIENT and claims[CLAIM + "deployment_id"] == DEPLOYMENT
    assert claims[CLAIM + "message_type"] == "LtiDeepLinkingResponse"
    (item,) = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink" and item["lineItem"]["scoreMaximum"] == 100
    with transaction(engine_of(app)) as session:
        link = session.scalars(select(LtiLink)).one()
        assert link.competency_ids == [int(c) for c in competencies]
        assert item["custom"] == {"learnway_link": link.key}
    assert all("d" not in k for k in client.get("/lti/jwks").json()["keys"])  # public only


def test_a_framed_launch_continues_in_a_window_of_its_own(app: FastAPI, platform: Platform) -> None:
    client = TestClient(app)
    sent = _login(client)
    claims = {CLAIM + "launch_presentation": {"document_target": "iframe"}}
    token = platform.id_token(sent["nonce"], _sourced_id(app, "student01"), claims)
    framed = client.post("/lti/launch", data={"id_token": token, "state": sent["state"]})
    assert (
        framed.status_code == 200
        and f"frame-ancestors {ISSUER}" in (framed.headers["content-security-policy"])
    )
    ticket = re.search(r'name="ticket" value="([^"]+)"', framed.text)
    assert ticket and client.get("/api/v1/me").status_code == 401  # not signed in in the frame
    window = TestClient(app)
    bad = window.post("/lti/continue", data={"ticket": ticket.group(1)[:-2]})
    assert bad.status_code == 403
    opened = window.post("/lti/continue", data={"ticket": ticket.group(1)}, follow_redirects=False)
    assert opened.status_code == 303 and opened.headers["location"].endswith("/path")
    assert window.get("/api/v1/me").json()["user"]["username"] == "student01"


def test_keys_from_the_platforms_url_are_cached_and_fetched_again_for_a_new_kid(
    app: FastAPI, tmp_path: Path
) -> None:
    old, new, forged = Platform("key-1"), Platform("key-2"), Platform("key-3")
    served = {"keys": old.jwks()["keys"]}
    fetched: list[int] = []
    keys_app = FastAPI()

    @keys_app.get("/jwks")
    def keys() -> dict[str, Any]:
        fetched.append(1)
        return served

    url = engine_of(app).url.render_as_string(hide_password=False)
    with serve(keys_app) as base:
        result = CliRunner().invoke(
            cli,
            ["add-lti-platform", "--issuer", ISSUER, "--client-id", CLIENT,
             "--auth-url", f"{ISSUER}/auth", "--jwks-url", f"{base}/jwks",
             "--deployment", DEPLOYMENT, "--database", url],
        )  # fmt: skip
        assert result.exit_code == 0, result.output

        def launch(signer: Platform) -> int:
            client = TestClient(app)
            sent = _login(client)
            token = signer.id_token(sent["nonce"], _sourced_id(app, "student01"))
            return client.post(
                "/lti/launch", data={"id_token": token, "state": sent["state"]},
                follow_redirects=False,
            ).status_code  # fmt: skip

        def a_minute_passes() -> None:
            with transaction(engine_of(app)) as session:
                row = session.scalars(select(LtiPlatform)).one()
                assert row.jwks_fetched_at is not None
                row.jwks_fetched_at -= dt.timedelta(minutes=1)

        assert launch(old) == 303 and len(fetched) == 1
        assert launch(old) == 303 and len(fetched) == 1  # cached
        a_minute_passes()
        served["keys"] = new.jwks()["keys"]  # the platform rotates its key
        assert launch(new) == 303 and len(fetched) == 2  # unknown kid: fetched again
        assert launch(forged) == 403 and len(fetched) == 2  # not again within 30 s
        a_minute_passes()
        assert launch(forged) == 403 and len(fetched) == 3  # then once more, and refused


def test_dynamic_registration_needs_a_code_from_an_administrator(app: FastAPI) -> None:
    client = TestClient(app)
    answer = client.get(
        "/lti/register",
        params={"code": "guessed", "openid_configuration": "https://lms.example.edu/.well-known"},
    )
    assert answer.status_code == 403 and "unknown, used or expired" in answer.text
    assert client.get("/lti/register").status_code == 422
    with transaction(engine_of(app)) as session:
        code = registration_code(session)
    for _ in range(2):  # a registration that fails leaves its code for another try
        failed = client.get(
            "/lti/register",
            params={"code": code, "openid_configuration": "http://127.0.0.1:9/configuration"},
        )
        assert failed.status_code == 403 and "could not be read" in failed.text, failed.text
    with transaction(engine_of(app)) as session:
        assert session.scalar(select(func.count()).select_from(LtiPlatform)) == 0


def test_a_score_another_worker_is_sending_is_left_to_it(app: FastAPI, platform: Platform) -> None:
    """On PostgreSQL a worker claims the pending scores it sends (FOR UPDATE SKIP LOCKED): a
    second worker skips a row the first holds instead of posting it again. SQLite serializes
    writers, so there the row is simply taken."""
    engine = engine_of(app)
    with transaction(engine) as session:
        row = session.scalars(select(LtiPlatform)).one()
        row.token_url = "http://127.0.0.1:9/token"  # nothing listens: a try fails at once
        teacher = session.scalars(select(User).where(User.username == "teacher")).one()
        student = session.scalars(select(User).where(User.username == "student01")).one()
        context = LtiContext(platform_id=row.id, context_id="c-1", title="C")
        session.add(context)
        session.flush()
        link = LtiLink(
            key="k",
            context_id=context.id,
            title="T",
            competency_ids=[1],
            lineitem_url="http://127.0.0.1:9/lineitems/1",
            created_by_id=teacher.id,
        )
        session.add_all([link, LtiAccount(platform_id=row.id, sub="s-1", user_id=student.id)])
        session.flush()
        session.add(LtiScore(link_id=link.id, user_id=student.id, score=50.0))  # fmt: skip
    postgres = engine.dialect.name == "postgresql"
    with engine.connect() as holder:
        holder.begin()
        if postgres:
            holder.execute(select(LtiScore).with_for_update())
            with transaction(engine) as session:
                session.execute(text("SET LOCAL lock_timeout = '5s'"))
                skipped = send_scores(session)
            assert (skipped.sent, skipped.retrying) == (0, 0)
        holder.rollback()
    with transaction(engine) as session:
        taken = send_scores(session)
    assert (taken.sent, taken.retrying) == (0, 1) and "failed" in taken.errors[0]


def test_a_registration_by_hand_names_its_keys_once(app: FastAPI, tmp_path: Path) -> None:
    url = engine_of(app).url.render_as_string(hide_password=False)
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps(Platform().jwks()))
    base = ["add-lti-platform", "--issuer", ISSUER, "--client-id", CLIENT, "--auth-url",
            f"{ISSUER}/auth", "--deployment", DEPLOYMENT, "--database", url]  # fmt: skip
    for extra, reason in [
        ([], "one of them"),
        (["--jwks", str(keys), "--jwks-url", f"{ISSUER}/jwks"], "one of them"),
        (["--jwks-url", "http://lms.example.edu/jwks"], "not an HTTPS address"),
        (["--jwks", str(keys), "--frame-ancestor", "https://lms.example.edu/path"], "origins"),
        (["--jwks", str(keys), "--school", "no-such-school"], "No school"),
    ]:
        result = CliRunner().invoke(cli, [*base, *extra])
        assert result.exit_code == 1 and reason in " ".join(result.output.split()), result.output
    with transaction(engine_of(app)) as session:
        assert session.scalar(select(func.count()).select_from(LtiPlatform)) == 0
