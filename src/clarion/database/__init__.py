"""The database: engines, the schema's base and column types, units of work, compiled
statements, group commit and checkpoints on SQLite, migrations, and what counts as the
database being away. Everything else reaches the database through a unit of work from
:class:`Database` (clarion.database.units says what a unit offers).
"""

from clarion.database.database import Database
from clarion.database.units import Unit

__all__ = ["Database", "Unit"]
