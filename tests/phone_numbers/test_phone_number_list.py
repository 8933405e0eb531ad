"""GET /v1/phone-number: limit, creation-date bounds and order, as the assistant list has."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from phone_number_api import create_phone_number
from sqlalchemy import update

from clarion.database import Database
from clarion.phone_numbers.models import PhoneNumberRow
from support import Api, assert_error


def _set_created(database: Database, phone_number_id: int, moment: dt.datetime) -> None:
    with database.unit(write=True) as unit:
        unit.session.execute(
            update(PhoneNumberRow)
            .where(PhoneNumberRow.id == phone_number_id)
            .values(created_at=moment)
        )


@pytest.fixture
def dated(api: Api, database: Database) -> dict[str, int]:
    """Four numbers created on known dates; two share one instant."""
    moments = {
        "jan": dt.datetime(2026, 1, 10, 9, 0, tzinfo=dt.UTC),
        "feb": dt.datetime(2026, 2, 10, 9, 0, tzinfo=dt.UTC),
        "mar-a": dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC),
        "mar-b": dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC),
    }
    ids = {}
    for line, (label, moment) in enumerate(moments.items()):
        ids[label] = create_phone_number(api, number=f"+1555555010{line}", name=label)["id"]
        _set_created(database, ids[label], moment)
    return ids


def _names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["name"] for item in response.json()]


def test_newest_first_with_ties_broken_by_id(api: Api, dated: dict[str, int]) -> None:
    assert _names(api.get("/v1/phone-number")) == ["mar-b", "mar-a", "feb", "jan"]


def test_limit(api: Api, dated: dict[str, int]) -> None:
    assert _names(api.get("/v1/phone-number", params={"limit": 2})) == ["mar-b", "mar-a"]


def test_default_limit_is_100(api: Api) -> None:
    for line in range(101):
        create_phone_number(api, number=f"+1555556{line:04d}")
    assert len(api.get("/v1/phone-number").json()) == 100
    assert len(api.get("/v1/phone-number", params={"limit": 1000}).json()) == 101


def test_created_at_bounds_are_inclusive(api: Api, dated: dict[str, int]) -> None:
    response = api.get(
        "/v1/phone-number",
        params={"created_at_ge": "2026-02-10T09:00:00Z", "created_at_le": "2026-03-10T09:00:00Z"},
    )
    assert _names(response) == ["mar-b", "mar-a", "feb"]
    before = {"created_at_le": "2026-01-10T08:59:59.999999Z"}
    assert _names(api.get("/v1/phone-number", params=before)) == []


def test_a_bound_without_zone_is_utc(api: Api, dated: dict[str, int]) -> None:
    up_to_feb = {"created_at_le": "2026-02-10T09:00:00"}
    assert _names(api.get("/v1/phone-number", params=up_to_feb)) == ["feb", "jan"]
    # 10:00 in UTC+01:00 is 09:00 UTC, so February's is included.
    offset = {"created_at_ge": "2026-02-10T10:00:00+01:00"}
    assert _names(api.get("/v1/phone-number", params=offset)) == ["mar-b", "mar-a", "feb"]


def test_bounds_and_limit_together(api: Api, dated: dict[str, int]) -> None:
    params = {"created_at_ge": "2026-01-10T09:00:00Z", "limit": 3}
    assert _names(api.get("/v1/phone-number", params=params)) == ["mar-b", "mar-a", "feb"]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"created_at_ge": "yesterday"}, "created_at_ge"),
        ({"created_at_ge": "1767225600"}, "created_at_ge"),
        ({"created_at_le": "2026-13-45T00:00:00"}, "created_at_le"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(
    api: Api, params: dict[str, object], named: str
) -> None:
    assert_error(api.get("/v1/phone-number", params=params), 400, named)


def test_listed_numbers_read_exactly_as_get_shows_them(
    api: Api, phone_number: dict[str, Any]
) -> None:
    bare = create_phone_number(api, number="+15555550999", twilio_auth_token="short")
    listed = api.get("/v1/phone-number").json()
    assert listed == [api.get(f"/v1/phone-number/{n['id']}").json() for n in (bare, phone_number)]
    assert listed == [bare, phone_number]
