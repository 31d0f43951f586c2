"""Exceptional closures, openings and short days change what counts, and are explained."""

from __future__ import annotations

import copy
import json
from typing import Any

from accelerator.catalogue.actions import SEED_DIR
from accelerator.sla.calendars import WorkingCalendar
from accelerator.sla.durations import add, parse_duration
from accelerator.sla.explain import explain
from tests.factories import paris


def calendar_with(overrides: list[dict[str, Any]]) -> WorkingCalendar:
    seed = next(
        c for c in json.loads((SEED_DIR / "calendars.json").read_text()) if c["code"] == "FR"
    )
    spec = copy.deepcopy(seed["spec"])
    spec["overrides"] = overrides
    return WorkingCalendar.from_spec("FR", seed["timezone"], spec)


BRIDGE = {"date": "2026-05-15", "name": "Pont de l'Ascension", "intervals": []}


def test_a_bridge_day_is_not_a_business_day() -> None:
    plain, bridged = calendar_with([]), calendar_with([BRIDGE])
    start = paris(2026, 5, 13, 10)  # Wednesday; Thursday 14 May 2026 is Ascension
    assert add(start, parse_duration("1 business_days"), plain) == paris(2026, 5, 16)
    assert add(start, parse_duration("1 business_days"), bridged) == paris(2026, 5, 19)
    assert any("Pont de l'Ascension (fermeture exceptionnelle)" in line for line in explain(
        start, parse_duration("1 business_days"), bridged
    ))  # fmt: skip


def test_an_exceptional_saturday_opening_counts() -> None:
    opened = calendar_with(
        [{"date": "2026-06-06", "name": "Permanence", "intervals": [["09:00", "12:00"]]}]
    )
    friday = paris(2026, 6, 5, 16)
    # Friday 16-17 (1 h), Saturday 09-12 (3 h) → 4 business hours end Saturday 12:00.
    assert add(friday, parse_duration("4 business_hours"), opened) == paris(2026, 6, 6, 12)
    assert add(friday, parse_duration("4 business_hours"), calendar_with([])) == paris(
        2026, 6, 8, 12
    )


def test_a_short_day_has_fewer_hours() -> None:
    short = calendar_with(
        [{"date": "2026-12-24", "name": "Veille de Noël", "intervals": [["09:00", "12:00"]]}]
    )
    # Thursday 24 Dec 09-12 only, Friday 25 is Christmas → Monday 28 Dec 09:00 + 1 h.
    assert add(paris(2026, 12, 24, 9), parse_duration("4 business_hours"), short) == paris(
        2026, 12, 28, 10
    )
