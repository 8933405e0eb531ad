"""The database: engines, the schema base and column types, units of work, compiled
statements, group commit on SQLite, checkpoints, and what counts as the database being away."""
