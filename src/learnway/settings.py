"""Settings: one class, read from ``LEARNWAY_*`` environment variables (and a ``.env`` file).

Nothing is built at import time: call :func:`get_settings` (cached) where a setting is needed,
so that tests and the web application can override it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"


class Settings(BaseSettings):
    """Every setting of Learnway. Environment variable: ``LEARNWAY_`` + the name in capitals."""

    model_config = SettingsConfigDict(
        env_prefix="LEARNWAY_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    environment: Literal["development", "production"] = "development"
    """``production`` refuses unsafe values such as the placeholder secret key."""
    data_dir: Path = Path("var")
    """Where the SQLite database and other local files live."""
    database_url: str = ""
    """SQLAlchemy URL; empty means the SQLite file ``learnway.db`` in ``data_dir``.
    For PostgreSQL: ``postgresql://user@host:5432/dbname``."""
    secret_key: str = PLACEHOLDER_SECRET
    """Signs session cookies. Must be set to a long random value in production."""

    @model_validator(mode="after")
    def _refuse_unsafe(self) -> Settings:
        if self.environment == "production" and (
            self.secret_key == PLACEHOLDER_SECRET or len(self.secret_key) < 32
        ):
            raise ValueError("LEARNWAY_SECRET_KEY must be a random value of 32+ characters")
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'learnway.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
