"""Statements compiled once by SQLAlchemy and run straight through the DB-API connection.

SQLAlchemy writes the SQL, knows the dialect and converts values (its column types' own bind
and result processors are used). What these statements skip is its per-execution machinery:
the ORM session, cache-key generation and result objects, which cost many times what the
driver does (the README's performance section has the figures).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import Dialect
from sqlalchemy.sql import ClauseElement, Select
from sqlalchemy.sql.compiler import SQLCompiler

Row = tuple[Any, ...]


def decode_json_text(value: str | bytes | None) -> Any:
    """The result conversion of a JSON column stored as text (SQLite)."""
    return None if value is None else orjson.loads(value)


class Statement:
    """One statement compiled for one dialect.

    With ``documents_as_json``, JSON columns stored as text come back as
    :class:`orjson.Fragment`: for rows read only to be shown, whose documents are then
    written into the response as stored instead of being decoded and encoded again.
    """

    def __init__(
        self, statement: ClauseElement, dialect: Dialect, *, documents_as_json: bool = False
    ) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)  # noqa: S101 - SQL statements compile so
        self.sql = compiled.string
        self._binds = {}
        # Parameters that come with a value of their own: SQLite's OFFSET after LIMIT, and the
        # literal values a statement sets (None included: ``.values(column=None)``).
        self._defaults = {
            name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required
        }
        for name, bind in compiled.binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._binds[name] = processor
        # Most lookups bind only integers: nothing to convert, nothing to add.
        self._plain = not self._binds and not self._defaults
        # A positional driver (SQLite) takes a list: each parameter's name in statement order,
        # with its conversion (None: the value as it is).
        self._positional = (
            [(name, self._binds.get(name)) for name in compiled.positiontup or ()]
            if dialect.positional
            else None
        )
        if isinstance(statement, Select):
            types = [column.type for column in statement.selected_columns]
        else:
            described = getattr(statement, "returning_column_descriptions", ())
            types = [column["type"] for column in described]
        processors: list[Callable[[Any], Any] | None] = [
            kind.dialect_impl(dialect).result_processor(dialect, None) for kind in types
        ]
        if documents_as_json:
            processors = [
                orjson.Fragment if convert is decode_json_text else convert
                for convert in processors
            ]
        self._results = [(i, p) for i, p in enumerate(processors) if p is not None]
        self.converters: list[Callable[[Any], Any] | None] = processors
        """Each column's result conversion (None: the driver's value as it is)."""

    def parameters(self, values: dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """Named values as the driver takes them: converted, in order if it is positional."""
        if self._plain:
            if self._positional is None:
                return values
            return [values[name] for name, _convert in self._positional]
        if self._defaults:
            values = {**self._defaults, **values}
        if self._positional is not None:
            return [
                values[name] if convert is None else convert(values[name])
                for name, convert in self._positional
            ]
        return {
            name: (self._binds[name](value) if name in self._binds else value)
            for name, value in values.items()
        }

    def row(self, raw: Row) -> Row:
        """A driver row with each column's result conversion applied."""
        if not self._results:
            return raw
        values = list(raw)
        for index, convert in self._results:
            value = values[index]
            if value is not None:
                values[index] = convert(value)
        return values  # type: ignore[return-value] # a list unpacks as well as a tuple


class Prepared:
    """A statement built on first use for each dialect, then reused."""

    def __init__(
        self, build: Callable[[], ClauseElement], *, documents_as_json: bool = False
    ) -> None:
        self._build = build
        self._documents_as_json = documents_as_json
        self._compiled: dict[str, Statement] = {}

    def on(self, dialect: Dialect) -> Statement:
        """The statement compiled for this dialect, compiling it the first time."""
        statement = self._compiled.get(dialect.name)
        if statement is None:
            statement = self._compiled[dialect.name] = Statement(
                self._build(), dialect, documents_as_json=self._documents_as_json
            )
        return statement


class Statements:
    """Runs prepared statements on one DB-API connection, inside its open transaction."""

    def __init__(self, dbapi_connection: Any, dialect: Dialect) -> None:
        self._cursor = dbapi_connection.cursor()
        self.dialect = dialect

    def control(self, statement: str) -> None:
        """Run a transaction-control statement (BEGIN IMMEDIATE, COMMIT, ROLLBACK)."""
        self._cursor.execute(statement)

    def execute(self, prepared: Prepared, **values: Any) -> int:
        """Run a statement that returns no rows; the number of rows it changed."""
        statement = prepared.on(self.dialect)
        self._cursor.execute(statement.sql, statement.parameters(values))
        rowcount: int = self._cursor.rowcount
        return rowcount

    def execute_many(self, prepared: Prepared, rows: Sequence[dict[str, Any]]) -> None:
        """Run a statement that returns no rows once for each set of values, in one call."""
        statement = prepared.on(self.dialect)
        self._cursor.executemany(statement.sql, [statement.parameters(row) for row in rows])

    def fetch_one(self, prepared: Prepared, **values: Any) -> Row | None:
        """The first row, converted, or None when there is none."""
        statement = prepared.on(self.dialect)
        self._cursor.execute(statement.sql, statement.parameters(values))
        # fetchall, not fetchone: it runs the statement to its end, so SQLite releases the
        # statement's read snapshot now rather than when the cursor is next used.
        rows = self._cursor.fetchall()
        return statement.row(rows[0]) if rows else None

    def fetch_raw(self, prepared: Prepared, **values: Any) -> tuple[Statement, list[Row]]:
        """The driver's rows unconverted, with the statement that knows how to convert them."""
        statement = prepared.on(self.dialect)
        self._cursor.execute(statement.sql, statement.parameters(values))
        return statement, self._cursor.fetchall()

    def fetch_all(self, prepared: Prepared, **values: Any) -> Iterable[Row]:
        """Every row, converted."""
        statement = prepared.on(self.dialect)
        self._cursor.execute(statement.sql, statement.parameters(values))
        convert = statement.row
        return [convert(raw) for raw in self._cursor.fetchall()]
