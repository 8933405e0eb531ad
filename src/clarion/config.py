"""Settings: one object, read from the environment (prefix ``CLARION_``)."""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "clarion"


class Settings(BaseSettings):
    """Server settings. Every field can be set as ``CLARION_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="CLARION_", frozen=True)

    data_dir: Path = Field(default_factory=_default_data_dir)
    """Where the embedded database and the generated server key live."""

    database_url: str | None = None
    """``sqlite:///path.db`` or ``postgresql://user@host:5432/db``; unset: SQLite in data_dir."""

    secret_key: SecretStr | None = None
    """Base64 of 32 bytes that encrypt webhook secrets; unset: generated once into data_dir."""

    auto_migrate: bool = True
    """Apply pending migrations when the server or a command starts."""

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    hot_paths: bool = True
    """Serve GET, PATCH and the plain list of assistants without the framework's request
    machinery (see clarion.assistants.hot_paths); off, every request goes through FastAPI."""

    log_format: Literal["json", "text"] = "json"
    """One JSON object per log line, or human-readable text."""

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is not None:
            sqlalchemy_url(value)  # raises ValueError on a scheme we do not serve
        return value

    @cached_property
    def database(self) -> URL:
        """The SQLAlchemy URL, with the driver chosen by us rather than the user."""
        if self.database_url is None:
            return make_url(f"sqlite+pysqlite:///{self.data_dir / 'clarion.db'}")
        return sqlalchemy_url(self.database_url)


_DRIVERS = {
    "sqlite": "sqlite+pysqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}


def sqlalchemy_url(plain: str) -> URL:
    """Turn a plain database URL into one naming the driver this project ships."""
    url = make_url(plain)
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise ValueError(
            f"unsupported database URL scheme {url.drivername!r}: use sqlite or postgresql"
        )
    return url.set(drivername=driver)
