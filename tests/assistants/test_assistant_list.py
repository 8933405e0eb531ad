"""GET /v1/assistant: limit, creation-date bounds, order."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from clarion.assistants.models import AssistantRow
from clarion.database import Database
from support import Api, assert_error


def _set_created(database: Database, assistant_id: int, moment: dt.datetime) -> None:
    with database.unit(write=True) as unit:
        session = unit.session
        session.execute(
            update(AssistantRow).where(AssistantRow.id == assistant_id).values(created_at=moment)
        )


@pytest.fixture
def dated(api: Api, database: Database) -> dict[str, int]:
    """Four assistants created on known dates; two share one instant."""
    moments = {
        "jan": dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC),
        "feb": dt.datetime(2026, 2, 10, 9, 0, tzinfo=dt.UTC),
        "mar-a": dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC),
        "mar-b": dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC),
    }
    ids = {}
    for label, moment in moments.items():
        ids[label] = api.create_assistant(name=label)["id"]
        _set_created(database, ids[label], moment)
    return ids


def _names(response: object) -> list[str]:
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    return [item["name"] for item in response.json()]  # type: ignore[attr-defined]


def test_newest_first_with_ties_broken_by_id(api: Api, dated: dict[str, int]) -> None:
    assert _names(api.get("/v1/assistant")) == ["mar-b", "mar-a", "feb", "jan"]


def test_limit(api: Api, dated: dict[str, int]) -> None:
    assert _names(api.get("/v1/assistant", params={"limit": 2})) == ["mar-b", "mar-a"]


def test_default_limit_is_100(api: Api) -> None:
    for number in range(101):
        api.create_assistant(name=f"a{number}")
    assert len(api.get("/v1/assistant").json()) == 100
    assert len(api.get("/v1/assistant", params={"limit": 1000}).json()) == 101


def test_created_at_bounds_are_inclusive(api: Api, dated: dict[str, int]) -> None:
    response = api.get(
        "/v1/assistant",
        params={"created_at_ge": "2026-02-10T09:00:00Z", "created_at_le": "2026-03-10T09:00:00Z"},
    )
    assert _names(response) == ["mar-b", "mar-a", "feb"]


def test_a_bound_without_zone_is_utc(api: Api, dated: dict[str, int]) -> None:
    assert _names(api.get("/v1/assistant", params={"created_at_le": "2026-02-10T09:00:00"})) == [
        "feb",
        "jan",
    ]
    # 10:00 in UTC+01:00 is 09:00 UTC, so February's is included.
    offset = {"created_at_ge": "2026-02-10T10:00:00+01:00"}
    assert _names(api.get("/v1/assistant", params=offset)) == ["mar-b", "mar-a", "feb"]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"created_at_ge": "yesterday"}, "created_at_ge"),
        ({"created_at_le": "2026-13-45T00:00:00"}, "created_at_le"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    api: Api, params: dict[str, object], named: str
) -> None:
    assert_error(api.get("/v1/assistant", params=params), 400, named)


def test_listed_assistants_read_exactly_as_get_shows_them(api: Api, database: Database) -> None:
    created = [
        api.create_assistant(name="Minimal"),
        api.create_assistant(
            name="Everything",
            model={"provider": "openai", "model": "gpt-4o", "temperature": 0.25, "n": None},
            voice={"provider": "11labs", "voiceId": "rachel"},
            first_message='Hello "there" \\ ünïcode',
            max_duration_seconds=900,
            voicemail_message="Call us back.",
            webhook_url="https://hooks.example.org/clarion",
            webhook_secret="whsec-listed",
            analysis_plan={"summaryPrompt": "Summarise."},
        ),
    ]
    # A timestamp without a fraction is written without one, as for a single assistant.
    with database.unit(write=True) as unit:
        session = unit.session
        session.execute(
            update(AssistantRow)
            .where(AssistantRow.id == created[0]["id"])
            .values(created_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC))
        )

    listed = api.get("/v1/assistant").json()
    shown = [api.get(f"/v1/assistant/{a['id']}").json() for a in reversed(created)]
    assert listed == shown
    assert listed[1]["created_at"] == "2026-01-02T03:04:05Z"
    assert listed[0]["is_webhook_secret_set"] is True and "voicemail_message" not in listed[1]


def test_the_list_shows_every_change_made_since_it_was_last_read(api: Api) -> None:
    """The list keeps rendered assistants by version: each kind of change must show."""
    kept = api.create_assistant(name="Kept", first_message="Hello")
    changed = api.create_assistant(name="Changed", first_message="Hello")
    dropped = api.create_assistant(name="Dropped")
    for params in ({}, {"created_at_ge": "2000-01-01T00:00:00Z"}):  # hot path and framework
        assert [item["id"] for item in api.get("/v1/assistant", params=params).json()] == [
            dropped["id"],
            changed["id"],
            kept["id"],
        ]

    api.patch(f"/v1/assistant/{changed['id']}", json={"first_message": "Changed since"})
    api.patch(f"/v1/assistant/{kept['id']}", json={"webhook_secret": "whsec-new"})
    api.delete(f"/v1/assistant/{dropped['id']}")
    for params in ({}, {"created_at_ge": "2000-01-01T00:00:00Z"}):
        listed = api.get("/v1/assistant", params=params).json()
        assert listed == [
            api.get(f"/v1/assistant/{changed['id']}").json(),
            api.get(f"/v1/assistant/{kept['id']}").json(),
        ]
        assert listed[0]["first_message"] == "Changed since"
        assert listed[1]["is_webhook_secret_set"] is True

    restored = api.post(f"/v1/assistant/{dropped['id']}/versions/1/restore")
    assert restored.status_code == 200, restored.text
    listed = api.get("/v1/assistant").json()
    assert [item["id"] for item in listed] == [dropped["id"], changed["id"], kept["id"]]
    assert listed[0] == restored.json()
