"""An LTI 1.3 platform (an LMS) built from the third-party package ``lti1p3platform``, served on
loopback by uvicorn, for the end-to-end tests of LTI Advantage.

What is ``lti1p3platform``'s: the platform's registration and keys (``Registration``, its JWKS),
the login initiation URL (``OIDCLoginAbstract.prepare_preflight_url``), the launch messages and
their signing (``LTIAdvantageMessageLaunchAbstract`` with ``set_dl``, ``set_ags``,
``set_nrps``), the OAuth 2 token endpoint that checks Learnway's client assertion against
Learnway's published JWKS (``get_access_token``), the check of the deep linking response
(``validate_deeplinking_resp``, again against Learnway's JWKS), and the request handling of the
Assignment and Grade Services and of Names and Role Provisioning (``AssignmentsGradesService``
and ``NamesRoleProvisioningService``: bearer token checks, scopes, media types).

What is written here: the storage those abstract classes leave to the LMS (line items, scores,
members, in dictionaries), the HTTP routes that call them (the line items container goes out
as the JSON array AGS 2.0 defines, where the package's handler returns a page object), the
lines of an LMS's own behaviour
(a content item with a line item becomes a gradebook column), and the OpenID configuration and
registration endpoint of LTI Dynamic Registration, which the package does not implement.
"""

from __future__ import annotations

import html
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from lti1p3platform.exceptions import LineItemNotFoundException
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request as LtiRequest
from lti1p3platform.request import TRequest
from lti1p3platform.response import Response as LtiResponse
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import (
    AssignmentsGradesService,
    NamesRoleProvisioningService,
    TPage,
)

CLIENT_ID = "learnway-on-the-lms"
DEPLOYMENT = "deployment-main"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run ``app`` with uvicorn on a loopback port; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started, "the server did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def _pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()  # fmt: skip
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class _Conf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self._registration = kwargs["registration"]

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        assert self._registration is not None
        return self._registration


class _Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class _Launch(LTIAdvantageMessageLaunchAbstract):
    def __init__(self, query: dict[str, Any], conf: _Conf, plan: dict[str, Any]) -> None:
        super().__init__(query, conf)
        self.plan = plan

    def get_preflight_response(self) -> dict[str, Any]:
        assert isinstance(self._request, dict)
        return self._request

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> HTMLResponse:
        fields = "".join(
            f'<input type="hidden" name="{k}" value="{html.escape(str(launch_data[k]))}">'
            for k in ("id_token", "state")
        )
        action = html.escape(str(launch_data["launch_url"]))
        return HTMLResponse(f'<form method="post" action="{action}">{fields}</form>')


class _Request(LtiRequest):
    def __init__(self, meta: TRequest) -> None:
        self.request = meta


@dataclass
class LineItem:
    id: str
    label: str
    score_maximum: float
    resource_id: str
    resource_link_id: str | None
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)


