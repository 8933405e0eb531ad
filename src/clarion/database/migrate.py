"""Running the Alembic migrations that live in clarion/migrations."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import URL

from clarion.database.engines import create_database_engine


def alembic_config() -> Config:
    """Alembic's configuration, built in code: no alembic.ini to ship or find."""
    config = Config()
    config.set_main_option("script_location", "clarion:migrations")
    config.set_main_option(
        "file_template", "%%(year)d_%%(month).2d_%%(day).2d_%%(hour).2d%%(minute).2d_%%(slug)s"
    )
    return config


def upgrade(url: URL, revision: str = "head") -> None:
    """Bring the database at ``url`` up to ``revision``. Safe to run from several processes."""
    engine = create_database_engine(url)
    try:
        # On SQLite the write option makes this BEGIN IMMEDIATE: one migrator at a time.
        with engine.execution_options(clarion_write=True).begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()
