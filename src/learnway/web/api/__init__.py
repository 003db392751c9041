"""The JSON API under ``/api/v1``: one router per domain, the twins of the pages."""

from fastapi import APIRouter

from learnway.web.api import (
    _account,
    _audit,
    _auth,
    _classes,
    _experiments,
    _placement,
    _practice,
    _records,
    _reports,
    _students,
)

router = APIRouter(prefix="/api/v1")
for module in (
    _auth, _account, _audit, _students, _placement, _practice, _classes, _reports, _records,
):  # fmt: skip
    router.include_router(module.router)
router.include_router(_experiments.router)  # evidence: experiments and efficacy

__all__ = ["router"]