class Platform:
    """The LMS: its registration with Learnway, its gradebook and its course memberships."""

    def __init__(self, tool: str) -> None:
        self.base = ""
        self.tool = tool
        self.private, self.public = _pem_pair()
        self.line_items: dict[str, LineItem] = {}
        self.members: list[dict[str, Any]] = []
        self.placed: list[dict[str, Any]] = []
        self.plans: dict[str, dict[str, Any]] = {}
        self.fail_scores = 0
        self.registered: dict[str, Any] | None = None
        self.app = self._build()

    @property
    def issuer(self) -> str:
        return self.base

    def conf(self) -> _Conf:
        registration = (
            Registration()
            .set_iss(self.issuer)
            .set_client_id(CLIENT_ID)
            .set_deployment_id(DEPLOYMENT)
            .set_launch_url(f"{self.tool}/lti/launch")
            .set_deeplink_launch_url(f"{self.tool}/lti/launch")
            .set_oidc_login_url(f"{self.tool}/lti/login")
            .set_tool_key_set_url(f"{self.tool}/lti/jwks")
            .set_platform_public_key(self.public)
            .set_platform_private_key(self.private)
        )
        return _Conf(registration=registration)

    def login_url(self, user: str, plan: dict[str, Any]) -> str:
        """The login initiation the LMS sends a person's browser to (lti1p3platform's)."""
        hint = f"launch-{len(self.plans) + 1}"
        self.plans[hint] = {"user": user, **plan}
        login = _Login(None, self.conf())
        login.set_lti_message_hint(hint=hint)
        return str(login.initiate_login(user))

    # --- the LMS's routes ---------------------------------------------------------------

    def _build(self) -> FastAPI:
        app = FastAPI()
        platform = self

        @app.get("/jwks")
        def jwks() -> JSONResponse:
            return JSONResponse(platform.conf().get_jwks())

        @app.get("/auth")
        def auth(request: Request) -> Response:
            """The OIDC authorization endpoint: the signed launch, as a self-posting form."""
            query = dict(request.query_params)
            plan = platform.plans[query["lti_message_hint"]]
            assert query["login_hint"] == plan["user"]
            launch = _Launch(query, platform.conf(), plan)
            roles = [f"http://purl.imsglobal.org/vocab/lis/v2/membership#{plan['role']}"]
            launch.set_user_data(plan["user"], roles, full_name=plan.get("name"))
            launch.set_launch_context_claim(plan["context"], context_title=plan["title"])
            lis = {"person_sourcedid": plan["sourced_id"]} if plan.get("sourced_id") else {}
            if plan.get("section"):
                lis["course_section_sourcedid"] = plan["section"]
            extra: dict[str, Any] = {CLAIM + "lis": lis}
            if plan.get("presentation"):
                extra[CLAIM + "launch_presentation"] = {"document_target": plan["presentation"]}
            launch.set_extra_claims(extra)
            launch.set_nrps(f"{platform.base}/contexts/{plan['context']}/memberships")
            if plan.get("deep_linking"):
                launch.set_dl(
                    f"{platform.base}/deep-link-return",
                    title="Add Learnway",
                    accept_types={"ltiResourceLink"},
                    extra_data={"d": "opaque"},
                )
            else:
                launch.set_resource_link_claim(plan["resource_link"])
                item = plan.get("line_item")
                launch.set_ags(
                    f"{platform.base}/contexts/{plan['context']}/lineitems",
                    f"{platform.base}/lineitems/{item}" if item else None,
                )
                if plan.get("custom"):
                    launch.set_custom_parameters_claim(plan["custom"])
            result: Response = launch.lti_launch()
            return result

        @app.post("/token")
        async def token(request: Request) -> JSONResponse:
            form = {k: str(v) for k, v in (await request.form()).items()}
            return JSONResponse(platform.conf().get_access_token(form))

        @app.post("/deep-link-return")
        async def deep_link_return(request: Request) -> JSONResponse:
            form = {k: str(v) for k, v in (await request.form()).items()}
            items = platform.conf().validate_deeplinking_resp(form)
            for item in items:  # an LMS makes a gradebook column for each line item
                platform.placed.append(item)
                if "lineItem" in item:
                    made = f"{platform.base}/lineitems/{len(platform.line_items) + 1}"
                    platform.line_items[made] = LineItem(
                        made, item["lineItem"]["label"], item["lineItem"]["scoreMaximum"],
                        item["lineItem"]["resourceId"], None,
                    )  # fmt: skip
            return JSONResponse({"placed": len(items)})

        async def meta(request: Request) -> TRequest:
            body = await request.body()
            import json

            return {
                "method": request.method,
                "form_data": {},
                "get_data": dict(request.query_params),
                "headers": request.headers,
                "content_type": request.headers.get("content-type"),
                "path": request.url.path,
                "json": json.loads(body) if body else None,
            }

        def answer(result: LtiResponse) -> Response:
            if result.result is None:
                return Response(status_code=result.code, media_type=result.media_type)
            return JSONResponse(result.result, result.code, media_type=result.media_type)

        @app.post("/lineitems/{number}/scores")
        async def scores(number: str, request: Request) -> Response:
            if platform.fail_scores:
                platform.fail_scores -= 1
                return Response("the gradebook is down", status_code=503)
            ags = _Grades(_Request(await meta(request)), platform, "unused")
            return answer(ags.handle_resp(ags.handle_update_score, line_item_id=number))

        @app.api_route("/contexts/{context}/lineitems", methods=["GET", "POST"])
        async def lineitems(context: str, request: Request) -> Response:
            ags = _Grades(_Request(await meta(request)), platform, f"/contexts/{context}/lineitems")
            if request.method == "GET":  # the package answers a page; AGS sends the array
                page = ags.handle_resp(ags.handle_get_lineitems)
                if page.code == 200:
                    page.result = page.result["content"]
                return answer(page)
            return answer(ags.handle_resp(ags.handle_create_lineitem))

        @app.get("/contexts/{context}/memberships")
        async def memberships(context: str, request: Request) -> Response:
            nrps = _Members(
                _Request(await meta(request)), platform, context,
                f"{platform.base}/contexts/{context}/memberships",
            )  # fmt: skip
            return answer(nrps.handle_resp(nrps.handle_get_members))

        # LTI Dynamic Registration (not in lti1p3platform): configuration and registration.
        @app.get("/.well-known/openid-configuration")
        def configuration() -> JSONResponse:
            return JSONResponse({
                "issuer": platform.issuer,
                "authorization_endpoint": f"{platform.base}/auth",
                "token_endpoint": f"{platform.base}/token",
                "jwks_uri": f"{platform.base}/jwks",
                "registration_endpoint": f"{platform.base}/register",
                "scopes_supported": ["openid",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"],
                "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                    "product_family_code": "lti1p3platform-test",
                    "messages_supported": [{"type": "LtiResourceLinkRequest"},
                                           {"type": "LtiDeepLinkingRequest"}],
                },
            })  # fmt: skip

        @app.post("/register")
        async def register(request: Request) -> JSONResponse:
            if request.headers.get("authorization") != "Bearer one-time-registration-token":
                return JSONResponse({"error": "invalid registration token"}, 401)
            metadata = await request.json()
            platform.registered = metadata
            tool = metadata["https://purl.imsglobal.org/spec/lti-tool-configuration"]
            return JSONResponse({
                **metadata, "client_id": CLIENT_ID,
                "https://purl.imsglobal.org/spec/lti-tool-configuration": {
                    **tool, "deployment_id": DEPLOYMENT},
            })  # fmt: skip

        return app


