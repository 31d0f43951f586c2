"""Reading instants typed by people: ISO 8601, with or without an offset."""

from __future__ import annotations

import datetime as dt

from accelerator.errors import InvalidInput
from accelerator.sla.calendars import WorkingCalendar


def parse_instant(text: str, calendar: WorkingCalendar) -> dt.datetime:
    """An aware instant; a local time without offset is read in the calendar's zone.

    A local time that does not exist (the DST gap) or exists twice (the DST overlap) is
    refused: the user must say which instant they mean.
    """
    try:
        parsed = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"Instant illisible : « {text} » (attendu ISO 8601, ex. 2026-06-09T10:00:00+02:00)."
        ) from None
    if parsed.tzinfo is not None:
        return parsed
    zone = calendar.zone
    first = parsed.replace(tzinfo=zone, fold=0)
    second = parsed.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        # Either in the gap (neither reading round-trips) or in the overlap (both do).
        roundtrip = first.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
        if roundtrip != parsed:
            raise InvalidInput(
                f"L'heure locale {parsed.isoformat()} n'existe pas dans le fuseau "
                f"{calendar.timezone} (passage à l'heure d'été)."
            )
        raise InvalidInput(
            f"L'heure locale {parsed.isoformat()} existe deux fois dans le fuseau "
            f"{calendar.timezone} (passage à l'heure d'hiver) : précisez le décalage."
        )
    return first
