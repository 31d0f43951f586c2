"""Agreement: the deadline engine against the independent oracle (``sla_oracle.py``).

Random but reproducible: every family draws from ``random.Random(SEED + family offset)``; a
failure prints the seed and each disagreeing input. Override with ``SLA_ORACLE_SEED`` and the
number of cases with ``SLA_ORACLE_CASES`` (default 10 000 per unit family for FR + FR-67, and
``SLA_ORACLE_OVERSEAS_CASES``, default 1 000 per family for FR-974 + FR-972).

Each case checks ``add`` (instant AND printed offset) and ``between`` on a random pair, plus
``between(start, add(start, d))`` against the oracle.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import accelerator
from accelerator.sla.calendars import WorkingCalendar
from accelerator.sla.durations import Duration, Unit, add, between

from . import sla_oracle as oracle

SEED = int(os.environ.get("SLA_ORACLE_SEED", "20260609"))
CASES = int(os.environ.get("SLA_ORACLE_CASES", "10000"))
OVERSEAS_CASES = int(os.environ.get("SLA_ORACLE_OVERSEAS_CASES", "1000"))
MAIN_CODES = ("FR", "FR-67")
OVERSEAS_CODES = ("FR-974", "FR-972")
UTC = dt.UTC
FIRST_DAY = dt.date(2024, 1, 1)
LAST_DAY = dt.date(2030, 12, 31)
MAX_REPORTED = 15

SEED_FILE = Path(accelerator.__file__).parent / "catalogue" / "seed" / "calendars.json"
CALENDARS: dict[str, WorkingCalendar] = {
    row["code"]: WorkingCalendar.from_spec(row["code"], row["timezone"], row["spec"])
    for row in json.loads(SEED_FILE.read_text(encoding="utf-8"))
}

#: Zones a start may be written in (the engine must convert to the calendar's zone).
INPUT_ZONES = (
    None,  # the calendar's own zone
    UTC,
    ZoneInfo("America/New_York"),
    dt.timezone(dt.timedelta(hours=5, minutes=30)),
)

#: Wall times that sit on the edges of working time, the DST nights and the day.
EDGE_TIMES = [
    dt.time(0, 0),
    dt.time(0, 0, 0, 1),
    dt.time(1, 30),
    dt.time(2, 0),
    dt.time(2, 30),
    dt.time(3, 0),
    dt.time(3, 30),
    dt.time(8, 59, 59),
    dt.time(9, 0),
    dt.time(9, 0, 1),
    dt.time(10, 17),
    dt.time(11, 59),
    dt.time(12, 0),
    dt.time(12, 0, 1),
    dt.time(13, 0),
    dt.time(13, 59, 59, 999999),
    dt.time(14, 0),
    dt.time(15, 45, 30),
    dt.time(16, 59),
    dt.time(17, 0),
    dt.time(17, 0, 0, 1),
    dt.time(20, 0),
    dt.time(23, 0),
    dt.time(23, 59, 59, 999999),
]


def _dst_change_days() -> list[dt.date]:
    paris = ZoneInfo("Europe/Paris")
    days, day = [], FIRST_DAY
    while day <= LAST_DAY:
        before = dt.datetime.combine(day, dt.time(0), tzinfo=paris).utcoffset()
        after = dt.datetime.combine(day, dt.time(23), tzinfo=paris).utcoffset()
        if before != after:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


DST_DAYS = _dst_change_days()
assert len(DST_DAYS) == 14, DST_DAYS  # two per year, 2024-2030


class Generator:
    """Random start instants biased towards the interesting ones."""

    def __init__(self, rng: random.Random, codes: tuple[str, ...]) -> None:
        self.rng = rng
        self.codes = codes
        self.special_days: dict[str, list[dt.date]] = {}
        for code in codes:
            days: list[dt.date] = []
            for year in range(FIRST_DAY.year, LAST_DAY.year + 1):
                days.extend(oracle.holidays(code, year))
            days.extend(DST_DAYS)
            around = [d + dt.timedelta(days=k) for d in days for k in (-3, -1, 0, 1)]
            self.special_days[code] = sorted(set(around))

    def code(self) -> str:
        return self.rng.choice(self.codes)

    def day(self, code: str) -> dt.date:
        rng = self.rng
        if rng.random() < 0.4:
            return rng.choice(self.special_days[code])
        return FIRST_DAY + dt.timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days + 1))

    def wall(self) -> dt.time:
        rng = self.rng
        if rng.random() < 0.6:
            return rng.choice(EDGE_TIMES)
        if rng.random() < 0.5:
            return dt.time(rng.randrange(24), rng.randrange(60))
        return dt.time(
            rng.randrange(24), rng.randrange(60), rng.randrange(60), rng.randrange(10**6)
        )

    def at(self, day: dt.date, wall: dt.time, code: str) -> dt.datetime:
        """The instant at a local wall time, normalised (a time that does not exist in a DST
        spring-forward night is shifted by zoneinfo, then re-expressed); fold picked at random
        so both instants of the repeated autumn hour occur."""
        local = dt.datetime.combine(day, wall, tzinfo=oracle.zone(code))
        local = local.replace(fold=self.rng.randrange(2))
        return self.express(local.astimezone(UTC), code)

    def express(self, instant: dt.datetime, code: str) -> dt.datetime:
        target = self.rng.choice(INPUT_ZONES) or oracle.zone(code)
        return instant.astimezone(UTC).astimezone(target)

    def start(self, code: str) -> dt.datetime:
        if self.rng.random() < 0.25:
            seconds = self.rng.randrange(7 * 366 * 86400)
            instant = dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=seconds)
            return self.express(instant, code)
        return self.at(self.day(code), self.wall(), code)

    def amount(self, high: int) -> int:
        if self.rng.random() < 0.15:
            return self.rng.choice([0, 1, 2, 3])
        return self.rng.randint(0, high)

    def end_after(self, start: dt.datetime, code: str, max_days: int) -> dt.datetime:
        """A random instant at or after ``start``; often exactly on a local midnight or a
        working-interval edge (or a microsecond off it)."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.05:
            return start
        if roll < 0.45:
            seconds = rng.randrange(max_days * 86400)
            return self.express(start + dt.timedelta(seconds=seconds), code)
        day = oracle.local_date(start, code) + dt.timedelta(days=rng.randrange(max_days))
        end = self.at(day, rng.choice(EDGE_TIMES), code)
        if end.astimezone(UTC) < start.astimezone(UTC):
            return self.express(start, code)
        return end


