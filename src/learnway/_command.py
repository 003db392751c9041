"""The ``learnway`` command's entry point: the command line, or which extra it needs.

``pip install learnway`` alone installs the numeric core (learner models, paths, simulation);
the command line, the school database and the web application come with the ``app`` extra.
Without it the command says so instead of failing with an import error.
"""

from __future__ import annotations

import sys

APP_EXTRA_MODULES = frozenset(
    {"typer", "rich", "click", "sqlalchemy", "alembic", "pydantic", "pydantic_settings",
     "sympy", "fastapi", "starlette", "uvicorn", "jinja2", "argon2", "itsdangerous",
     "multipart", "python_multipart", "jwt", "jsonschema", "pyotp", "matplotlib",
     "prometheus_client"}
)  # fmt: skip
"""Top-level modules of the ``app`` extra's packages."""


def missing_extra_message(module: str) -> str:
    return (
        f"learnway: the command line needs the 'app' extra ({module} is not installed).\n"
        "Install it with:  pip install 'learnway[app]'\n"
        "(PostgreSQL: 'learnway[app,postgres]'; distributed calibration: 'learnway[app,ray]'.)"
    )


def main() -> None:
    try:
        from learnway.cli import main as run
    except ModuleNotFoundError as exc:
        top = (exc.name or "").split(".")[0]
        if top not in APP_EXTRA_MODULES:
            raise
        print(missing_extra_message(top), file=sys.stderr)
        raise SystemExit(1) from None
    run()
