"""The schema's shared parts: the declarative base, column types, and the organization-scoped
base every tenant table uses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ColumnElement,
    DateTime,
    Dialect,
    ForeignKey,
    Integer,
    MetaData,
    Table,
    bindparam,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

from clarion.database.statements import decode_json_text

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Every table's base: constraint names follow one convention, so migrations can name them.

    A mapped class is named for its row (``CallRow``), leaving the plain name (``Call``) to
    the API's shape of the same thing.
    """

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


# SQLite only gives auto-increment to a column declared exactly INTEGER PRIMARY KEY.
Identifier = BigInteger().with_variant(Integer(), "sqlite")


def _json_text(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value).decode()


def _sqlite_timestamp(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    # "YYYY-MM-DD HH:MM:SS.ffffff+00:00" without its offset (datetime.replace is slower).
    return value.isoformat(" ", "microseconds")[:26]


def _sqlite_datetime(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    # Parsing the UTC offset in is faster than datetime.replace afterwards (the README's
    # performance section has the figure).
    return dt.datetime.fromisoformat(value + "+00:00")


class _OwnConversionsOnSQLite(TypeDecorator[Any]):
    """A type whose values SQLite's driver gets and gives through two plain functions of
    ours, instead of SQLAlchemy's layered processors; other databases keep SQLAlchemy's."""

    cache_ok = True
    to_sqlite: Callable[[Any], Any]
    from_sqlite: Callable[[Any], Any]

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, ``to_sqlite``; elsewhere SQLAlchemy's conversion."""
        if dialect.name == "sqlite":
            return type(self).to_sqlite
        return super().bind_processor(dialect)

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        """On SQLite, ``from_sqlite``; elsewhere SQLAlchemy's conversion."""
        if dialect.name == "sqlite":
            return type(self).from_sqlite
        return super().result_processor(dialect, coltype)


class _SQLiteJSON(_OwnConversionsOnSQLite):
    """JSON kept as text on SQLite, encoded and decoded by orjson directly.

    SQLAlchemy's SQLite JSON type converts through two layers of wrappers (one for numbers
    stored bare, which we never store); an assistant row has up to three documents.
    """

    impl = JSON(none_as_null=True)
    cache_ok = True
    to_sqlite = staticmethod(_json_text)
    from_sqlite = staticmethod(decode_json_text)


# json, not jsonb, on PostgreSQL: jsonb would keep numbers as numeric values (1e16 as an
# integer), and nothing queries inside these documents.
JSONDocument = _SQLiteJSON()


class UTCDateTime(_OwnConversionsOnSQLite):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """To UTC for the database (naive on SQLite); a naive value is refused."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        # SQLite keeps text; a fixed-width naive UTC form sorts correctly as text.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        """Back as aware UTC: a naive value from the database is taken to be UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)

    # On SQLite the conversions replace SQLAlchemy's (a format string of seven fields one
    # way, a regular expression the other, then process_*_value): every assistant read
    # converts two timestamps, and these cost far less (the README's performance section has
    # the figures). The text is the same fixed-width "YYYY-MM-DD HH:MM:SS.ffffff" SQLAlchemy
    # writes, so stored rows still compare.
    to_sqlite = staticmethod(_sqlite_timestamp)
    from_sqlite = staticmethod(_sqlite_datetime)


class OrganizationScoped:
    """A row that belongs to one organization, and goes when it goes.

    Every tenant table starts with these two columns; repositories always filter on the
    second, so another organization's row is as good as missing.
    """

    @declared_attr
    def id(cls) -> Mapped[int]:
        """The row's id, the table's first column."""
        return mapped_column(Identifier, primary_key=True, sort_order=-2)

    @declared_attr
    def organization_id(cls) -> Mapped[int]:
        """The owning organization; its deletion deletes the row."""
        return mapped_column(
            Identifier, ForeignKey("organizations.id", ondelete="CASCADE"), sort_order=-1
        )


def one_of_organization(table: Table) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The conditions of a statement on one organization's row: the ``id`` and
    ``organization_id`` parameters. Another organization's row is never matched."""
    return table.c.id == bindparam("id"), of_organization(table)


def of_organization(table: Table) -> ColumnElement[bool]:
    """The condition of a statement on an organization's rows: the ``organization_id``
    parameter."""
    return table.c.organization_id == bindparam("organization_id")


# Row ids bound as one parameter: a JSON array on SQLite (read by json_each), an array on
# PostgreSQL.
_IDS = JSONDocument.with_variant(ARRAY(BigInteger), "postgresql")


class _AmongIds(ColumnElement[bool]):
    type = Boolean()
    _is_implicitly_boolean = True  # a condition in itself, as a comparison is: no "= 1"
    # What its cache key is made of, so two conditions on different columns never share one.
    _traverse_internals = [  # noqa: RUF012 - the shape SQLAlchemy declares
        ("column", InternalTraversal.dp_clauseelement),
        ("ids", InternalTraversal.dp_clauseelement),
    ]
    inherit_cache = True

    def __init__(self, column: Column[int], name: str) -> None:
        self.column = column
        self.ids = bindparam(name, type_=_IDS)


def among_ids(column: Column[int], name: str) -> ColumnElement[bool]:
    """The condition that ``column`` is one of the ids given as the parameter ``name``, so
    a statement on many rows is one statement whatever their number."""
    return _AmongIds(column, name)


@compiles(_AmongIds)
def _among_ids_in_json(element: _AmongIds, compiler: SQLCompiler, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} IN (SELECT value FROM json_each({ids}))"  # noqa: S608 - no value in it


@compiles(_AmongIds, "postgresql")
def _among_ids_in_array(element: _AmongIds, compiler: SQLCompiler, **kw: Any) -> str:
    column, ids = compiler.process(element.column, **kw), compiler.process(element.ids, **kw)
    return f"{column} = ANY({ids})"
