"""The managers' weekly review pack: one ISO week's figures, its late and at-risk list and the
breach forecast, gathered into one view model that the renderers (``reports/``) lay out as
HTML and PDF.

A week is an ISO week cut in the reporting zone: Monday 00:00 to the next Monday 00:00,
Europe/Paris (``2026-W48``). Every figure is read through ``queries`` with the week as the
period, so the pack says exactly what the dashboard says for those seven days.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.catalogue.models import Administration, ConsultationType, Procedure
from accelerator.metrics import queries
from accelerator.metrics.facts import REPORTING_ZONE
from accelerator.metrics.schemas import (
    AdministrationOut,
    Filters,
    FlowOut,
    ForecastOut,
    GatingOut,
    OpenWorkOut,
    ParallelGainOut,
    ProcedureOut,
    TakeChargeOut,
)
from accelerator.shared.errors import InvalidInput
from accelerator.shared.text import t

#: ``2026-W48``: four digits, ``-W``, two digits (ISO 8601's week date, nothing looser).
WEEK_PATTERN = re.compile(r"(\d{4})-W(\d{2})")
#: The late and at-risk consultations a pack lists (each list; the counts cover all).
OPEN_ITEMS = 50
#: The open consultations the forecast lists, most likely to breach first.
FORECAST_ITEMS = 15


@dataclass(frozen=True, order=True)
class Week:
    """An ISO week of the reporting zone."""

    year: int
    number: int

    def __str__(self) -> str:
        return f"{self.year}-W{self.number:02d}"

    @property
    def first_day(self) -> dt.date:
        """Its Monday."""
        return dt.date.fromisocalendar(self.year, self.number, 1)

    @property
    def last_day(self) -> dt.date:
        """Its Sunday."""
        return self.first_day + dt.timedelta(days=6)

    @property
    def start(self) -> dt.datetime:
        """Monday 00:00 in the reporting zone (included)."""
        return dt.datetime.combine(self.first_day, dt.time(0), tzinfo=REPORTING_ZONE)

    @property
    def end(self) -> dt.datetime:
        """The next Monday 00:00 in the reporting zone (excluded)."""
        following = self.first_day + dt.timedelta(days=7)
        return dt.datetime.combine(following, dt.time(0), tzinfo=REPORTING_ZONE)

    def previous(self) -> Week:
        """The week before."""
        return week_of(self.start - dt.timedelta(days=1))


def week_of(instant: dt.datetime) -> Week:
    """The week ``instant`` falls in (in the reporting zone)."""
    year, number, _ = instant.astimezone(REPORTING_ZONE).isocalendar()
    return Week(year, number)


def parse_week(text: str) -> Week:
    """``2026-W48`` as a week; anything else (``2026-48``, ``2026-W5``, a 53rd week the year
    does not have) is refused with a French message."""
    match = WEEK_PATTERN.fullmatch(text.strip())
    if match is None:
        raise InvalidInput(t("metrics.pack.week_unreadable", week=text))
    year, number = int(match[1]), int(match[2])
    try:
        dt.date.fromisocalendar(year, number, 1)
    except ValueError:
        raise InvalidInput(t("metrics.pack.week_unknown", week=text)) from None
    if not queries.FIRST_DAY.year <= year <= queries.LAST_DAY.year:
        raise InvalidInput(
            t(
                "metrics.day_out_of_range",
                first=queries.FIRST_DAY.isoformat(),
                last=queries.LAST_DAY.isoformat(),
            )
        )
    return Week(year, number)


def last_complete_week(now: dt.datetime) -> Week:
    """The latest week that has ended at ``now``."""
    return week_of(now).previous()


def recent_weeks(now: dt.datetime, count: int) -> list[Week]:
    """The ``count`` latest complete weeks at ``now``, newest first."""
    weeks = [last_complete_week(now)]
    while len(weeks) < count:
        weeks.append(weeks[-1].previous())
    return weeks


#: The pack of a week is due the next Monday at this hour (Paris), with the figures settled.
PACK_HOUR = 7


def due_week(now: dt.datetime) -> Week:
    """The latest week whose pack is due at ``now``: the last complete one from Monday
    07:00 (Paris), the one before until then (the cron ``0 7 * * 1``, Europe/Paris)."""
    local = now.astimezone(REPORTING_ZONE)
    week = last_complete_week(now)
    return week.previous() if local.weekday() == 0 and local.hour < PACK_HOUR else week


def check_week(week: Week, *, now: dt.datetime) -> None:
    """Refuse a week that has not begun at ``now`` (its figures would all be empty)."""
    if week.start > now:
        raise InvalidInput(t("metrics.pack.week_in_future", week=str(week)))


@dataclass(frozen=True)
class WeeklyPack:
    """Everything the weekly review pack shows, ready to lay out."""

    week: Week
    #: When the pack was built; the forecast is made at this instant.
    generated_at: dt.datetime
    #: The instant open work is observed at: the week's end, or ``generated_at`` if sooner.
    as_of: dt.datetime
    #: False while the week is still running (its figures are partial).
    complete: bool
    take_charge: TakeChargeOut
    #: Per procedure: the dossiers answered in the week, legal delay against actual; the
    #: dossiers still waiting for an answer at ``as_of``.
    procedures: list[ProcedureOut]
    #: Each procedure code's label (the catalogue's).
    procedure_names: dict[str, str]
    #: Per administration, by code; figures aggregate by administration, never by agent.
    administrations: list[AdministrationOut]
    #: Each administration code's name, each consultation type's label (the catalogue's).
    names: dict[str, str]
    type_names: dict[str, str]
    gating: list[GatingOut]
    #: The administration that gave the last opinion most often (None: no cycle closed).
    gating_administration: GatingOut | None
    parallel_gain: ParallelGainOut
    #: Consultations sent and finished in the week.
    flow: FlowOut
    open_work: OpenWorkOut
    forecast: list[ForecastOut]

    def name(self, code: str) -> str:
        """An administration's name, or its code when the catalogue no longer has it."""
        return self.names.get(code, code)

    def type_name(self, code: str) -> str:
        """A consultation type's label, or its code when the catalogue no longer has it."""
        return self.type_names.get(code, code)


