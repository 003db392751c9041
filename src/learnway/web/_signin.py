"""Password checks under the sign-in limits, the client's address, and where each role goes
after signing in.

A password check is first reserved against the account's limit and the address's limit (see
:class:`learnway.web._security.RateLimiter`) in a short transaction of its own, committed before
the slow hash is verified; the request's session is not touched until the password is right, so
a request never holds two connections, nor one while hashing.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import threading
from functools import lru_cache
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.responses import JSONResponse
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from learnway.store import transaction
from learnway.store._schema import User
from learnway.web._context import WebContext
from learnway.web._deps import Viewer
from learnway.web._schemas import Link
from learnway.web._security import verify_password
from learnway.web._totp import totp_required, verify_totp

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
security_log = logging.getLogger("learnway.security")
HASHING = 1
"""Password hashes verified at once by one process (argon2 hashes with four lanes, in 64 MiB):
more sign-ins wait their turn instead of starving every other request of the cores."""
_HASHING = threading.BoundedSemaphore(HASHING)


@lru_cache(maxsize=16)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in n for n in networks)


def client_address(request: Request, trusted_proxies: list[str] | tuple[str, ...] = ()) -> str:
    """The address of whoever sent the request: the connecting address, unless that is one of
    ``trusted_proxies``; then the nearest address in ``X-Forwarded-For`` that is not a trusted
    proxy (the header's earlier entries are whatever the client wrote, so they are not read)."""
    peer = request.client.host if request.client else "unknown"
    networks = _networks(tuple(trusted_proxies))
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getlist("x-forwarded-for")).split(",")]
    for hop in reversed([h for h in hops if h]):
        if not _trusted(hop, networks):
            return hop
    return peer


DEVICE_COOKIE = "learnway_device"
DEVICE_DAYS = 180
_DEVICE_NAMES = 8


def _device_serializer(context: WebContext) -> URLSafeSerializer:
    return URLSafeSerializer(context.settings.secret_key, salt="learnway-device")


def known_on_device(request: Request, context: WebContext) -> list[str]:
    """Usernames that signed in successfully from this browser (its signed device cookie)."""
    value = request.cookies.get(DEVICE_COOKIE)
    if not value:
        return []
    try:
        names = _device_serializer(context).loads(value)
    except BadSignature:
        return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def remember_device(request: Request, response: Response, context: WebContext, user: User) -> None:
    """Mark this browser as one ``user`` signs in from: the address limit no longer applies to
    them here, so failures by others behind the same address (a school's) cannot lock them out.
    """
    names = [user.username.lower()] + [
        n for n in known_on_device(request, context) if n != user.username.lower()
    ]
    response.set_cookie(
        DEVICE_COOKIE,
        _device_serializer(context).dumps(names[:_DEVICE_NAMES]),
        max_age=DEVICE_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=context.secure_cookies,
        path="/",
    )


class SignInGuard:
    """Pure ASGI, outside every other middleware: a ``POST /api/v1/tokens`` for an account or
    from an address that this process already knows must wait (see :func:`sign_in`) is answered
    429 at once, before the application's middleware and validation run, so that a flood of
    guesses costs a fraction of a millisecond each and does not hold up everyone else's
    requests. Anything it cannot decide on goes through unchanged."""

    PATH = "/api/v1/tokens"
    MAX_BODY = 16_384

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.PATH:
            await self.app(scope, receive, send)
            return
        messages: list[dict[str, Any]] = []
        body = b""
        while len(body) <= self.MAX_BODY:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        wait = self._known_wait(scope, body)
        if wait:
            refusal = _too_many(wait)
            response = JSONResponse(
                {"detail": refusal.detail}, status_code=429, headers=refusal.headers
            )
            security_log.warning("sign-in refused: too many attempts")
            await response(scope, receive, send)
            return

        async def replay() -> Any:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    @staticmethod
    def _known_wait(scope: Any, body: bytes) -> float:
        try:
            username = json.loads(body).get("username")
        except (ValueError, AttributeError):
            return 0.0
        context = getattr(scope.get("app"), "state", None)
        context = getattr(context, "web", None)
        if not isinstance(username, str) or not isinstance(context, WebContext):
            return 0.0
        request = Request(scope)
        user_key, address_key = _keys(request, context, username)
        return max(
            context.login_by_user.blocked_for(user_key),
            context.login_by_address.blocked_for(address_key) if address_key else 0.0,
        )


