"""Worked deadline cases with literal answers, derived by hand from docs/domain.md
(derivation in each case's comment) and checked against both the engine and the independent oracle.

Calendar facts used: Easter Sunday 2024-03-31 (also the spring DST night in Paris), 2026-04-05,
2027-03-28; Paris DST nights 2026-03-29 (+01:00 -> +02:00 at 02:00) and 2026-10-25 (+02:00 ->
+01:00 at 03:00); Réunion is +04:00 and Martinique -04:00 all year.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import accelerator
from accelerator.sla.calendars import WorkingCalendar
from accelerator.sla.durations import Duration, Unit, add, between

from . import sla_oracle as oracle

SEED_FILE = Path(accelerator.__file__).parent / "catalogue" / "seed" / "calendars.json"
CALENDARS: dict[str, WorkingCalendar] = {
    row["code"]: WorkingCalendar.from_spec(row["code"], row["timezone"], row["spec"])
    for row in json.loads(SEED_FILE.read_text(encoding="utf-8"))
}

BH = "business_hours"
BD = "business_days"
WD = "working_days"
CD = "calendar_days"

# (start, amount, unit, calendar, prorogation, expected deadline as printed)
ADD_CASES = [
    # --- docs/domain.md examples
    # Tue 9 June: Wed 10 (1), Thu 11 (2) -> end of Thu 11.
    ("2026-06-09T10:00:00+02:00", 2, BD, "FR", False, "2026-06-12T00:00:00+02:00"),
    # 31 Jan + 1 month: no 31 Feb -> 28 Feb 2026 (not a leap year) -> end of 28 Feb.
    ("2026-01-31T10:00:00+01:00", 1, "months", "FR", False, "2026-03-01T00:00:00+01:00"),
    # --- months that end short
    # 31 Mar + 1 month: no 31 Apr -> 30 Apr (Thursday) -> end of 30 Apr (Paris is +02:00).
    ("2026-03-31T10:00:00+02:00", 1, "months", "FR", False, "2026-05-01T00:00:00+02:00"),
    # 31 Jan 2024 + 1 month: leap year -> 29 Feb 2024.
    ("2024-01-31T10:00:00+01:00", 1, "months", "FR", False, "2024-03-01T00:00:00+01:00"),
    # 29 Feb 2024 + 12 months: no 29 Feb 2025 -> 28 Feb 2025.
    ("2024-02-29T10:00:00+01:00", 12, "months", "FR", False, "2025-03-01T00:00:00+01:00"),
    # 29 Feb 2024 + 48 months: 29 Feb 2028 exists.
    ("2024-02-29T10:00:00+01:00", 48, "months", "FR", False, "2028-03-01T00:00:00+01:00"),
    # 28 Feb + 1 month -> end of 28 Mar = 00:00 of 29 Mar, the DST day (still +01:00 at 00:00).
    ("2026-02-28T10:00:00+01:00", 1, "months", "FR", False, "2026-03-29T00:00:00+01:00"),
    # Months are NOT additive: 31 Jan +1 month = 28 Feb, +1 month again = 28 Mar, but
    # 31 Jan + 2 months = 31 Mar.
    ("2026-02-28T23:59:59+01:00", 1, "months", "FR", False, "2026-03-29T00:00:00+01:00"),
    ("2026-01-31T10:00:00+01:00", 2, "months", "FR", False, "2026-04-01T00:00:00+02:00"),
    # Prorogation: last day Sat 28 Feb 2026 -> Mon 2 Mar.
    ("2026-01-31T10:00:00+01:00", 1, "months", "FR", True, "2026-03-03T00:00:00+01:00"),
    # --- DST nights, business hours
    # Fri 27 Mar 16:00 +01:00: 16-17 (1h), weekend (DST night), Mon 30 Mar 09-10 (2h).
    ("2026-03-27T16:00:00+01:00", 2, BH, "FR", False, "2026-03-30T10:00:00+02:00"),
    # Fri 23 Oct 16:00 +02:00: 16-17 (1h), weekend (DST night), Mon 26 Oct 09-10 (2h).
    ("2026-10-23T16:00:00+02:00", 2, BH, "FR", False, "2026-10-26T10:00:00+01:00"),
    # --- DST nights, hours (UTC arithmetic)
    # 28 Mar 12:00+01 = 11:00Z; +24h = 29 Mar 11:00Z = 13:00+02:00 (a 23-hour day).
    ("2026-03-28T12:00:00+01:00", 24, "hours", "FR", False, "2026-03-29T13:00:00+02:00"),
    # 24 Oct 12:00+02 = 10:00Z; +24h = 25 Oct 10:00Z = 11:00+01:00 (a 25-hour day).
    ("2026-10-24T12:00:00+02:00", 24, "hours", "FR", False, "2026-10-25T11:00:00+01:00"),
    # 01:30+01 = 00:30Z; +1h = 01:30Z = 03:30+02:00 (02:00-03:00 does not exist).
    ("2026-03-29T01:30:00+01:00", 1, "hours", "FR", False, "2026-03-29T03:30:00+02:00"),
    # 02:30+02 = 00:30Z; +1h = 01:30Z = the SECOND 02:30, now +01:00.
    ("2026-10-25T02:30:00+02:00", 1, "hours", "FR", False, "2026-10-25T02:30:00+01:00"),
    # Calendar day across the spring night: Sat 28 Mar + 1 -> end of Sun 29 -> Mon 00:00+02:00.
    ("2026-03-28T10:00:00+01:00", 1, CD, "FR", False, "2026-03-30T00:00:00+02:00"),
    # --- Easter on the DST weekend (2024): Good Friday 29 Mar, Easter Monday 1 Apr
    # FR: Fri 29 (1), Sat/Sun, Mon 1 Apr holiday, Tue 2 (2) -> end of Tue 2.
    ("2024-03-28T10:00:00+01:00", 2, BD, "FR", False, "2024-04-03T00:00:00+02:00"),
    # FR-67: Fri 29 Good Friday, Mon 1 holiday: Tue 2 (1), Wed 3 (2) -> end of Wed 3.
    ("2024-03-28T10:00:00+01:00", 2, BD, "FR-67", False, "2024-04-04T00:00:00+02:00"),
    # FR: Thu 16-17 (1), Fri 9-12 (4) 14-17 (7), Mon holiday, Tue 2 Apr 9-10 (8).
    ("2024-03-28T16:00:00+01:00", 8, BH, "FR", False, "2024-04-02T10:00:00+02:00"),
    # FR-67: Thu 16-17 (1), Fri & Mon holidays, Tue 9-12 (4) 14-17 (7), Wed 3 Apr 9-10 (8).
    ("2024-03-28T16:00:00+01:00", 8, BH, "FR-67", False, "2024-04-03T10:00:00+02:00"),
    # --- Alsace-Moselle: Good Friday 3 Apr 2026 and Easter Monday 6 Apr 2026
    ("2026-04-02T10:00:00+02:00", 1, BD, "FR", False, "2026-04-04T00:00:00+02:00"),
    ("2026-04-02T10:00:00+02:00", 1, BD, "FR-67", False, "2026-04-08T00:00:00+02:00"),
    ("2026-04-02T10:00:00+02:00", 1, BD, "FR-57", False, "2026-04-08T00:00:00+02:00"),
    ("2026-04-02T10:00:00+02:00", 1, BD, "FR-68", False, "2026-04-08T00:00:00+02:00"),
    # 1 calendar day: last day Fri 3; prorogation on FR-67 skips Fri 3 (holiday), Sat, Sun,
    # Mon 6 (holiday) -> Tue 7; on FR, Fri 3 is a business day -> unchanged.
    ("2026-04-02T10:00:00+02:00", 1, CD, "FR-67", True, "2026-04-08T00:00:00+02:00"),
    ("2026-04-02T10:00:00+02:00", 1, CD, "FR", True, "2026-04-04T00:00:00+02:00"),
    # --- Alsace-Moselle: 26 December 2025 (Friday); 25 Dec is Thursday
    # FR: Thu 25 holiday, Fri 26 (1) -> end of Fri 26.
    ("2025-12-24T10:00:00+01:00", 1, BD, "FR", False, "2025-12-27T00:00:00+01:00"),
    # FR-67: Thu 25, Fri 26 holidays, Sat/Sun -> Mon 29 (1).
    ("2025-12-24T10:00:00+01:00", 1, BD, "FR-67", False, "2025-12-30T00:00:00+01:00"),
    # Working days count Saturdays: FR-67 Sat 27 (1) -> end of Sat 27 ...
    ("2025-12-24T10:00:00+01:00", 1, WD, "FR-67", False, "2025-12-28T00:00:00+01:00"),
    # ... and prorogation moves a Saturday last day to Monday 29.
    ("2025-12-24T10:00:00+01:00", 1, WD, "FR-67", True, "2025-12-30T00:00:00+01:00"),
    # --- Overseas: Réunion (+04:00), abolition day 20 Dec (Monday in 2027)
    # Fri 17 Dec 16:00+04: 16-17 (1), Mon 20 holiday, Tue 21 09-10 (2).
    ("2027-12-17T16:00:00+04:00", 2, BH, "FR-974", False, "2027-12-21T10:00:00+04:00"),
    # Same instant on the Paris calendar is Fri 13:00+01:00 (lunch): 14-16 -> 16:00 Paris.
    ("2027-12-17T16:00:00+04:00", 2, BH, "FR", False, "2027-12-17T16:00:00+01:00"),
    # Fri 17 + 1 business day: Mon 20 holiday -> Tue 21 -> end of Tue 21, printed +04:00.
    ("2027-12-17T10:00:00+04:00", 1, BD, "FR-974", False, "2027-12-22T00:00:00+04:00"),
    # 16 Dec 22:00Z is already Fri 17 02:00 in Réunion (start day Fri 17) ...
    ("2027-12-16T22:00:00+00:00", 1, BD, "FR-974", False, "2027-12-22T00:00:00+04:00"),
    # ... but still Thu 16 23:00 in Paris (start day Thu 16, Fri 17 counts).
    ("2027-12-16T22:00:00+00:00", 1, BD, "FR", False, "2027-12-18T00:00:00+01:00"),
    # --- Overseas: Martinique (-04:00), abolition day Fri 22 May 2026, Whit Monday 25 May.
    ("2026-05-21T10:00:00-04:00", 1, BD, "FR-972", False, "2026-05-27T00:00:00-04:00"),
    # --- business hours at the edges
    # Fri 16:00 + 2: Fri 16-17, Mon 09-10.
    ("2026-06-12T16:00:00+02:00", 2, BH, "FR", False, "2026-06-15T10:00:00+02:00"),
    # A Saturday start counts from Monday 09:00.
    ("2026-06-13T11:00:00+02:00", 1, BH, "FR", False, "2026-06-15T10:00:00+02:00"),
    # ... and a budget used up exactly at 12:00 returns 12:00, not 14:00.
    ("2026-06-13T11:00:00+02:00", 3, BH, "FR", False, "2026-06-15T12:00:00+02:00"),
    ("2026-06-09T09:00:00+02:00", 3, BH, "FR", False, "2026-06-09T12:00:00+02:00"),
    # ... and at 17:00, not the next day's 09:00.
    ("2026-06-09T09:00:00+02:00", 6, BH, "FR", False, "2026-06-09T17:00:00+02:00"),
    # Start exactly at 12:00: lunch, counts from 14:00.
    ("2026-06-09T12:00:00+02:00", 1, BH, "FR", False, "2026-06-09T15:00:00+02:00"),
    # Start exactly at 17:00: counts from the next day's 09:00.
    ("2026-06-09T17:00:00+02:00", 1, BH, "FR", False, "2026-06-10T10:00:00+02:00"),
    # 11:30 + 1: 11:30-12:00 (0.5), 14:00-14:30 (1).
    ("2026-06-09T11:30:00+02:00", 1, BH, "FR", False, "2026-06-09T14:30:00+02:00"),
    # A night start counts from 09:00.
    ("2026-06-09T03:00:00+02:00", 1, BH, "FR", False, "2026-06-09T10:00:00+02:00"),
    # --- the start's LOCAL date decides the start day: 9 Jun 22:30Z = 10 Jun 00:30 Paris.
    ("2026-06-09T22:30:00+00:00", 1, CD, "FR", False, "2026-06-12T00:00:00+02:00"),
]

# (start, end, unit, calendar, expected)
BETWEEN_CASES = [
    # End of Thu 11 not reached yet: only Wed 10 is complete.
    ("2026-06-09T10:00:00+02:00", "2026-06-11T23:59:59+02:00", BD, "FR", 1),
    ("2026-06-09T10:00:00+02:00", "2026-06-12T00:00:00+02:00", BD, "FR", 2),
    ("2026-01-31T10:00:00+01:00", "2026-03-01T00:00:00+01:00", "months", "FR", 1),
    ("2026-01-31T10:00:00+01:00", "2026-02-28T23:59:00+01:00", "months", "FR", 0),
    # Fri 16:00 -> Mon 10:00 across the spring night: 2 business hours, 65 elapsed hours.
    ("2026-03-27T16:00:00+01:00", "2026-03-30T10:00:00+02:00", BH, "FR", 2.0),
    ("2026-03-27T16:00:00+01:00", "2026-03-30T10:00:00+02:00", "hours", "FR", 65.0),
    # Same across the autumn night: 67 elapsed hours.
    ("2026-10-23T16:00:00+02:00", "2026-10-26T10:00:00+01:00", BH, "FR", 2.0),
    ("2026-10-23T16:00:00+02:00", "2026-10-26T10:00:00+01:00", "hours", "FR", 67.0),
    # Easter 2024: FR counts Fri 29 and Tue 2; FR-67 only Tue 2.
    ("2024-03-28T10:00:00+01:00", "2024-04-03T00:00:00+02:00", BD, "FR", 2),
    ("2024-03-28T10:00:00+01:00", "2024-04-03T00:00:00+02:00", BD, "FR-67", 1),
    # 09:00 -> 12:00 is 3 business hours; lunch is none.
    ("2026-06-09T09:00:00+02:00", "2026-06-09T12:00:00+02:00", BH, "FR", 3.0),
    ("2026-06-09T12:00:00+02:00", "2026-06-09T14:00:00+02:00", BH, "FR", 0.0),
    ("2026-06-12T16:00:00+02:00", "2026-06-15T10:00:00+02:00", BH, "FR", 2.0),
    # Réunion: Fri 17 Dec 2027 16:00 -> Tue 21 10:00 is 2 business hours (Mon 20 holiday).
    ("2027-12-17T16:00:00+04:00", "2027-12-21T10:00:00+04:00", BH, "FR-974", 2.0),
]


def _engine_add(start: str, amount: int, unit: str, code: str, prorogation: bool) -> str:
    duration = Duration(amount=amount, unit=Unit(unit))
    result = add(
        dt.datetime.fromisoformat(start), duration, CALENDARS[code], prorogation=prorogation
    )
    return result.isoformat()


@pytest.mark.parametrize(("start", "amount", "unit", "code", "prorogation", "expected"), ADD_CASES)
def test_worked_deadline(
    start: str, amount: int, unit: str, code: str, prorogation: bool, expected: str
) -> None:
    assert _engine_add(start, amount, unit, code, prorogation) == expected


@pytest.mark.parametrize(("start", "amount", "unit", "code", "prorogation", "expected"), ADD_CASES)
def test_oracle_agrees_with_worked_deadline(
    start: str, amount: int, unit: str, code: str, prorogation: bool, expected: str
) -> None:
    got = oracle.oracle_add(dt.datetime.fromisoformat(start), amount, unit, code, prorogation)
    assert got.isoformat() == expected


@pytest.mark.parametrize(("start", "end", "unit", "code", "expected"), BETWEEN_CASES)
def test_worked_between(start: str, end: str, unit: str, code: str, expected: float) -> None:
    a, b = dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)
    assert between(a, b, Unit(unit), CALENDARS[code]) == expected
    assert oracle.oracle_between(a, b, unit, code) == expected


def test_hours_across_dst_with_both_ends_in_the_same_zone() -> None:
    """Python subtracts two datetimes sharing one ZoneInfo by WALL time (24 h here); the
    elapsed time across the autumn night is 25 h."""
    paris = oracle.zone("FR")
    a = dt.datetime(2026, 10, 24, 12, 0, tzinfo=paris)
    b = dt.datetime(2026, 10, 25, 12, 0, tzinfo=paris)
    assert between(a, b, Unit.HOURS, CALENDARS["FR"]) == 25.0
    assert add(a, Duration(amount=25, unit=Unit.HOURS), CALENDARS["FR"]).isoformat() == (
        "2026-10-25T12:00:00+01:00"
    )
    a = dt.datetime(2026, 3, 28, 12, 0, tzinfo=paris)
    b = dt.datetime(2026, 3, 29, 12, 0, tzinfo=paris)
    assert between(a, b, Unit.HOURS, CALENDARS["FR"]) == 23.0
