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
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs

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
from learnway.web._security import RateLimiter, verify_password
from learnway.web._totp import totp_required, verify_totp

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
security_log = logging.getLogger("learnway.security")
HASHING_NICE = 10
"""How much lower than the rest of the process the hashing thread runs (a Unix nice increment):
argon2 hashes with four lanes in 64 MiB, and at the process's own priority a few sign-ins
would take every core from the requests of people already signed in."""


def _lower_priority() -> None:
    try:  # on Linux a thread's nice value is its own, and argon2's lane threads inherit it
        tid = threading.get_native_id()
        os.setpriority(
            os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + HASHING_NICE)
        )
    except (AttributeError, OSError):  # not on this platform: the same priority as the rest
        pass


_HASHING = ThreadPoolExecutor(1, "password-hash", initializer=_lower_priority)
"""One password hash verified at a time by a process, in a thread of lower priority: more
sign-ins wait their turn instead of starving every other request of the cores."""


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


SIGN_INS = 8
"""Sign-ins one process handles at once (each waits for a worker thread and for its turn to
hash): more are answered 429 at once, instead of queueing in front of everyone else's requests."""
REFUSED = "sign_in_refused"
"""Where :class:`SignInGuard` leaves, in the request's state, the wait of a sign-in form that it
refused (the page answers it in its own words, without a worker thread or the database)."""


class SignInGuard:
    """Pure ASGI, outside every other middleware, for ``POST /api/v1/tokens`` and ``POST
    /login``: each sign-in is counted here while in flight, for its account and its address, and
    one that this process can already refuse is refused here, on the event loop, without a
    worker thread or a connection: the account or the address is known (from the database) to be
    in its delay, as many of its checks as its limit are already in flight (one more would be
    refused anyway), or the process already has :data:`SIGN_INS` sign-ins in flight. So a flood
    of guesses costs a fraction of a millisecond each and holds up no one else's request. The
    database stays the truth (:meth:`RateLimiter.reserve`): what passes here is still reserved
    there, once for each password checked, across every process."""

    TOKENS = "/api/v1/tokens"
    FORM = "/login"
    MAX_BODY = 16_384

    def __init__(self, app: Any) -> None:
        self.app = app
        self.in_flight = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path")
        if scope["type"] != "http" or scope["method"] != "POST" or path not in (
            self.TOKENS, self.FORM
        ):  # fmt: skip
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

        async def replay() -> Any:
            return messages.pop(0) if messages else await receive()

        context = getattr(getattr(scope.get("app"), "state", None), "web", None)
        if not isinstance(context, WebContext):
            await self.app(scope, replay, send)
            return
        username = _username_in(body, form=path == self.FORM)
        held: list[tuple[RateLimiter, str]] = []
        if username is not None:
            user_key, address_key = _keys(Request(scope), context, username)
            held.append((context.login_by_user, user_key))
            if address_key:
                held.append((context.login_by_address, address_key))
        wait = max([1.0 if self.in_flight >= SIGN_INS else 0.0]
                   + [limiter.blocked_for(key) for limiter, key in held])  # fmt: skip
        if wait:
            security_log.warning("sign-in refused: too many attempts")
            if path == self.TOKENS:
                refusal = _too_many(wait)
                response = JSONResponse(
                    {"detail": refusal.detail}, status_code=429, headers=refusal.headers
                )
                await response(scope, replay, send)
                return
            scope.setdefault("state", {})[REFUSED] = wait
            await self.app(scope, replay, send)
            return
        self.in_flight += 1
        for limiter, key in held:
            limiter.enter(key)
        try:
            await self.app(scope, replay, send)
        finally:
            self.in_flight -= 1
            for limiter, key in held:
                limiter.leave(key)


def _username_in(body: bytes, *, form: bool) -> str | None:
    """The username a sign-in's body names, as its route reads it (None when there is none)."""
    try:
        if form:
            given = parse_qs(body.decode(), max_num_fields=20).get("username", [""])[0].strip()
        else:
            given = json.loads(body).get("username")
    except (ValueError, AttributeError):
        return None
    return given if isinstance(given, str) and given else None


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
    """:func:`check_password` in a worker thread, unless :class:`SignInGuard` already refused
    the sign-in on the event loop (see there: it counts the checks in flight and sheds the
    excess before any thread or connection is taken)."""
    wait = float(getattr(request.state, REFUSED, 0.0))
    if wait:
        raise _too_many(wait)
    return await run_in_threadpool(check_password, request, context, username, password, code)


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
    # no connection is held from here to the end of the hash, one hash at a time
    right = _HASHING.submit(verify_password, hashed, password).result() and user is not None
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
