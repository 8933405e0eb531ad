"""Date bounds on lists at the edges of the calendar: a bound no timestamp can pass is no bound.

A moment such as the first second of year 1 in UTC+14:00 is a valid ISO 8601 time, but it
lies before the earliest time Python can hold in UTC. Such a bound is clamped to the earliest
(or latest) time, which keeps or drops exactly what the bound asked for.
"""

from __future__ import annotations

import datetime as dt

import pytest

from clarion.api.timestamps import as_utc_bound
from support import Api, assert_error

EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
LATEST = dt.datetime.max.replace(tzinfo=dt.UTC)
FIRST_MOMENT_EAST = "0001-01-01T00:00:00+14:00"  # 13:00 on the last day of year 0 in UTC
LAST_MOMENT_WEST = "9999-12-31T23:59:59-14:00"  # 13:59 on the first day of year 10000 in UTC


def _names(response: object) -> list[str]:
    assert response.status_code == 200, response.text  # type: ignore[attr-defined]
    return [item["name"] for item in response.json()]  # type: ignore[attr-defined]


@pytest.fixture
def two(api: Api) -> list[str]:
    """Two assistants, newest first, created just now."""
    return [api.create_assistant(name=name)["name"] for name in ("first", "second")][::-1]


@pytest.mark.parametrize(
    "params",
    [
        {"created_at_ge": FIRST_MOMENT_EAST},
        {"created_at_le": LAST_MOMENT_WEST},
        {"created_at_ge": FIRST_MOMENT_EAST, "created_at_le": LAST_MOMENT_WEST},
        {"created_at_ge": "0001-01-01T00:00:00", "created_at_le": "9999-12-31T23:59:59.999999"},
    ],
)
def test_bounds_beyond_the_calendar_keep_everything(
    api: Api, two: list[str], params: dict[str, str]
) -> None:
    assert _names(api.get("/v1/assistant", params=params)) == two


@pytest.mark.parametrize(
    "params",
    [
        {"created_at_ge": LAST_MOMENT_WEST},
        {"created_at_le": FIRST_MOMENT_EAST},
        {"created_at_ge": LAST_MOMENT_WEST, "created_at_le": FIRST_MOMENT_EAST},
    ],
)
def test_bounds_beyond_the_calendar_drop_everything(
    api: Api, two: list[str], params: dict[str, str]
) -> None:
    assert _names(api.get("/v1/assistant", params=params)) == []


def test_bounds_beyond_the_calendar_combine_with_a_limit(api: Api, two: list[str]) -> None:
    params = {"limit": "1", "created_at_ge": FIRST_MOMENT_EAST}
    assert _names(api.get("/v1/assistant", params=params)) == two[:1]


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (None, None),
        (dt.datetime(2026, 2, 10, 9, 0), dt.datetime(2026, 2, 10, 9, 0, tzinfo=dt.UTC)),
        (
            dt.datetime(2026, 2, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            dt.datetime(2026, 2, 10, 9, 0, tzinfo=dt.UTC),
        ),
        (dt.datetime.fromisoformat(FIRST_MOMENT_EAST), EARLIEST),
        (dt.datetime.fromisoformat(LAST_MOMENT_WEST), LATEST),
        (dt.datetime.min, EARLIEST),
        (dt.datetime.max, LATEST),
    ],
)
def test_a_bound_is_utc_and_within_the_calendar(
    moment: dt.datetime | None, expected: dt.datetime | None
) -> None:
    bound = as_utc_bound(moment)
    assert bound == expected
    assert bound is None or bound.tzinfo is dt.UTC


@pytest.mark.parametrize("bound", ["0.0", "1700000000", "-5", "1700000000.5"])
def test_a_bound_that_is_a_bare_number_is_refused(api: Api, bound: str) -> None:
    response = api.get("/v1/assistant", params={"created_at_le": bound})

    assert_error(response, 400, "created_at_le", "ISO 8601")
