"""Password checks with the rate limit, and where each role goes after signing in."""

from __future__ import annotations

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session

from learnway.store._schema import User
from learnway.web._context import WebContext
from learnway.web._deps import Viewer
from learnway.web._schemas import Link
from learnway.web._security import authenticate


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def check_password(
    request: Request, session: Session, context: WebContext, username: str, password: str
) -> User:
    """The user with these credentials; 429 after too many failures, 401 on a wrong pair."""
    keys_user = (f"user:{username.lower()}",)
    keys_addr = (f"address:{client_address(request)}",)
    wait = max(
        context.login_by_user.retry_after(*keys_user),
        context.login_by_address.retry_after(*keys_addr),
    )
    if wait:
        raise HTTPException(
            429,
            f"Too many failed sign-ins. Try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )
    user = authenticate(session, username=username, password=password)
    if user is None:
        context.login_by_user.failed(*keys_user)
        context.login_by_address.failed(*keys_addr)
        raise HTTPException(401, "The username or password is not right.")
    context.login_by_user.succeeded(*keys_user)
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
            Link(label="My goals", href=f"{base}/goals"),
            Link(label="My growth", href=f"{base}/growth"),
            Link(label="My interests", href=f"{base}/interests"),
        ]
    if user.role == "teacher":
        return [
            Link(label="My classes", href="/sections"),
            Link(label="Students", href="/students"),
        ]
    if user.role == "guardian":
        return [Link(label="My children", href="/students")]
    return [
        Link(label="Mastery and growth", href="/reports/mastery"),
        Link(label="Gaps over time", href="/reports/gaps"),
        Link(label="Supports", href="/reports/supports"),
        Link(label="Classes", href="/sections"),
    ]