def _too_many(wait: float) -> HTTPException:
    seconds = int(wait) + 1
    return HTTPException(
        429,
        f"Too many sign-in attempts. Try again in {seconds} seconds.",
        headers={"Retry-After": str(seconds)},
    )


def _keys(request: Request, context: WebContext, username: str) -> tuple[str, str]:
    """The account's key and the address's (empty when this browser is known to the account)."""
    address_key = f"address:{client_address(request, context.settings.trusted_proxies)}"
    if username.lower() in known_on_device(request, context):
        address_key = ""  # the account's own limit still holds
    return f"user:{username.lower()}", address_key


async def sign_in(
    request: Request, context: WebContext, username: str, password: str, code: str | None = None
) -> User:
    """:func:`check_password` in a worker thread, after the refusals that this process can make
    on the event loop without the database (a key known to be waiting, or with as many checks
    in flight as its limit): a flood of guesses is answered at once, not queued before others.
    """
    by_user, by_address = context.login_by_user, context.login_by_address
    user_key, address_key = _keys(request, context, username)
    wait = max(
        by_user.blocked_for(user_key), by_address.blocked_for(address_key) if address_key else 0
    )
    if wait:
        raise _too_many(wait)
    by_user.enter(user_key)
    by_address.enter(address_key)
    try:
        return await run_in_threadpool(check_password, request, context, username, password, code)
    finally:
        by_user.leave(user_key)
        by_address.leave(address_key)


def check_password(
    request: Request, context: WebContext, username: str, password: str, code: str | None = None
) -> User:
    """The enabled user with these credentials (and one-time code, where the account has one);
    429 while the account's or the address's checks are used up, 401 on a wrong pair.

    The user comes back detached from any session: merge it into the request's session."""
    by_user, by_address = context.login_by_user, context.login_by_address
    user_key, address_key = _keys(request, context, username)
    with by_user.gate:  # one reservation at a time per process: no busy-waiting writers
        wait = max(
            by_user.known_wait(user_key), by_address.known_wait(address_key) if address_key else 0
        )
        if wait:
            raise _too_many(wait)
        with transaction(context.engine) as session:
            wait = by_address.reserve(session, address_key) if address_key else 0.0
            if not wait:
                wait = by_user.reserve(session, user_key)
                if wait and address_key:
                    by_address.release(session, address_key)
            user = session.scalar(select(User).where(User.username == username))
            hashed = user.password_hash if user is not None and user.enabled else None
            needs_code = user is not None and totp_required(session, user_id=user.id)
    if wait:
        raise _too_many(wait)
    # no connection is held from here to the end of the hash; at most HASHING hashes at once
    with _HASHING:
        right = verify_password(hashed, password) and user is not None
    with transaction(context.engine) as session:
        if right and user is not None and needs_code:
            right = verify_totp(session, user_id=user.id, code=code)
            if not right:
                by_user.forget_old(session)
                raise HTTPException(
                    401, "Enter the current code from your authenticator app as well."
                )
        if not right or user is None:
            by_user.forget_old(session)
            raise HTTPException(401, "The username or password is not right.")
        by_user.succeeded(session, user_key)
        if address_key:
            by_address.release(session, address_key)
    return user


def home_of(user: User | Viewer) -> str:
    if user.role == "student":
        return f"/students/{user.id}/path"
    if user.role == "teacher":
        return "/sections"
    if user.role == "guardian":
        return "/students"
    return "/reports/mastery"


def links_of(user: User | Viewer) -> list[Link]:
    if user.role == "student":
        base = f"/students/{user.id}"
        return [
            Link(label="My path", href=f"{base}/path"),
            Link(label="My profile", href=base),
            Link(label="My goals", href=f"{base}/goals"),
            Link(label="My growth", href=f"{base}/growth"),
            Link(label="My interests", href=f"{base}/interests"),
            Link(label="My account", href="/account"),
        ]
    if user.role == "teacher":
        return [
            Link(label="My classes", href="/sections"),
            Link(label="Students", href="/students"),
            Link(label="My account", href="/account"),
        ]
    if user.role == "guardian":
        return [
            Link(label="My children", href="/students"),
            Link(label="My account", href="/account"),
        ]
    return [
        Link(label="Mastery and growth", href="/reports/mastery"),
        Link(label="Gaps over time", href="/reports/gaps"),
        Link(label="Supports", href="/reports/supports"),
        Link(label="Experiments", href="/experiments"),
        Link(label="What works", href="/efficacy/supports"),
        Link(label="Classes", href="/sections"),
        Link(label="Audit trail", href="/audit"),
        Link(label="My account", href="/account"),
    ]
