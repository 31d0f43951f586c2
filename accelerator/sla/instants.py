"""Reading instants typed by people: ISO 8601, with or without an offset, within bounds.

This module and ``durations.parse_duration`` are the one place where what a person typed
becomes an instant or a duration: the API, the CLI and the catalogue all go through them, so
a bound set here holds everywhere.
"""

from __future__ import annotations

import datetime as dt

from accelerator.shared.errors import InvalidInput
from accelerator.shared.text import t
from accelerator.sla.calendars import WorkingCalendar, zone_named

#: Instants a person may give: far enough for any dossier, and far enough from
#: ``datetime.min``/``max`` that a deadline counted from them stays representable.
EARLIEST_YEAR = 1900
LATEST_YEAR = 2200
#: An ISO 8601 instant with microseconds and an offset has 32 characters.
MAX_INSTANT_LENGTH = 64

_EARLIEST = dt.datetime(EARLIEST_YEAR, 1, 1, tzinfo=dt.UTC)
_LATEST = dt.datetime(LATEST_YEAR + 1, 1, 1, tzinfo=dt.UTC)
_EXAMPLE = "ex. 2026-06-09T10:00:00+02:00"


def check_instant(instant: dt.datetime) -> dt.datetime:
    """``instant`` itself if it is aware and within the admitted years; ``InvalidInput``
    otherwise."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise InvalidInput(t("sla.instant_needs_timezone", example=_EXAMPLE))
    # Compare the local year first: converting 9999-12-31T23:00-05:00 to UTC overflows.
    if not EARLIEST_YEAR <= instant.year <= LATEST_YEAR or not (
        _EARLIEST <= instant.astimezone(dt.UTC) < _LATEST
    ):
        raise InvalidInput(
            t(
                "sla.instant_out_of_range",
                instant=instant.isoformat(),
                earliest=EARLIEST_YEAR,
                latest=LATEST_YEAR,
            )
        )
    return instant


def parse_instant(text: str, calendar: WorkingCalendar) -> dt.datetime:
    """An aware instant; a local time without offset is read in the calendar's zone.

    A local time that does not exist (the DST gap) or exists twice (the DST overlap) is
    refused: the user must say which instant they mean. Only ASCII ISO 8601 is read (no
    full-width digits), in years ``EARLIEST_YEAR`` to ``LATEST_YEAR``.
    """
    cleaned = text.strip()
    if len(text) > MAX_INSTANT_LENGTH or not cleaned.isascii() or not cleaned:
        raise InvalidInput(t("sla.instant_unreadable", example=_EXAMPLE))
    try:
        parsed = dt.datetime.fromisoformat(cleaned)
    except (ValueError, OverflowError):
        shown = f" : « {cleaned} »" if cleaned.isprintable() else ""
        raise InvalidInput(
            t("sla.instant_unreadable_shown", shown=shown, example=_EXAMPLE)
        ) from None
    if parsed.tzinfo is not None:
        return check_instant(parsed)
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        check_instant(parsed.replace(tzinfo=dt.UTC))
    zone = calendar.zone
    first = parsed.replace(tzinfo=zone, fold=0)
    second = parsed.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        # Either in the gap (neither reading round-trips) or in the overlap (both do).
        roundtrip = first.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
        if roundtrip != parsed:
            raise InvalidInput(
                t("sla.local_time_missing", local=parsed.isoformat(), timezone=calendar.timezone)
            )
        raise InvalidInput(
            t("sla.local_time_ambiguous", local=parsed.isoformat(), timezone=calendar.timezone)
        )
    return check_instant(first)


def local_iso(instant: dt.datetime | None, timezone: str) -> str | None:
    """``instant`` as ISO 8601 with the offset of ``timezone`` (stored UTC, shown local)."""
    return None if instant is None else instant.astimezone(zone_named(timezone)).isoformat()
