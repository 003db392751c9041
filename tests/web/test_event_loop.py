"""No blocking work on the event loop: routes and dependencies that use the database or check
answers are plain ``def`` functions, which FastAPI runs in its thread pool. The one exception is
the API's answer on SQLite, which runs on the loop under ``store.without_waiting`` (nothing in it
may wait for another writer or for a checker's worker process; what would is handed to a thread).

Two checks: the route table is read (every ``async def`` route, dependency, middleware and error
handler is parsed, and none may name the database session, the engine, a transaction or the
answer checker), and a realistic set of requests runs with the database and the checker
instrumented to record any call made on a thread that is running an event loop (for the
database, outside ``without_waiting``).
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import textwrap
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import event, select

from learnway.store import transaction, wait_limit
from learnway.store._schema import ItemRow, Section, StepRow
from learnway.web._deps import _session
from learnway.web.api._practice import post_attempt
from web.support import api_client, browser_client, csrf_of, engine_of

pytestmark = pytest.mark.parametrize("demo_template", ["sqlite"], indirect=True, scope="session")

BLOCKING_NAMES = frozenset(
    {"session", "engine", "transaction", "checker", "check_answer", "Session", "SessionDep"}
)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _coroutine(call: Callable[..., Any]) -> Callable[..., Any] | None:
    """The ``async def`` behind a dependency (a function or an async generator, or an object's
    ``__call__``)."""
    for candidate in (call, type(call).__call__):
        if inspect.iscoroutinefunction(candidate) or inspect.isasyncgenfunction(candidate):
            return candidate
    return None


OFFLOADERS = frozenset({"run_in_threadpool", "run_sync", "to_thread"})
"""Calls that run their arguments in a thread: what is handed to them is not run on the loop."""


def _names(function: Callable[..., Any]) -> set[str]:
    """Every name, attribute and parameter a function's code mentions (not its docstring), but
    for what it hands to a thread (``await run_in_threadpool(work, engine)``)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    found: set[str] = set()
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Call):
            called = (
                node.func.attr
                if isinstance(node.func, ast.Attribute)
                else getattr(node.func, "id", "")
            )
            if called in OFFLOADERS:
                continue
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.arg):
            found.add(node.arg)
        pending.extend(ast.iter_child_nodes(node))
    return found


def _async_callables(app: FastAPI) -> Iterator[tuple[str, Callable[..., Any]]]:
    for context in iter_route_contexts(app.routes):  # included routers' routes too
        route = context.original_route
        if isinstance(route, APIRoute):
            for call in _calls(route.dependant):
                coroutine = _coroutine(call)
                if coroutine is not None:
                    yield f"{sorted(route.methods or ())} {context.path}", coroutine
    for handler in app.exception_handlers.values():
        if inspect.iscoroutinefunction(handler):
            yield "exception handler", handler
    for middleware in app.user_middleware:
        dispatch = middleware.kwargs.get("dispatch") or middleware.cls.__call__
        if dispatch is not None and inspect.iscoroutinefunction(dispatch):
            yield f"middleware {getattr(middleware.cls, '__name__', '')}", dispatch


def test_no_async_route_or_dependency_names_the_database_or_the_checker(
    shared_app: FastAPI,
) -> None:
    checked, offenders = 0, []
    for where, coroutine in _async_callables(shared_app):
        checked += 1
        if coroutine is _session:  # opens a Session object (no connection until it is used);
            continue  # commits and closes it in a worker thread (checked in the next test)
        if coroutine is post_attempt:  # on SQLite, under without_waiting (the next test)
            continue
        blocking = _names(coroutine) & BLOCKING_NAMES
        if blocking:
            offenders.append(f"{where}: async def {coroutine.__name__} uses {sorted(blocking)}")
    assert checked, "the app has async dependencies (CSRF, forms) that must be inspected"
    assert not offenders, "\n".join(sorted(set(offenders)))


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_requests_never_reach_the_database_or_the_checker_on_the_event_loop(
    shared_app: FastAPI,
) -> None:
    engine = engine_of(shared_app)
    context = shared_app.state.web
    blocked: list[str] = []
    statements = 0

    def before_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        nonlocal statements
        statements += 1
        if _on_event_loop() and wait_limit() is None:
            blocked.append(statement.split()[0] + " " + statement[:60])

    real_check = context.checker.check

    def check(**kwargs: Any) -> Any:
        if _on_event_loop() and kwargs.get("wait", True):  # may wait for a worker process
            blocked.append("answer check")
        return real_check(**kwargs)

    with transaction(engine) as session:
        step = session.scalars(select(StepRow).order_by(StepRow.id)).first()
        section = session.scalars(select(Section.id).order_by(Section.id)).first()
        assert step is not None and section is not None
        item_key = session.scalar(select(ItemRow.key).where(ItemRow.id == step.item_id))
        step_id = step.id
    event.listen(engine, "before_cursor_execute", before_execute)
    context.checker.check = check
    try:
        student = browser_client(shared_app, "student01")
        page = student.get(f"/practice/{item_key}")
        assert page.status_code == 200
        csrf = csrf_of(page.text)
        for response in ("12345.678", "9^9^9^9"):
            answered = student.post(
                f"/practice/steps/{step_id}/answer",
                data={"response": response, "csrf_token": csrf},
            )
            assert answered.status_code in (200, 422), answered.text
        api = api_client(shared_app, "student01")
        for n, response in enumerate(("12345.678", "x+1", "9^9^9^9")):  # quick, symbolic, huge
            body = {"response": response, "attempt_id": f"on-the-loop-{n}"}
            answered = api.post(f"/api/v1/steps/{step_id}/attempts", json=body)
            assert answered.status_code in (200, 422), answered.text
        me = student.get("/api/v1/me").json()["user"]["id"]
        goal = student.post(
            f"/students/{me}/goals", data={"title": "Finish the unit", "csrf_token": csrf}
        )
        assert goal.status_code < 500
        teacher = browser_client(shared_app, "teacher")
        groups = teacher.get(f"/sections/{section}/groups")
        made = teacher.post(
            f"/sections/{section}/groups",
            data={"name": "Table two", "reason": "", "csrf_token": csrf_of(groups.text)},
        )
        assert made.status_code < 500
        assert teacher.get("/lti/login", params={"iss": "https://lms.example"}).status_code < 500
    finally:
        event.remove(engine, "before_cursor_execute", before_execute)
        context.checker.check = real_check
    assert statements > 20, "the requests reached the database"
    assert not blocked, f"work done on the event loop: {blocked}"
