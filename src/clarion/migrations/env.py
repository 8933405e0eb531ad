"""Alembic environment: always given a connection by clarion.database.migrate."""

from alembic import context
from sqlalchemy import text

import clarion.migrations.tables  # noqa: F401 - registers every table on Base.metadata
from clarion.database.schema import Base

connection = context.config.attributes["connection"]
if connection.dialect.name == "postgresql":
    # Several servers starting at once: the first migrates, the others wait and find it done.
    connection.execute(text("SELECT pg_advisory_xact_lock(72210401)"))

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