def _gating_administration(gating: list[GatingOut]) -> GatingOut | None:
    """The one that gated most cycles; ties go to the larger delay added, then the code."""
    gated = [g for g in gating if g.gated > 0]
    if not gated:
        return None
    return min(gated, key=lambda g: (-g.gated, -g.total_delay_days, g.code))


def build_pack(session: Session, week: Week, *, now: dt.datetime) -> WeeklyPack:
    """The pack of ``week`` as of ``now`` (a week not begun yet is refused)."""
    check_week(week, now=now)
    filters = Filters(start=week.start, end=week.end)
    summary = queries.summary(session, filters, now=now)
    in_week = [f for f in summary.flow if f.week == str(week)]
    arrivals = sum(f.arrivals for f in in_week)
    completions = sum(f.completions for f in in_week)
    names = {
        code: name
        for code, name in session.execute(select(Administration.code, Administration.name))
    }
    return WeeklyPack(
        week=week,
        generated_at=now,
        as_of=queries.as_of(filters, now),
        complete=week.end <= now,
        take_charge=summary.take_charge,
        procedures=queries.procedures(session, filters, now=now),
        procedure_names={
            code: label for code, label in session.execute(select(Procedure.code, Procedure.label))
        },
        administrations=summary.administrations,
        names=names,
        type_names={
            code: label
            for code, label in session.execute(
                select(ConsultationType.code, ConsultationType.label)
            )
        },
        gating=summary.gating,
        gating_administration=_gating_administration(summary.gating),
        parallel_gain=summary.parallel_gain,
        flow=FlowOut(
            week=str(week),
            arrivals=arrivals,
            completions=completions,
            net_flow=arrivals - completions,
        ),
        open_work=queries.open_work(session, filters, now=now, limit=OPEN_ITEMS),
        # The forecast looks ahead from now, over every open consultation: how likely each
        # is to miss its legal deadline is what the managers act on this Monday.
        forecast=queries.forecast(session, Filters(), now=now, limit=FORECAST_ITEMS),
    )
