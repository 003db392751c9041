"""Health and readiness for load balancers and orchestrators.

``/healthz`` answers 200 while the process serves at all (liveness). ``/readyz`` answers 200
only when the database answers and its schema is at the migrations' head; while migrations are
pending (an upgrade not yet run, or running) it answers 503, so a proxy sends no traffic to a
process whose code expects tables the database does not have yet.
"""

from __future__ import annotations

from functools import lru_cache

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from learnway.web._deps import Public

router = APIRouter(include_in_schema=False, dependencies=[Public])  # for load balancers


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration this code ships."""
    from alembic.script import ScriptDirectory

    from learnway.store._engine import MIGRATIONS

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def readiness(engine: Engine) -> tuple[bool, dict[str, str | None]]:
    """Whether the database answers and holds the schema this code expects, and why not."""
    from learnway.store import current_revision

    head = head_revision()
    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        return False, {"status": "database unreachable", "error": type(exc).__name__}
    if current != head:
        return False, {"status": "migrations pending", "database": current, "code": head}
    return True, {"status": "ready", "database": current}


@router.get("/healthz")
def healthz() -> JSONResponse:
    """The process is up."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """200 when the database is reachable and migrated to head, else 503 with the reason."""
    ready, detail = readiness(request.app.state.web.engine)
    return JSONResponse(detail, status_code=200 if ready else 503)
