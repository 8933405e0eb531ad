"""Alembic migrations: the environment and the revision files for clarion's schema."""
