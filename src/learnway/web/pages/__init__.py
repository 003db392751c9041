"""Server-rendered pages (Jinja2 + htmx): each shows the same object its API twin returns."""

from fastapi import APIRouter

from learnway.web.pages import (
    _account,
    _audit,
    _auth,
    _classes,
    _experiments,
    _lti,
    _placement,
    _practice,
    _records,
    _reports,
    _students,
)
from learnway.web.pages._render import error_page, make_templates

router = APIRouter(include_in_schema=False)
for module in (
    _auth, _account, _audit, _lti, _students, _placement, _practice, _classes, _reports,
    _records,
):  # fmt: skip
    router.include_router(module.router)
router.include_router(_experiments.router)  # evidence: experiments and efficacy

__all__ = ["error_page", "make_templates", "router"]
