"""Rendering pages: the templates, their globals, and the error page."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError

from learnway.web._deps import CSRF_FIELD, Viewer
from learnway.web._signin import links_of

M = TypeVar("M", bound=BaseModel)

ROLE_NAMES = {
    "student": "Student",
    "teacher": "Teacher",
    "school_admin": "School administrator",
    "district_admin": "District administrator",
    "guardian": "Guardian",
}


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def _percent1(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def make_templates(folder: Path) -> Jinja2Templates:
    templates = Jinja2Templates(directory=folder)
    templates.env.filters["pct"] = _percent
    templates.env.filters["pct1"] = _percent1
    templates.env.globals["role_names"] = ROLE_NAMES
    templates.env.globals["csrf_field"] = CSRF_FIELD
    return templates


def render(
    request: Request,
    template: str,
    *,
    title: str,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.web.templates
    user: Viewer | None = getattr(request.state, "viewer", None)
    return templates.TemplateResponse(
        request,
        template,
        {
            "title": title,
            "user": user,
            "links": links_of(user) if user is not None else [],
            "csrf": getattr(request.state, "csrf", ""),
            **context,
        },
        status_code=status_code,
        headers=dict(headers) if headers else None,
    )


def error_page(
    request: Request, status: int, message: str, headers: Mapping[str, str] | None = None
) -> HTMLResponse:
    titles = {401: "Please sign in", 403: "Not allowed", 404: "Not found", 422: "Please check"}
    return render(
        request, "error.html", title=titles.get(status, "Something went wrong"),
        status_code=status, message=message, status=status, headers=headers,
    )  # fmt: skip


def parse(model: type[M], data: Mapping[str, Any]) -> M:
    """Validate form data with the API's model; a readable 422 when it does not fit."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        parts = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"]) or "input"
            parts.append(f"{where.replace('_', ' ')}: {e['msg']}")
        raise HTTPException(422, "; ".join(parts)) from exc
