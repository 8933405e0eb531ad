"""Group commit: the SQLite writes of one turn of the event loop, in one transaction."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, insert
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Connection, make_url

from clarion.database import Unit
from clarion.database.engines import create_database_engine
from clarion.database.group_commit import GroupCommit
from clarion.database.statements import Prepared, Statements

NOTES = Table("notes", MetaData(), Column("id", Integer, primary_key=True), Column("text", String))
ADD_NOTE = Prepared(lambda: insert(NOTES).values(text=bindparam("text")))


class Refused(Exception):
    pass


@pytest.fixture
def held(tmp_path: Path) -> Iterator[Connection]:
    """A connection held as an event-loop thread holds one (clarion.database.database)."""
    engine = create_database_engine(make_url(f"sqlite:///{tmp_path / 'notes.db'}"))
    with engine.connect() as held:
        held.connection.driver_connection.execute(  # type: ignore[union-attr]
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)"
        )
        yield held
    engine.dispose()


@pytest.fixture
def connection(held: Connection) -> sqlite3.Connection:
    """The driver's connection under ``held``."""
    driver: sqlite3.Connection = held.connection.driver_connection  # type: ignore[assignment]
    return driver


@pytest.fixture
def statements(connection: sqlite3.Connection) -> list[str]:
    """Every statement the connection runs, in order."""
    seen: list[str] = []
    connection.set_trace_callback(seen.append)
    return seen


def _group(held: Connection) -> GroupCommit:
    driver = held.connection.driver_connection
    return GroupCommit(Statements(driver, sqlite.dialect()), held)


def add_note(unit: Unit, text: str) -> str:
    unit.statements.execute(ADD_NOTE, text=text)
    return text


def add_note_then_refuse(unit: Unit, text: str) -> str:
    unit.statements.execute(ADD_NOTE, text=text)
    raise Refused(text)


def _notes(connection: sqlite3.Connection) -> list[str]:
    return [text for (text,) in connection.execute("SELECT text FROM notes ORDER BY id")]


def test_writes_queued_in_one_turn_share_one_commit(
    held: Connection, connection: sqlite3.Connection, statements: list[str]
) -> None:
    group = _group(held)

    async def at_once() -> list[str]:
        return await asyncio.gather(*(group.run(add_note, (f"note {n}",), {}) for n in range(5)))

    assert asyncio.run(at_once()) == [f"note {n}" for n in range(5)]
    assert _notes(connection) == [f"note {n}" for n in range(5)]
    assert statements.count("BEGIN IMMEDIATE") == 1
    assert statements.count("COMMIT") == 1


def test_writes_in_separate_turns_commit_separately(
    held: Connection, connection: sqlite3.Connection, statements: list[str]
) -> None:
    group = _group(held)

    async def one_after_another() -> None:
        for number in range(3):
            await group.run(add_note, (f"note {number}",), {})

    asyncio.run(one_after_another())
    assert statements.count("COMMIT") == 3


def test_a_unit_that_fails_undoes_only_its_own_changes(
    held: Connection, connection: sqlite3.Connection
) -> None:
    group = _group(held)

    async def at_once() -> list[str | BaseException]:
        return await asyncio.gather(
            group.run(add_note, ("first",), {}),
            group.run(add_note_then_refuse, ("refused",), {}),
            group.run(add_note, ("third",), {}),
            return_exceptions=True,
        )

    first, refused, third = asyncio.run(at_once())
    assert (first, third) == ("first", "third")
    assert isinstance(refused, Refused)
    assert _notes(connection) == ["first", "third"]


def test_when_the_write_lock_cannot_be_had_every_unit_fails_and_nothing_is_written(
    held: Connection, connection: sqlite3.Connection, tmp_path: Path
) -> None:
    connection.execute("PRAGMA busy_timeout=0")
    other_process = sqlite3.connect(tmp_path / "notes.db", isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")  # holds the write lock
    group = _group(held)

    async def at_once() -> list[str | BaseException]:
        return await asyncio.gather(
            *(group.run(add_note, (f"note {n}",), {}) for n in range(3)), return_exceptions=True
        )

    outcomes = asyncio.run(at_once())
    assert all(isinstance(outcome, sqlite3.OperationalError) for outcome in outcomes)
    other_process.execute("ROLLBACK")
    other_process.close()
    assert _notes(connection) == []

    assert asyncio.run(group.run(add_note, ("later",), {})) == "later"  # the connection is fine
    assert _notes(connection) == ["later"]


def test_a_caller_cancelled_while_queued_makes_no_change(
    held: Connection, connection: sqlite3.Connection
) -> None:
    group = _group(held)

    async def one_gives_up() -> None:
        kept = asyncio.create_task(group.run(add_note, ("kept",), {}))
        given_up = asyncio.create_task(group.run(add_note, ("given up",), {}))
        await asyncio.sleep(0)  # both are queued, the commit not yet run
        given_up.cancel()
        assert await kept == "kept"
        with pytest.raises(asyncio.CancelledError):
            await given_up

    asyncio.run(one_gives_up())
    assert _notes(connection) == ["kept"]