def _same_instant_and_offset(engine: dt.datetime, expected: dt.datetime) -> bool:
    return (
        isinstance(engine, dt.datetime)
        and engine.tzinfo is not None
        and engine.astimezone(UTC) == expected.astimezone(UTC)
        and engine.utcoffset() == expected.utcoffset()
    )


def _same_amount(engine: object, expected: float | int, unit: str) -> bool:
    if unit in (oracle.HOURS, oracle.BUSINESS_HOURS):
        # A number of hours; a whole number may come back as an int (18 == 18.0).
        return (
            isinstance(engine, int | float)
            and not isinstance(engine, bool)
            and abs(engine - expected) <= 1e-9
        )
    return isinstance(engine, int) and not isinstance(engine, bool) and engine == expected


def _show(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.datetime) else repr(value)


def _run_family(
    family: str,
    offset: int,
    codes: tuple[str, ...],
    cases: int,
    units: tuple[str, ...],
    max_amount: int,
    pair_days: int,
) -> None:
    rng = random.Random(SEED + offset)
    gen = Generator(rng, codes)
    failures: list[str] = []
    count = 0

    def check(label: str, call: Callable[[], object], expected: object, ok: Callable) -> None:
        nonlocal count
        try:
            got: object = call()
        except Exception as error:  # report, do not stop: every disagreement counts
            got = f"raised {type(error).__name__}: {error}"
        if not ok(got, expected):
            count += 1
            if len(failures) < MAX_REPORTED:
                failures.append(
                    f"  {label}\n    engine: {_show(got)}\n    oracle: {_show(expected)}"
                )

    for index in range(cases):
        code = gen.code()
        calendar = CALENDARS[code]
        unit = rng.choice(units)
        amount = gen.amount(max_amount)
        prorogation = unit not in (oracle.HOURS, oracle.BUSINESS_HOURS) and rng.random() < 0.3
        start = gen.start(code)
        duration = Duration(amount=amount, unit=Unit(unit))
        expected = oracle.oracle_add(start, amount, unit, code, prorogation)
        label = (
            f"#{index} add({start.isoformat()}, {amount} {unit}, {code}, prorogation={prorogation})"
        )
        check(
            label,
            lambda: add(start, duration, calendar, prorogation=prorogation),  # noqa: B023
            expected,
            _same_instant_and_offset,
        )
        # between(start, add(start, d)) on the oracle's deadline
        back = oracle.oracle_between(start, expected, unit, code)
        if not prorogation:
            assert back == amount or abs(back - amount) < 1e-9, (label, back)  # oracle's own law
        check(
            f"#{index} between({start.isoformat()}, {expected.isoformat()}, {unit}, {code})",
            lambda: between(start, expected, Unit(unit), calendar),  # noqa: B023
            back,
            lambda got, exp: _same_amount(got, exp, unit),  # noqa: B023
        )
        # between on a random pair
        end = gen.end_after(start, code, pair_days)
        check(
            f"#{index} between({start.isoformat()}, {end.isoformat()}, {unit}, {code})",
            lambda: between(start, end, Unit(unit), calendar),  # noqa: B023
            oracle.oracle_between(start, end, unit, code),
            lambda got, exp: _same_amount(got, exp, unit),  # noqa: B023
        )
    if failures:
        pytest.fail(
            f"{family}: {count} disagreement(s) engine vs oracle over {cases} cases "
            f"(SLA_ORACLE_SEED={SEED}, generator seed {SEED + offset}); first ones:\n"
            + "\n".join(failures)
        )


