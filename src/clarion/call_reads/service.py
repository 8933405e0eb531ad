"""Recording each read of a call's conversation, and showing the record to owners."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from clarion.auth.service import Caller
from clarion.call_reads import repository
from clarion.call_reads.models import CallReadRow
from clarion.call_reads.repository import Wanted
from clarion.database import Unit
from clarion.database.clock import utcnow


def record(unit: Unit, caller: Caller, call_ids: Iterable[int]) -> None:
    """Note that ``caller`` was just given these calls' messages: one entry per call, in the
    unit that read them, so a response is never sent without its entries."""
    now = utcnow()
    repository.add(
        unit.session,
        [
            {
                "organization_id": caller.organization_id,
                "call_id": call_id,
                "actor_type": caller.actor_type,
                "actor_id": caller.actor_id,
                "at": now,
                "address": caller.address,
            }
            for call_id in dict.fromkeys(call_ids)
        ],
    )


def list_entries(unit: Unit, caller: Caller, limit: int, wanted: Wanted) -> list[dict[str, Any]]:
    """The caller's organization's entries, newest first."""
    rows = repository.entries(unit.session, caller.organization_id, limit, wanted)
    return [entry_json(row) for row in rows]


def export(unit: Unit, organization_id: int, wanted: Wanted) -> Iterator[dict[str, Any]]:
    """Every entry of an organization that is ``wanted``, oldest first, read as it is written
    out."""
    rows = repository.entries(unit.session, organization_id, None, wanted, oldest_first=True)
    return (entry_json(row) for row in rows)


def entry_json(row: CallReadRow) -> dict[str, Any]:
    """How an entry is shown and exported."""
    return {
        "id": row.id,
        "call_id": row.call_id,
        "actor_type": row.actor_type,
        "actor_id": row.actor_id,
        "at": row.at,
        "address": row.address,
    }
