"""The deadline calculator refuses hostile input with a 422 in one French line, never a 500,
answers a range-wide ``between`` from year tables, and a read never waits for a writer's lock."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accelerator.sla.calendars import WorkingCalendar
from tests.api.conftest import Api

START = "2026-01-31T10:00:00+01:00"


@pytest.mark.parametrize(
    ("start", "add"),
    [
        ("9999-12-31T23:59:59+00:00", "1 months"),
        ("9999-12-31T23:00:00-05:00", "1 hours"),
        ("0001-01-01T00:00:00+01:00", "1 hours"),
        (START, "100000 months"),
        (START, "12345678901234567890 business_days"),
        (START, "1e9 months"),
        (START, "NaN hours"),
        (START, "２ months"),
        (START, "-3 hours"),
        (START, "1.5 months"),
        (START, " " * 50_000 + "1 months"),
        ("2026-01-31T10:00:00+25:00", "1 months"),
        ("２０２６-01-31T10:00:00", "1 months"),
    ],
)
def test_hostile_deadlines_are_422_in_one_french_line(
    api: Callable[[str], Api], start: str, add: str
) -> None:
    answer = api("holder@test.fr").get(
        "/api/v1/deadline", 422, params={"calendar": "FR", "start": start, "add": add}
    )
    assert "\n" not in answer["detail"] and len(answer["detail"]) < 300


@pytest.mark.parametrize(
    ("start", "end", "unit"),
    [
        ("0001-01-01T00:00:00+00:00", "9999-12-31T00:00:00+00:00", "business_hours"),
        ("1899-12-31T00:00:00+00:00", "2026-01-01T00:00:00+00:00", "business_days"),
        ("2026-01-01T00:00:00+00:00", "9999-12-31T23:59:59-05:00", "months"),
        (START, START, "day"),
    ],
)
def test_hostile_betweens_are_422(
    api: Callable[[str], Api], start: str, end: str, unit: str
) -> None:
    api("holder@test.fr").get(
        "/api/v1/between",
        422,
        params={"calendar": "FR", "start": start, "end": end, "unit": unit},
    )


def test_between_over_the_whole_range_in_business_hours_reads_year_tables_not_days(
    api: Callable[[str], Api], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Three centuries of business hours: a walk over the days would cost 110,000 of them. The
    # answer reads the first and last days' spans and one year table a year, whatever the
    # machine's speed (its time is a benchmark's: bench/bench_deadlines.py).
    days: list[dt.date] = []
    years: list[int] = []
    spans, year_table = WorkingCalendar.spans, WorkingCalendar.year_table

    def counted_spans(calendar: WorkingCalendar, day: dt.date) -> Any:
        days.append(day)
        return spans(calendar, day)

    def counted_year_table(calendar: WorkingCalendar, year: int) -> Any:
        years.append(year)
        return year_table(calendar, year)

    monkeypatch.setattr(WorkingCalendar, "spans", counted_spans)
    monkeypatch.setattr(WorkingCalendar, "year_table", counted_year_table)
    user = api("holder@test.fr")
    params = {
        "calendar": "FR",
        "start": "1900-01-01T01:00:00+01:00",
        "end": "2200-12-31T23:00:00+01:00",
        "unit": "business_hours",
    }
    answer = user.get("/api/v1/between", params=params)
    assert answer["amount"] > 400_000
    assert len(set(days)) <= 2 and len(days) <= 4, days
    assert len(years) <= 2 * (2200 - 1900 + 1), len(years)
    reverse = user.get("/api/v1/between", params={**params, "start": params["end"],
                                                  "end": params["start"]})  # fmt: skip
    assert reverse["amount"] == -answer["amount"]


@pytest.fixture
def holder(api: Callable[[str], Api]) -> Api:
    """Signed in once per test, not once per Hypothesis example."""
    return api("holder@test.fr")


texts = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\A-?[0-9]{1,25} [a-z_]{3,16}\Z"),
    st.from_regex(
        r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?([+-][0-9]{2}:[0-9]{2})?\Z"
    ),
    st.sampled_from(["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00", "1e9 months"]),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    calendar=st.one_of(st.sampled_from(["FR", "FR-67", "fr", "XX", "", "FR\x00"]), st.text()),
    start=texts,
    end=texts,
    amount=texts,
    unit=st.one_of(
        st.sampled_from(["hours", "business_hours", "months", "business_days"]),
        st.text(max_size=20),
    ),
)
def test_any_input_is_200_or_422_never_500(
    holder: Api, calendar: str, start: str, end: str, amount: str, unit: str
) -> None:
    user = holder
    for path, params in (
        ("/api/v1/deadline", {"calendar": calendar, "start": start, "add": amount}),
        ("/api/v1/between", {"calendar": calendar, "start": start, "end": end, "unit": unit}),
    ):
        response = user.client.get(path, params=params, headers=user.headers)
        assert response.status_code in (200, 422), (path, params, response.text)
        if response.status_code == 422:
            assert "\n" not in response.json()["detail"]


def test_a_read_answers_while_a_writer_holds_the_sqlite_lock(
    api: Callable[[str], Api], db: Any
) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the write lock of BEGIN IMMEDIATE is SQLite's")
    user = api("holder@test.fr")
    writer = sqlite3.connect(db.engine.url.database, isolation_level=None, timeout=30)
    results: list[Any] = []
    try:
        writer.execute("BEGIN IMMEDIATE")
        params = {"calendar": "FR", "start": START, "add": "1 months"}
        reader = threading.Thread(
            target=lambda: results.append(
                user.client.get("/api/v1/deadline", params=params, headers=user.headers)
            ),
            daemon=True,
        )
        began = time.perf_counter()
        reader.start()
        reader.join(5)
        took = time.perf_counter() - began
        assert not reader.is_alive(), "a GET waited for the writer's lock"
        assert took < 5 and results[0].status_code == 200, results[0].text
        for path in ("/api/v1/dossiers", "/api/v1/calendars"):
            answer = user.client.get(path, headers=user.headers)
            assert answer.status_code == 200, answer.text
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    reader.join(35)


def test_a_write_still_waits_for_the_writer(api: Callable[[str], Api], db: Any) -> None:
    if db.dialect != "sqlite":
        pytest.skip("the write lock of BEGIN IMMEDIATE is SQLite's")
    from sqlalchemy import text

    # The writer's lock is real for writes: a write transaction started meanwhile waits.
    writer = sqlite3.connect(db.engine.url.database, isolation_level=None, timeout=30)
    writer.execute("BEGIN IMMEDIATE")
    waited: list[float] = []

    def write() -> None:
        began = time.perf_counter()
        with db.transaction() as session:
            session.execute(text("SELECT 1"))
        waited.append(time.perf_counter() - began)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    time.sleep(0.5)
    writer.execute("ROLLBACK")
    writer.close()
    thread.join(10)
    assert waited and waited[0] >= 0.4
