"""Settings: one class, read from ``LEARNWAY_*`` environment variables (and a ``.env`` file).

Nothing is built at import time: call :func:`get_settings` (cached) where a setting is needed,
so that tests and the web application can override it.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
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
    xapi_home_page: str = "http://localhost:8000/"
    """Learnway's public address, ending in ``/``: the xAPI statements it writes name students
    as accounts under it, and its activities (steps, competencies) as IRIs below it."""
    xapi_forward_url: str = ""
    """The district's xAPI store (its base, e.g. ``https://lrs.example/xapi/``) to which every
    statement of a Learnway attempt is forwarded; empty forwards nothing."""
    xapi_forward_username: str = ""
    """HTTP Basic user name of Learnway at the district's store."""
    xapi_forward_password: SecretStr = SecretStr("")
    """HTTP Basic password of Learnway at the district's store."""
    xapi_forward_interval_s: float = 5.0
    """Seconds between forwarding rounds; also the first wait after a failed delivery."""
    xapi_forward_max_delay_s: float = 300.0
    """The longest wait between retries of a failed delivery (the wait doubles up to it)."""
    trusted_proxies: list[str] = []
    """Addresses or networks (``10.0.0.0/8``) of the reverse proxies in front of Learnway, as a
    JSON list. Only from these is ``X-Forwarded-For`` believed; sign-in limits per address
    then count the client's address, else the connecting address."""
    retention_days: int | None = None
    """Days after a student's last enrollment ends before their data is deleted by
    ``learnway retention``; empty keeps it."""

    answer_check_workers: int = Field(default=4, ge=1, le=64)
    """Worker processes that check typed answers (each check bounded in time and memory)."""
    answer_check_seconds: float = Field(default=2.0, gt=0, le=60)
    """The most CPU time one answer check may use (and 1.5 times that by the clock); past it
    the worker is killed and the answer refused as too large to check."""
    answer_check_memory_mb: int = Field(default=512, ge=64)
    """The most memory (MiB) one answer check may take beyond what its worker holds."""

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