DAYS = (oracle.BUSINESS_DAYS, oracle.WORKING_DAYS, oracle.CALENDAR_DAYS)


def test_day_units_agree_with_oracle() -> None:
    _run_family("days", 1, MAIN_CODES, CASES, DAYS, max_amount=60, pair_days=100)


def test_months_agree_with_oracle() -> None:
    _run_family("months", 2, MAIN_CODES, CASES, (oracle.MONTHS,), max_amount=24, pair_days=800)


def test_business_hours_agree_with_oracle() -> None:
    _run_family(
        "business_hours",
        3,
        MAIN_CODES,
        CASES,
        (oracle.BUSINESS_HOURS,),
        max_amount=400,
        pair_days=130,
    )


def test_hours_agree_with_oracle() -> None:
    _run_family("hours", 4, MAIN_CODES, CASES, (oracle.HOURS,), max_amount=2000, pair_days=90)


@pytest.mark.parametrize(
    ("family", "units", "max_amount", "pair_days"),
    [
        ("days", DAYS, 60, 100),
        ("months", (oracle.MONTHS,), 24, 800),
        ("business_hours", (oracle.BUSINESS_HOURS,), 400, 130),
        ("hours", (oracle.HOURS,), 2000, 90),
    ],
)
def test_overseas_calendars_agree_with_oracle(
    family: str, units: tuple[str, ...], max_amount: int, pair_days: int
) -> None:
    offset = 10 + ["days", "months", "business_hours", "hours"].index(family)
    _run_family(
        f"overseas {family}",
        offset,
        OVERSEAS_CODES,
        OVERSEAS_CASES,
        units,
        max_amount,
        pair_days,
    )


# --- the oracle checks itself (no engine involved) ------------------------------------------


def test_oracle_easter_matches_published_table() -> None:
    for year, sunday in oracle.KNOWN_EASTER_SUNDAYS.items():
        assert oracle.easter_sunday(year) == sunday, year
        assert sunday.isoweekday() == 7


def test_oracle_holiday_counts() -> None:
    # 2026: no two holidays share a date, so the counts are the list lengths.
    assert len(oracle.holidays("FR", 2026)) == 11
    assert len(oracle.holidays("FR-67", 2026)) == 13
    assert len(oracle.holidays("FR-974", 2026)) == 12
    assert dt.date(2026, 4, 3) in oracle.holidays("FR-57", 2026)  # Good Friday
    assert dt.date(2026, 4, 3) not in oracle.holidays("FR", 2026)
    assert dt.date(2026, 12, 20) in oracle.holidays("FR-974", 2026)


def test_oracle_interval_clipping_matches_minute_walk() -> None:
    """The clipping oracle used above, against the slow minute-by-minute walk."""
    rng = random.Random(SEED + 99)
    gen = Generator(rng, ("FR", "FR-67", "FR-974", "FR-972"))
    for _ in range(150):
        code = gen.code()
        start = gen.at(gen.day(code), dt.time(rng.randrange(24), rng.randrange(60)), code)
        amount = gen.amount(30)
        walked = oracle.minute_walk_add_business_hours(start, amount, code)
        clipped = oracle.oracle_add(start, amount, oracle.BUSINESS_HOURS, code)
        assert _same_instant_and_offset(walked, clipped), (start, amount, code)
        end = start + dt.timedelta(minutes=rng.randrange(6 * 24 * 60))
        assert oracle.minute_walk_between_business_hours(start, end, code) == pytest.approx(
            oracle.oracle_between(start, end, oracle.BUSINESS_HOURS, code), abs=1e-9
        ), (start, end, code)
