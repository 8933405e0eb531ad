"""Times given by clients as bounds on a list, made comparable with stored timestamps."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BeforeValidator

EARLIEST = dt.datetime.min.replace(tzinfo=dt.UTC)
LATEST = dt.datetime.max.replace(tzinfo=dt.UTC)


def as_utc_bound(moment: dt.datetime | None) -> dt.datetime | None:
    """The bound in UTC (a time without a zone is taken as UTC), clamped to the calendar.

    A valid time with an offset can fall outside the range Python holds once moved to UTC
    (the first second of year 1 east of Greenwich, the last of year 9999 west of it). No
    stored timestamp lies out there, so the earliest or latest UTC time keeps or drops exactly
    the rows the bound asked for, where converting it would fail the request.
    """
    if moment is None:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    try:
        return moment.astimezone(dt.UTC)
    except OverflowError:
        offset = moment.utcoffset()
        return EARLIEST if offset is not None and offset > dt.timedelta(0) else LATEST


def _iso_8601_only(value: Any) -> Any:
    # Pydantic would also read a bare number as seconds since 1970; the API takes ISO 8601.
    if isinstance(value, str) and value.strip().lstrip("+-").replace(".", "", 1).isdigit():
        raise ValueError("must be an ISO 8601 date-time, such as 2026-01-01T00:00:00Z")
    return value


IsoDateTime = Annotated[dt.datetime, BeforeValidator(_iso_8601_only)]
"""A date-time a client gives in ISO 8601, and in no other form."""