class _Grades(AssignmentsGradesService):
    def __init__(self, request: _Request, platform: Platform, lineitems_path: str) -> None:
        super().__init__(request, platform.conf(), f"{platform.base}{lineitems_path}")
        self.platform = platform

    def find_lineitems(
        self,
        page: int = 1,
        limit: int | None = None,
        line_item_id: str | None = None,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
    ) -> TPage:
        found = [
            {"id": i.id, "label": i.label, "scoreMaximum": i.score_maximum,
             "resourceId": i.resource_id}
            for i in self.platform.line_items.values()
            if resource_id is None or i.resource_id == resource_id
        ]  # fmt: skip
        return {"content": found, "has_next": False}

    def find_lineitem(self, line_item_id: str) -> Any:
        raise NotImplementedError

    def create_lineitem(self, creation_data: Any) -> Any:
        made = f"{self.platform.base}/lineitems/{len(self.platform.line_items) + 1}"
        self.platform.line_items[made] = LineItem(
            made, creation_data["label"], creation_data["scoreMaximum"],
            creation_data.get("resourceId", ""), creation_data.get("resourceLinkId"),
        )  # fmt: skip
        return {**creation_data, "id": made}

    def update_lineitem(self, update_data: Any) -> Any:
        raise NotImplementedError

    def delete_lineitem(self, line_item_id: str) -> None:
        raise NotImplementedError

    def update_score(self, line_item_id: str, score: Any) -> UpdateScoreStatus:
        item = self.platform.line_items.get(f"{self.platform.base}/lineitems/{line_item_id}")
        if item is None:
            raise LineItemNotFoundException
        created = score["userId"] not in item.scores
        item.scores[score["userId"]] = score
        return UpdateScoreStatus.CREATED if created else UpdateScoreStatus.SUCCESS

    def get_results(self, line_item_id: str, page: int = 1, limit: int | None = None,
                    user_id: str | None = None) -> TPage:  # fmt: skip
        raise NotImplementedError


class _Members(NamesRoleProvisioningService):
    def __init__(self, request: _Request, platform: Platform, context: str, url: str) -> None:
        super().__init__(request, platform.conf(), url)
        self.platform, self.context = platform, context

    def get_member_data_page(
        self,
        page: int = 1,
        limit: int | None = None,
        role: str | None = None,
        since: str | None = None,
    ) -> TPage:
        return {"content": [dict(m) for m in self.platform.members], "has_next": False}

    def get_context_by_id(self) -> Context:
        return Context(id=self.context, label=self.context, title=f"Course {self.context}")


def form_of(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the first form of an HTML page (what a browser posts)."""
    action = re.search(r'<form[^>]*action="([^"]+)"', page)
    assert action, page[:2000]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    return html.unescape(action.group(1)), {k: html.unescape(v) for k, v in fields.items()}
