"""The application factory: settings and engine in, a FastAPI application out."""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from learnway._logging import log_request
from learnway.settings import Settings, get_settings
from learnway.store import make_engine, transaction
from learnway.web._audit import AuditTrail
from learnway.web._context import STATIC, TEMPLATES, WebContext
from learnway.web._deps import COOKIE, NotSignedIn, Viewer
from learnway.web._forms import plain_message
from learnway.web._health import router as health_router
from learnway.web._metrics import install_metrics, observe
from learnway.web._security import CookieSigner, lookup_token
from learnway.web._signin import SignInGuard
from learnway.web._xapi import mount_xapi

API_PREFIX = "/api/v1"
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "permissions-policy": (
        "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
        "microphone=(), payment=(), usb=()"
    ),
}
PRODUCTION_HEADERS = {"strict-transport-security": "max-age=31536000; includeSubDomains"}
"""Sent in production only: browsers then use HTTPS for a year."""


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def _has_nul(request: Request) -> bool:
    """A NUL character in the path or query: no text stored or looked up may hold one."""
    query = request.scope.get("query_string", b"").lower()
    return "\x00" in request.url.path or b"%00" in query or b"\x00" in query


class Edge:
    """Pure ASGI, around every route: refuses a path or query holding a NUL, adds the
    security headers (and ``no-store`` to all but static files), turns an htmx form's redirect
    into ``HX-Redirect``, and logs and counts each request (the access log and metrics)."""

    def __init__(self, app: Any, *, production: bool) -> None:
        self.app = app
        self.production = production

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request = Request(scope)
        static = request.url.path.startswith("/static")
        htmx = bool(request.headers.get("hx-request"))
        answer = {"status": 500}

        async def sent(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if htmx and message["status"] in (302, 303):
                    # a boosted form that redirects: let the browser load the new page
                    headers["HX-Redirect"] = headers["location"]
                    del headers["location"]
                    message["status"] = 200
                # An LTI page the platform may frame sets its own policy (web/pages/_lti.py):
                # then the legacy X-Frame-Options, which cannot name origins, is left out.
                own_policy = "content-security-policy" in headers
                for name, value in SECURITY_HEADERS.items():
                    if not (own_policy and name == "x-frame-options"):
                        headers.setdefault(name, value)
                if self.production:
                    headers.update(PRODUCTION_HEADERS)
                if not static:
                    headers.setdefault("cache-control", "no-store")
                answer["status"] = message["status"]
            await send(message)

        try:
            if _has_nul(request):
                from learnway.web import pages

                message = "The address must not contain a NUL character (%00)."
                refusal = (
                    JSONResponse({"detail": message}, status_code=422)
                    if _is_api(request)
                    else pages.error_page(request, 422, message)
                )
                await refusal(scope, receive, sent)
            else:
                await self.app(scope, receive, sent)
        finally:
            if not static:
                viewer = scope.get("state", {}).get("viewer")
                route, elapsed = _route_template(request), time.perf_counter() - started
                log_request(
                    method=request.method,
                    route=route,
                    status=answer["status"],
                    duration_ms=elapsed * 1000,
                    user_id=getattr(viewer, "id", None),
                    role=getattr(viewer, "role", None),
                )
                observe(request.method, route, answer["status"], elapsed)


def _route_template(request: Request) -> str:
    """The matched route's path template (``/api/v1/students/{student_id}``): what the access
    log names, never the path as sent, which may carry anything a client typed."""
    tail = getattr(request.scope.get("route"), "path", None)
    if not isinstance(tail, str):
        return "(no route)"
    # A route of an included router knows only its own part of the path: the prefix is the
    # request's path less as many segments as that part has.
    segments = request.url.path.split("/")
    prefix = "/".join(segments[: max(1, len(segments) - tail.count("/"))])
    return prefix + tail


def _readable(error: RequestValidationError) -> str:
    parts = []
    for e in error.errors():
        where = ".".join(str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where or 'input'}: {e.get('msg', 'is not valid')}")
    return "; ".join(parts) or "The input is not valid."


def _plain(error: RequestValidationError) -> str:
    """A page's invalid address in plain words: each field and what to do."""
    parts = []
    for e in error.errors():
        where = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path")]
        name = where[0].replace("_", " ").capitalize() if where else "The address"
        kind = str(e.get("type", ""))
        if kind.startswith(("int", "greater_than", "less_than")):
            text = "the address needs a whole number here (an id from a link)."
        elif kind.startswith("bool"):
            text = "use true or false."
        else:
            text = plain_message(e)
        parts.append(f"{name}: {text}")
    return " ".join(parts) or "The address is not valid."


def identify(request: Request, context: WebContext) -> None:
    """The signed-in person of a page no route served (an unknown address), so that its error
    page still has the navigation."""
    cookie = request.cookies.get(COOKIE)
    token = context.signer.loads(cookie) if cookie else None
    if not token:
        return
    with transaction(context.engine) as session:
        found = lookup_token(session, token=token, kind="session")
        if found is not None:
            user, row = found
            request.state.viewer = Viewer(user.id, user.given_name, user.family_name, user.role)
            request.state.csrf = row.csrf


def create_app(engine: Engine | str | None = None, *, settings: Settings | None = None) -> FastAPI:
    """The Learnway web application on ``engine`` (an Engine or URL; default from settings)."""
    from learnway.web import _apidocs as apidocs
    from learnway.web import api, pages

    settings = settings or get_settings()
    if engine is None or isinstance(engine, str):
        engine = make_engine(engine or settings.resolved_database_url)
    app = FastAPI(
        title="Learnway",
        version="1",
        summary="Personal learning paths: students, teachers and school leaders.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # served from vendored assets by learnway.web._apidocs
        redoc_url=None,
    )
    templates = pages.make_templates(TEMPLATES)
    app.state.web = WebContext(
        engine=engine,
        settings=settings,
        templates=templates,
        signer=CookieSigner(settings.secret_key),
    )
    production = settings.environment == "production"
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    mount_xapi(app, app.state.web)  # the xAPI store, with its own auth and errors
    app.include_router(api.router)
    app.include_router(apidocs.router, prefix=API_PREFIX)
    app.include_router(pages.router)
    app.include_router(health_router)  # /healthz and /readyz
    install_metrics(app, engine)  # /metrics

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": "Sign in first: send a bearer token or a session cookie."},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        target = request.url.path
        if request.method == "GET" and request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(
            f"/login?next={target}" if request.method == "GET" else "/login", 303
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_api(request) or request.url.path.startswith("/static"):
            return JSONResponse(
                {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
            )
        if getattr(request.state, "viewer", None) is None:
            await run_in_threadpool(identify, request, app.state.web)
        return pages.error_page(request, exc.status_code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if _is_api(request):
            return JSONResponse(
                {"detail": _readable(exc), "errors": _jsonable(exc)}, status_code=422
            )
        return pages.error_page(request, 422, _plain(exc))

    app.add_middleware(AuditTrail)  # refused and probing requests, in the audit trail
    app.add_middleware(Edge, production=production)
    app.add_middleware(SignInGuard)  # outermost: a flood of sign-ins refused first
    return app


PROBLEM = {
    "title": "Problem",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "what went wrong, for people"},
        "errors": {
            "type": "array",
            "items": {"type": "object"},
            "description": "for invalid input: each field and what is wrong with it",
        },
    },
}
ERRORS = {
    "401": "Not signed in",
    "403": "Not allowed for this role",
    "404": "Not found, or not visible to you",
    "422": "Invalid input",
    "429": "Too many attempts",
}


def _openapi(app: FastAPI) -> dict[str, object]:
    """The OpenAPI document, with every error answer described as a Problem."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(
        title=app.title, version=app.version, summary=app.summary, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    ref = {"$ref": "#/components/schemas/Problem"}
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for code, text in ERRORS.items():
                responses[code] = {
                    "description": text,
                    "content": {"application/json": {"schema": ref}},
                }
    app.openapi_schema = schema
    return schema


def _jsonable(exc: RequestValidationError) -> list[dict[str, object]]:
    return [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
        for e in exc.errors()
    ]


__all__ = ["create_app"]
