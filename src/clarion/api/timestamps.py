"""Times given by clients as bounds on a list, made comparable with stored timestamps."""

from __future__ import annotations

import datetime as dt

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
