"""The managers' figures, read from the derived facts with set-based queries.

Every count, share and sum is one ``GROUP BY``; the percentiles are computed from the one
column of durations the filters select (``figures.percentiles``). Figures aggregate by
administration, never by agent: no query here reads who answered.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import and_, case, false, func, or_, select, true
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from accelerator.dossiers.models import Dossier
from accelerator.metrics import figures, rollups, sketch
from accelerator.metrics import forecast as forecasting
from accelerator.metrics.facts import REPORTING_ZONE, Outcome, iso_weeks
from accelerator.metrics.figures import LEVELS
from accelerator.metrics.models import (
    WEEK_COUNTS,
    ConsultationFact,
    DossierFact,
    ProcedureFact,
)
from accelerator.metrics.schemas import (
    AdministrationOut,
    CalibrationOut,
    CohortOut,
    Filters,
    FlowOut,
    ForecastOut,
    GatingOut,
    HeatmapCellOut,
    HeatmapOut,
    OpenItemOut,
    OpenWorkOut,
    ParallelGainOut,
    ProcedureOut,
    SummaryOut,
    TakeChargeOut,
    WorkInProgressOut,
)
from accelerator.shared.errors import InvalidInput
from accelerator.shared.text import t

#: The days a period may name (a bound, not a rule of the product: nothing older exists).
FIRST_DAY, LAST_DAY = dt.date(2000, 1, 1), dt.date(2100, 12, 31)

#: The most consultations one forecast answer lists.
MAX_FORECAST = 10_000

F = ConsultationFact
D = DossierFact
JUDGED = (Outcome.ANSWERED.value, Outcome.TACIT.value)


def filters_for(
    *,
    first_day: dt.date | None = None,
    last_day: dt.date | None = None,
    procedure: str | None = None,
    administration: str | None = None,
    arrondissement: str | None = None,
    cycle: int | None = None,
) -> Filters:
    """The filters a manager asks for: a period of whole days in the préfecture's zone
    (``first_day`` and ``last_day`` included), catalogue codes upper-cased."""
    for day in (first_day, last_day):
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            raise InvalidInput(
                t(
                    "metrics.day_out_of_range",
                    first=FIRST_DAY.isoformat(),
                    last=LAST_DAY.isoformat(),
                )
            )
    if first_day is not None and last_day is not None and last_day < first_day:
        raise InvalidInput(t("metrics.period_reversed"))

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tzinfo=REPORTING_ZONE)

    return Filters(
        start=None if first_day is None else midnight(first_day),
        end=None if last_day is None else midnight(last_day + dt.timedelta(days=1)),
        procedure=procedure.upper() if procedure else None,
        administration=administration.upper() if administration else None,
        arrondissement=arrondissement.upper() if arrondissement else None,
        cycle=cycle,
    )


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _dimensions(filters: Filters, *, administration: bool = True) -> list[ColumnElement[bool]]:
    """The filters every consultation figure applies (the period aside)."""
    conditions: list[ColumnElement[bool]] = rollups.fact_conditions(filters)
    if administration and filters.administration is not None:
        conditions.append(F.administration_code == filters.administration)
    return conditions


def _in_period(column: Any, filters: Filters) -> list[ColumnElement[bool]]:
    conditions = []
    if filters.start is not None:
        conditions.append(column >= filters.start)
    if filters.end is not None:
        conditions.append(column < filters.end)
    return conditions


def as_of(filters: Filters, now: dt.datetime) -> dt.datetime:
    """The instant open work is observed at: the period's end if it is past, else now."""
    return min(filters.end, now) if filters.end is not None else now


def _open_at(at: dt.datetime, now: dt.datetime | None = None) -> ColumnElement[bool]:
    """Sent, and not yet finished, at ``at``; observed at ``now`` (or later), simply not
    finished (nothing is sent or finished after now): the index on ``finished_at`` alone."""
    if now is not None and at >= now:
        return and_(F.finished_at.is_(None), F.sent_at.is_not(None))
    return and_(F.sent_at <= at, or_(F.finished_at.is_(None), F.finished_at > at))


def _past_target(at: dt.datetime) -> ColumnElement[bool]:
    """Its internal target passed by ``at`` (open items; paused ones have no target)."""
    return F.target_due_at <= at


def _at_risk(at: dt.datetime) -> ColumnElement[bool]:
    """75 % of its internal target used by ``at``, the target not yet passed."""
    return and_(F.target_risk_at <= at, F.target_due_at > at)


# --- Take-in-charge ---


def take_charge(session: Session, filters: Filters, *, now: dt.datetime) -> TakeChargeOut:
    """Dossiers filed in the period: share taken in charge before the 24 h clock's deadline,
    and the p50 / p90 of the time it took (hours). A dossier not yet taken in charge counts
    against the share once its deadline has passed at ``as_of``; before, it is ``pending``
    (unknown yet)."""
    conditions = [*_in_period(D.filed_at, filters)]
    if filters.procedure is not None:
        conditions.append(D.procedures.contains(f",{filters.procedure},", autoescape=True))
    if filters.arrondissement is not None:
        conditions.append(D.arrondissement_code == filters.arrondissement)
    if filters.administration is not None:
        # The dossiers it was consulted on (their facts name it).
        conditions.append(
            D.administrations.contains(f",{filters.administration},", autoescape=True)
        )
    if filters.cycle is not None and filters.cycle != 1:
        # A dossier is taken in charge once, in its first cycle.
        conditions.append(false())
    taken = D.taken_in_charge_at.is_not(None)
    waiting = and_(D.taken_in_charge_at.is_(None), D.withdrawn.is_(False))
    if filters.cycle in (None, 1):
        return _take_charge_rolled_up(session, filters, conditions, waiting, now=now)
    row = session.execute(
        select(
            _count(or_(taken, waiting)),
            _count(taken),
            _count(and_(taken, D.taken_in_charge_at <= D.take_charge_due_at)),
            _count(and_(waiting, D.take_charge_due_at <= as_of(filters, now))),
        ).where(*conditions)
    ).one()
    filed, taken_n, within, late = (int(v) for v in row)
    levels = _exact_hours(session, conditions)
    return TakeChargeOut(
        filed=filed,
        taken=taken_n,
        within_target=within,
        late_pending=late,
        pending=filed - taken_n - late,
        share_within_target=figures.share(within, taken_n + late),
        p50_hours=levels[50],
        p90_hours=levels[90],
    )


def _exact_hours(session: Session, conditions: list[ColumnElement[bool]]) -> Levels:
    """The median and 90th percentile of the hours to take charge of the dossiers taken in
    charge that ``conditions`` select, from their facts (one fetch)."""
    hours = (
        session.connection()
        .execute(select(D.take_charge_hours).where(*conditions, D.taken_in_charge_at.is_not(None)))
        .scalars()
        .all()
    )
    return figures.percentiles([h for h in hours if h is not None], (50, 90))


def _take_charge_rolled_up(
    session: Session,
    filters: Filters,
    conditions: list[ColumnElement[bool]],
    waiting: ColumnElement[bool],
    *,
    now: dt.datetime,
) -> TakeChargeOut:
    """``take_charge`` from the ``dossiers`` cells, the dossiers still waiting read live
    (they are few: the index on ``taken_in_charge_at``)."""
    cells = rollups.select_cells(
        session,
        rollups.DOSSIERS,
        dataclasses.replace(filters, cycle=None),
        start=filters.start,
        end=filters.end,
        by_week=False,
        sketches=("hours",),
        by_administration=False,
    )
    cell = cells.get((rollups.ANY, ""), rollups.Cell())
    filed, taken_n = cell.count("items"), cell.count("taken")
    within = cell.count("taken_in_time")
    late = (
        session.scalar(
            select(func.count()).where(
                *conditions, waiting, D.take_charge_due_at <= as_of(filters, now)
            )
        )
        or 0
    )
    if taken_n <= EXACT_LIMIT:
        levels = _exact_hours(session, conditions)
    else:
        levels = _rounded(sketch.percentiles(*cell.merged("hours"), (50, 90)))
    return TakeChargeOut(
        filed=filed,
        taken=taken_n,
        within_target=within,
        late_pending=int(late),
        pending=filed - taken_n - int(late),
        share_within_target=figures.share(within, taken_n + int(late)),
        p50_hours=levels[50],
        p90_hours=levels[90],
    )


# --- Per procedure: the dossier's commitment ---


def procedures(session: Session, filters: Filters, *, now: dt.datetime) -> list[ProcedureOut]:
    """Per procedure, the dossiers whose consolidated answer falls in the period (a later
    review cycle takes a dossier back until its new answer): the median legal delay (its
    clock's deadline, pauses while the holder was asked included) against the actual time
    from filing to the answer (median, 90th percentile; elapsed days), the share answered by
    the legal deadline; and the dossiers without an answer at ``as_of``, those past their
    legal deadline among them. Withdrawn dossiers are left out. Exact: one row per answered
    dossier and procedure (one dossier in a few has two procedures)."""
    P = ProcedureFact
    conditions: list[ColumnElement[bool]] = [P.withdrawn.is_(False)]
    if filters.procedure is not None:
        conditions.append(P.procedure == filters.procedure)
    if filters.arrondissement is not None:
        conditions.append(P.arrondissement_code == filters.arrondissement)
    consulted = []
    if filters.administration is not None:
        consulted.append(F.administration_code == filters.administration)
    if filters.cycle is not None:
        consulted.append(F.cycle == filters.cycle)
    if consulted:
        conditions.append(P.dossier_id.in_(select(F.dossier_id).where(*consulted)))
    values: dict[str, list[tuple[float | None, float, bool | None]]] = defaultdict(list)
    for code, legal, elapsed, on_time in session.connection().execute(
        select(P.procedure, P.legal_days, P.actual_days, P.on_time).where(
            *conditions, P.answered_at.is_not(None), *_in_period(P.answered_at, filters)
        )
    ):
        values[code].append((legal, elapsed or 0.0, on_time))  # answered: always a duration
    at = as_of(filters, now)
    waiting = and_(P.filed_at <= at, or_(P.answered_at.is_(None), P.answered_at > at), *conditions)
    opened = {
        code: (int(n), int(late))
        for code, n, late in session.execute(
            select(P.procedure, func.count(), _count(P.legal_due_at <= at))
            .where(waiting)
            .group_by(P.procedure)
        )
    }
    result = []
    for code in sorted(set(values) | set(opened)):
        rows = values.get(code, [])
        levels = figures.percentiles([r[1] for r in rows], (50, 90))
        judged = [r[2] for r in rows if r[2] is not None]
        open_n, late = opened.get(code, (0, 0))
        result.append(
            ProcedureOut(
                code=code,
                n=len(rows),
                legal_p50_days=figures.median([r[0] for r in rows if r[0] is not None]),
                actual_p50_days=levels[50],
                actual_p90_days=levels[90],
                on_time_share=figures.share(sum(judged), len(judged)),
                open=open_n,
                open_past_legal=late,
            )
        )
    return result


# --- Per administration ---


def administrations(
    session: Session, filters: Filters, *, now: dt.datetime, opened: OpenCounts | None = None
) -> list[AdministrationOut]:
    """Per administration: delays of the opinions given in the period (tacit included; held
    time, elapsed and business days), on-time shares, tacit share, lateness past the internal
    target; and its open work at ``as_of``: open, past the internal target, at risk.
    ``opened``: ``open_counts``, when the caller read them already."""
    cells = rollups.select_cells(
        session,
        rollups.FINISHED,
        filters,
        start=filters.start,
        end=filters.end,
        by_week=False,
        sketches=rollups.SKETCHES,
    )
    judged = {code: cell for (code, _), cell in cells.items() if cell.count("judged")}
    levels = _duration_levels(session, filters, judged)
    opened = open_counts(session, filters, now=now) if opened is None else opened
    result = []
    for code in sorted(set(judged) | set(opened)):
        cell = judged.get(code, rollups.Cell())
        n, tacit, breaches = cell.count("judged"), cell.count("tacit"), cell.count("breaches")
        on_time, on_target = cell.count("on_time_legal"), cell.count("on_time_target")
        none = dict.fromkeys(figures.LEVELS)
        held_levels, business_levels, late_levels = levels.get(code, (none, none, none))
        whole = OpenCount.total(opened.get(code, {}).values())
        result.append(
            AdministrationOut(
                code=code,
                n=n,
                p50_days=held_levels[50],
                p85_days=held_levels[85],
                p90_days=held_levels[90],
                p95_days=held_levels[95],
                p50_business_days=business_levels[50],
                p85_business_days=business_levels[85],
                p90_business_days=business_levels[90],
                p95_business_days=business_levels[95],
                on_time_share=figures.share(on_time, n),
                on_time_target_share=figures.share(on_target, n),
                tacit_share=figures.share(tacit, n),
                breaches=breaches,
                lateness_p50_days=late_levels[50],
                lateness_p90_days=late_levels[90],
                open=whole.open,
                open_breached=whole.past_target,
                open_legal_breached=whole.past_legal,
                at_risk=whole.at_risk,
            )
        )
    return result


#: Up to this many opinions (or dossiers taken in charge), the percentiles are computed from
#: the facts themselves (exact: reading them costs a few milliseconds); beyond, from the
#: rollups' sketches (within ``sketch.ALPHA``, relatively, where a linear interpolation
#: between so many values is as close).
EXACT_LIMIT = 5_000

Levels = dict[int, float | None]


def _duration_levels(
    session: Session, filters: Filters, cells: dict[str, rollups.Cell]
) -> dict[str, tuple[Levels, Levels, Levels]]:
    """Per administration: the percentiles of held days, held business days and lateness of
    the opinions the filters select (``cells``: their rollups)."""
    late = (50, 90)
    if sum(cell.count("judged") for cell in cells.values()) > EXACT_LIMIT:
        result = {}
        for code, cell in cells.items():
            found = []
            for name, levels in (("held", LEVELS), ("business", LEVELS), ("lateness", late)):
                buckets, counts = cell.merged(name)
                found.append(_rounded(sketch.percentiles(buckets, counts, levels)))
            result[code] = (found[0], found[1], found[2])
        return result
    durations: dict[str, list[tuple[float, float, float | None]]] = defaultdict(list)
    for code, held, business, lateness in (
        session.connection()
        .execute(
            select(F.administration_code, F.held_days, F.held_business_days, F.lateness_days).where(
                F.outcome.in_(JUDGED), *_in_period(F.finished_at, filters), *_dimensions(filters)
            )
        )
        .all()
    ):
        # A finished consultation always has its held durations (facts.derive).
        durations[code].append((held or 0.0, business or 0.0, lateness))
    return {
        code: (
            figures.percentiles([v[0] for v in values]),
            figures.percentiles([v[1] for v in values]),
            figures.percentiles([v[2] for v in values if v[2] is not None], late),
        )
        for code, values in durations.items()
    }


def _rounded(levels: Levels) -> Levels:
    return {level: figures.rounded(value) for level, value in levels.items()}


def open_work(
    session: Session, filters: Filters, *, now: dt.datetime, limit: int = 50
) -> OpenWorkOut:
    """The open consultations behind ``administrations``' ``open_breached`` and ``at_risk``
    at ``as_of`` (the same conditions): past their internal target, longest past first, and
    at risk, nearest target first; at most ``limit`` of each, with the counts of all."""
    at = as_of(filters, now)
    found: dict[str, tuple[int, list[OpenItemOut]]] = {}
    for name, condition, order in (
        ("late", _past_target(at), F.target_due_at),
        ("at_risk", _at_risk(at), F.target_due_at),
    ):
        where = [_open_at(at, now), condition, *_dimensions(filters)]
        count = session.scalar(select(func.count()).select_from(F).where(*where)) or 0
        rows = session.execute(
            select(
                F.consultation_id,
                F.dossier_id,
                Dossier.reference,
                Dossier.title,
                F.administration_code,
                F.consultation_type_code,
                F.sent_at,
                F.target_due_at,
                F.legal_due_at,
            )
            .join(Dossier, Dossier.id == F.dossier_id)
            .where(*where)
            .order_by(order, F.consultation_id)
            .limit(limit)
        )
        items = [
            OpenItemOut(
                consultation_id=str(consultation_id),
                dossier_id=str(dossier_id),
                reference=reference,
                title=title,
                administration=code,
                consultation_type=kind,
                sent_at=_local(sent),
                target_due_at=_local(target),
                legal_due_at=_local(legal),
                days_past_target=figures.rounded((at - target) / dt.timedelta(days=1))
                if target is not None and target <= at
                else None,
            )
            for (
                consultation_id,
                dossier_id,
                reference,
                title,
                code,
                kind,
                sent,
                target,
                legal,
            ) in rows
        ]
        found[name] = (int(count), items)
    return OpenWorkOut(
        as_of=at.astimezone(REPORTING_ZONE).isoformat(),
        late_count=found["late"][0],
        late=found["late"][1],
        at_risk_count=found["at_risk"][0],
        at_risk=found["at_risk"][1],
    )


def _local(instant: dt.datetime | None) -> str | None:
    return None if instant is None else instant.astimezone(REPORTING_ZONE).isoformat()


# --- Consolidated cycles: gating administration and parallel gain ---


def _cycle_cells(session: Session, filters: Filters) -> dict[tuple[str, str], rollups.Cell]:
    """The ``cycles`` cells of the filters' period (gating and parallel gain share them)."""
    return rollups.select_cells(
        session,
        rollups.CYCLES,
        filters,
        start=filters.start,
        end=filters.end,
        by_week=False,
        sketches=("ratio",),
    )


def gating(
    session: Session,
    filters: Filters,
    *,
    cells: dict[tuple[str, str], rollups.Cell] | None = None,
) -> list[GatingOut]:
    """Per administration, over the cycles closed in the period with at least two opinions:
    how many it gated (it gave the last opinion; tied last opinions all gate, by 0 days),
    out of how many it was consulted on, and the total delay it added beyond the next one
    (``rollups.cycle_measures``)."""
    cells = _cycle_cells(session, filters) if cells is None else cells
    result = []
    for (code, _), cell in sorted(cells.items()):
        consulted, gated = cell.count("gate_consulted"), cell.count("gated")
        if code == rollups.ANY or not consulted:
            continue
        result.append(
            GatingOut(
                code=code,
                gated=gated,
                consulted=consulted,
                share=figures.share(gated, consulted),
                total_delay_days=figures.rounded(cell.count("gate_delay") / rollups.MICRO) or 0.0,
            )
        )
    return result


#: Up to this many cycles, the median cycle's parallel gain is computed from the cycles
#: themselves (exact); beyond, from the rollups' sketches.
CYCLES_EXACT_LIMIT = 300


def parallel_gain(
    session: Session,
    filters: Filters,
    *,
    cells: dict[tuple[str, str], rollups.Cell] | None = None,
) -> ParallelGainOut:
    """Over the cycles closed in the period: the sum of their consultations' elapsed
    durations against the longest one; the ratio of the totals, and the median cycle's."""
    cells = _cycle_cells(session, filters) if cells is None else cells
    cell = cells.get((filters.administration or rollups.ANY, ""), rollups.Cell())
    cycles = cell.count("items")
    total = cell.count("gain_sum") / rollups.MICRO
    longest = cell.count("gain_longest") / rollups.MICRO
    if cycles <= CYCLES_EXACT_LIMIT:
        median = figures.median(rollups.cycle_ratios(session, filters))
    else:
        median = figures.rounded(sketch.percentiles(*cell.merged("ratio"), (50,))[50])
    return ParallelGainOut(
        cycles=cycles,
        sum_days=figures.rounded(total) or 0.0,
        longest_days=figures.rounded(longest) or 0.0,
        ratio=figures.ratio(total, longest),
        median_cycle_ratio=median,
    )


# --- Work in progress, flow and cohorts ---


@dataclasses.dataclass(frozen=True)
class OpenCount:
    """Open consultations of one administration and age bucket at ``as_of``: how many, and
    among them past the internal target, past the legal deadline, at risk."""

    open: int
    past_target: int
    past_legal: int
    at_risk: int

    @classmethod
    def total(cls, counts: Iterable[OpenCount]) -> OpenCount:
        """The counts added up (an administration's, over its age buckets)."""
        found = list(counts)
        return cls(*(sum(getattr(c, f.name) for c in found) for f in dataclasses.fields(cls)))


#: Per administration, per age bucket (``figures.AGE_BUCKETS``' labels): its open work.
OpenCounts = dict[str, dict[str, OpenCount]]


def open_counts(session: Session, filters: Filters, *, now: dt.datetime) -> OpenCounts:
    """The open consultations at ``as_of`` that the filters select, counted per
    administration and by whole days since sending, in one read of the open facts (the
    per-administration table and the work in progress share it)."""
    at = as_of(filters, now)
    bucket = case(
        *[
            (F.sent_at > at - dt.timedelta(days=last + 1), label)
            for label, _first, last in figures.AGE_BUCKETS
            if last is not None
        ],
        else_=figures.AGE_BUCKETS[-1][0],
    )
    counts: OpenCounts = defaultdict(dict)
    for code, label, *row in session.execute(
        select(
            F.administration_code,
            bucket,
            func.count(),
            _count(_past_target(at)),
            _count(F.legal_due_at <= at),
            _count(_at_risk(at)),
        )
        .where(_open_at(at, now), *_dimensions(filters))
        .group_by(F.administration_code, bucket)
    ):
        counts[code][label] = OpenCount(*(int(n) for n in row))
    return dict(counts)


def work_in_progress(
    session: Session, filters: Filters, *, now: dt.datetime, opened: OpenCounts | None = None
) -> list[WorkInProgressOut]:
    """Open consultations at ``as_of`` per administration, by whole days since sending.
    ``opened``: ``open_counts``, when the caller read them already."""
    opened = open_counts(session, filters, now=now) if opened is None else opened
    return [
        WorkInProgressOut(
            code=code,
            **{
                label: found[label].open if label in found else 0
                for label, _, _ in figures.AGE_BUCKETS
            },
            total=OpenCount.total(found.values()).open,
        )
        for code, found in sorted(opened.items())
    ]


def _weeks(session: Session, family: str, filters: Filters) -> dict[str, rollups.Cell]:
    """The ``family``'s cells of the period per ISO week, every administration added up: the
    counts the flow and the cohorts read (``WEEK_COUNTS``, which the cells' index covers)."""
    cells = rollups.select_cells(
        session, family, filters, start=filters.start, end=filters.end, by_week=True,
        by_administration=False, counts=WEEK_COUNTS,
    )  # fmt: skip
    return {week: cell for (_code, week), cell in cells.items()}


def flow(
    session: Session, filters: Filters, *, sent: dict[str, rollups.Cell] | None = None
) -> list[FlowOut]:
    """Per ISO week of the period: consultations sent, finished (any outcome), and the net.
    ``sent``: the ``sent`` cells by week, when the caller read them already."""
    weeks = sent if sent is not None else _weeks(session, rollups.SENT, filters)
    arrivals = {week: cell.count("items") for week, cell in weeks.items()}
    completions = {
        week: cell.count("items")
        for week, cell in _weeks(session, rollups.FINISHED, filters).items()
    }
    return [
        FlowOut(
            week=week,
            arrivals=arrivals.get(week, 0),
            completions=completions.get(week, 0),
            net_flow=arrivals.get(week, 0) - completions.get(week, 0),
        )
        for week in sorted(set(arrivals) | set(completions))
    ]


def cohorts(
    session: Session,
    filters: Filters,
    *,
    now: dt.datetime,
    sent: dict[str, rollups.Cell] | None = None,
) -> list[CohortOut]:
    """Per ISO week of sending in the period: where its consultations stand at ``as_of``
    (still-open ones counted), and the share of its opinions given within the legal delay.
    ``sent``: the ``sent`` cells by week, when the caller read them already."""
    at = as_of(filters, now)
    if at >= now:
        return _cohorts_now(sent if sent is not None else _weeks(session, rollups.SENT, filters))
    done = and_(F.finished_at.is_not(None), F.finished_at <= at)
    rows = session.execute(
        select(
            F.sent_week,
            func.count(),
            _count(and_(done, F.outcome == Outcome.ANSWERED.value)),
            _count(and_(done, F.outcome == Outcome.TACIT.value)),
            _count(and_(done, F.outcome == Outcome.CANCELLED.value)),
            _count(and_(done, F.on_time_legal.is_(True))),
        )
        .where(F.sent_at <= at, *_in_period(F.sent_at, filters), *_dimensions(filters))
        .group_by(F.sent_week)
        .order_by(F.sent_week)
    )
    result = []
    for week, n, answered, tacit, cancelled, on_time in rows:
        result.append(
            CohortOut(
                week=week,
                sent=int(n),
                answered=int(answered),
                tacit=int(tacit),
                cancelled=int(cancelled),
                open=int(n) - int(answered) - int(tacit) - int(cancelled),
                on_time_share=figures.share(int(on_time), int(answered) + int(tacit)),
            )
        )
    return result


def _cohorts_now(weeks: dict[str, rollups.Cell]) -> list[CohortOut]:
    """``cohorts`` observed now, from the consultations' cells by week of sending (what every
    fact says of them is what stands now; none is sent after now)."""
    result = []
    for week, cell in sorted(weeks.items()):
        sent, answered, tacit, cancelled = (
            cell.count(name) for name in ("items", "answered", "tacit", "cancelled")
        )
        result.append(
            CohortOut(
                week=week,
                sent=sent,
                answered=answered,
                tacit=tacit,
                cancelled=cancelled,
                open=sent - answered - tacit - cancelled,
                on_time_share=figures.share(cell.count("on_time_legal"), answered + tacit),
            )
        )
    return result


# --- Heatmap: administration × week against the internal target ---


def heatmap_period(filters: Filters, *, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The instants the heatmap covers: the period up to ``as_of``; without a first day, the
    ``figures.HEATMAP_WEEKS`` weeks before ``as_of``; never more than
    ``figures.MAX_HEATMAP_WEEKS`` weeks (the latest ones)."""
    end = as_of(filters, now)
    start = filters.start or end - dt.timedelta(weeks=figures.HEATMAP_WEEKS)
    return max(start, end - dt.timedelta(weeks=figures.MAX_HEATMAP_WEEKS)), end


def heatmap(session: Session, filters: Filters, *, now: dt.datetime) -> HeatmapOut:
    """Per administration and ISO week of the opinion (tacit ones included), over the
    heatmap's period: the share of opinions given within the internal target, against
    ``figures.ON_TIME_GOAL``. One ``GROUP BY``; weeks without an opinion have no cell."""
    start, end = heatmap_period(filters, now=now)
    found = rollups.select_cells(
        session,
        rollups.FINISHED,
        filters,
        start=start,
        end=None if end >= now else end,
        by_week=True,
    )  # fmt: skip (up to now, the current week is read whole from its cells)
    cells = []
    for (code, week), cell in sorted(found.items()):
        n = cell.count("judged")
        if not n:
            continue
        share = figures.share(cell.count("on_time_target"), n)
        cells.append(
            HeatmapCellOut(
                code=code,
                week=week,
                n=n,
                within_target=cell.count("on_time_target"),
                on_time_target_share=share,
                on_time_share=figures.share(cell.count("on_time_legal"), n),
                meets_goal=share is not None and share >= figures.ON_TIME_GOAL,
            )
        )
    return HeatmapOut(weeks=iso_weeks(start, end), goal=figures.ON_TIME_GOAL, cells=cells)


def up_to_now(filters: Filters, now: dt.datetime) -> Filters:
    """``filters`` with a period ending after ``now`` left open-ended: the same figures (no
    instant a period selects by, a sending, an end, a filing, lies after now; open work is
    observed at now either way), and the current week is then read whole from its cells
    instead of from the facts."""
    if filters.end is not None and filters.end >= now:
        return dataclasses.replace(filters, end=None)
    return filters


def summary(session: Session, filters: Filters, *, now: dt.datetime) -> SummaryOut:
    """Every figure of the dashboard for ``filters``."""
    filters = up_to_now(filters, now)
    take = take_charge(session, filters, now=now)
    cycles = _cycle_cells(session, filters)
    gain = parallel_gain(session, filters, cells=cycles)
    sent = _weeks(session, rollups.SENT, filters)
    opened = open_counts(session, filters, now=now)
    return SummaryOut(
        as_of=as_of(filters, now).astimezone(REPORTING_ZONE).isoformat(),
        take_charge=take,
        take_charge_within_24h_share=take.share_within_target,
        administrations=administrations(session, filters, now=now, opened=opened),
        gating=gating(session, filters, cells=cycles),
        parallel_gain=gain,
        parallel_gain_ratio=gain.ratio,
        work_in_progress=work_in_progress(session, filters, now=now, opened=opened),
        flow=flow(session, filters, sent=sent),
        cohorts=cohorts(session, filters, now=now, sent=sent),
    )


#: The summary's tables served as CSV (``GET /api/v1/metrics/<name>.csv``): the row model, the
#: query ``(session, filters, now)``, and the route's description.
TABLES: dict[str, tuple[type[BaseModel], Callable[..., Sequence[BaseModel]], str]] = {
    "take-charge": (
        TakeChargeOut,
        lambda s, f, now: [take_charge(s, f, now=now)],
        "Prise en charge sous 24 h (une ligne), en CSV.",
    ),
    "administrations": (
        AdministrationOut,
        lambda s, f, now: administrations(s, f, now=now),
        "Délais, respect des délais et travail en cours par administration, en CSV.",
    ),
    "procedures": (
        ProcedureOut,
        lambda s, f, now: procedures(s, f, now=now),
        "Délai légal et délai réel de la réponse consolidée par procédure, en CSV.",
    ),
    "gating": (
        GatingOut,
        lambda s, f, now: gating(s, f),
        "Administrations rendant le dernier avis des dossiers consolidés, en CSV.",
    ),
    "parallel-gain": (
        ParallelGainOut,
        lambda s, f, now: [parallel_gain(s, f)],
        "Gain des consultations en parallèle (une ligne), en CSV.",
    ),
    "work-in-progress": (
        WorkInProgressOut,
        lambda s, f, now: work_in_progress(s, f, now=now),
        "Consultations en cours par administration et par ancienneté, en CSV.",
    ),
    "flow": (
        FlowOut,
        lambda s, f, now: flow(s, f),
        "Arrivées, sorties et solde par semaine ISO, en CSV.",
    ),
    "cohorts": (
        CohortOut,
        lambda s, f, now: cohorts(s, f, now=now),
        "Cohortes par semaine d'envoi (consultations en cours comprises), en CSV.",
    ),
    "heatmap": (
        HeatmapCellOut,
        lambda s, f, now: heatmap(s, f, now=now).cells,
        "Part des avis rendus dans l'objectif interne par administration et semaine, en CSV.",
    ),
    "calibration": (
        CalibrationOut,
        lambda s, f, now: calibration(s, f, now=now),
        "Calibrage de la prévision refaite au début de la période (hors échantillon), en CSV.",
    ),
    "forecast": (
        ForecastOut,
        lambda s, f, now: forecast(s, f, now=now, limit=MAX_FORECAST),
        "Prévision des dépassements (consultations en cours), la plus probable d'abord, en CSV.",
    ),
}


# --- Breach forecast ---


def _finished_history(
    connection: Connection, *conditions: ColumnElement[bool]
) -> defaultdict[tuple[str, str], tuple[list[float], list[bool]]]:
    """Per administration and consultation type, the held days of the finished consultations
    that ``conditions`` select and whether each was answered (an event; else censored), as
    the survival curves take them: four columns a row, their held time as derived."""
    history: defaultdict[tuple[str, str], tuple[list[float], list[bool]]] = defaultdict(
        lambda: ([], [])
    )
    for code, kind, held, answered in connection.execute(
        select(
            F.administration_code,
            F.consultation_type_code,
            F.held_days,
            F.outcome == Outcome.ANSWERED.value,
        ).where(*conditions)
    ):
        durations, events = history[(code, kind)]
        durations.append(max(float(held or 0.0), 0.0))
        events.append(bool(answered))
    return history


def survival_curves(session: Session, *, now: dt.datetime) -> forecasting.Curves:
    """The forecast's survival curves, fitted lazily from every consultation's history
    (answers are events; tacit opinions, cancellations and open items censored at their held
    time so far): ``curve(administration, type)`` → the narrowest curve with enough answers
    and its basis (``forecast.Curves``)."""
    day = dt.timedelta(days=1)
    connection = session.connection()
    # The finished ones (nearly all of them), then the open ones, censored at their held age.
    history = _finished_history(connection, F.outcome != Outcome.OPEN.value)
    for code, kind, sent, waited, since in connection.execute(
        select(
            F.administration_code,
            F.consultation_type_code,
            F.sent_at,
            F.waiting_days,
            F.waiting_since,
        ).where(F.outcome == Outcome.OPEN.value)
    ):
        durations, events = history[(code, kind)]
        durations.append(max(((since or now) - sent) / day - (waited or 0.0), 0.0))
        events.append(False)
    return forecasting.Curves(dict(history))


def forecast(
    session: Session,
    filters: Filters,
    *,
    now: dt.datetime,
    limit: int = 100,
) -> list[ForecastOut]:
    """Each running open consultation (the filters select which; the period, by sending)
    with its probability of missing its legal deadline (``metrics.forecast``), most likely
    first. The history is every consultation's, whatever the filters: the curve of an
    administration and type does not depend on which items a manager looks at.
    A consultation waiting for the holder has no deadline (paused): it is not forecast."""
    day = dt.timedelta(days=1)
    curve = survival_curves(session, now=now)
    items = []
    for consultation_id, code, kind, sent, waited, due in session.connection().execute(
        select(
            F.consultation_id,
            F.administration_code,
            F.consultation_type_code,
            F.sent_at,
            F.waiting_days,
            F.legal_due_at,
        ).where(
            F.outcome == Outcome.OPEN.value,
            F.waiting_since.is_(None),
            F.legal_due_at.is_not(None),
            *_in_period(F.sent_at, filters),
            *_dimensions(filters),
        )
    ):
        assert due is not None  # selected so
        age = (now - sent) / day - waited
        survival, basis = curve(code, kind)
        probability = forecasting.breach_probability(
            survival, age=age, due_age=age + (due - now) / day
        )
        items.append(
            ForecastOut(
                consultation_id=str(consultation_id),
                administration=code,
                consultation_type=kind,
                due_at=due.astimezone(REPORTING_ZONE).isoformat(),
                age_days=figures.rounded(age) or 0.0,
                breach_probability=figures.rounded(probability) or 0.0,
                basis=basis,
                n_history=survival.n,
            )
        )
    items.sort(key=lambda item: (-item.breach_probability, item.due_at, item.consultation_id))
    return items[:limit]


#: The origin of the calibration's forecast when the period has no start: 12 weeks back.
CALIBRATION_ORIGIN = dt.timedelta(weeks=12)


def calibration_origin(filters: Filters, now: dt.datetime) -> dt.datetime:
    """When the calibration's forecast is made again: the period's start, or the midnight
    (Paris) of the day 12 weeks back."""
    if filters.start is not None:
        return min(filters.start, now)
    day = (now - CALIBRATION_ORIGIN).astimezone(REPORTING_ZONE).date()
    return dt.datetime.combine(day, dt.time(0), tzinfo=REPORTING_ZONE)


def calibration(session: Session, filters: Filters, *, now: dt.datetime) -> list[CalibrationOut]:
    """How well a past forecast did, by decile (``forecast.backtest``): the forecast made at
    ``calibration_origin`` from the history as known then, for the consultations the filters
    select that were open then with a legal deadline to come, against what became of them
    (tacit, answered after the deadline, or open past it: missed). Out of sample: what
    happened after the origin does not enter the curves."""
    origin = calibration_origin(filters, now)
    day = dt.timedelta(days=1)

    def days(instant: dt.datetime | None) -> float | None:
        return None if instant is None else (instant - origin) / day

    selected = and_(true(), *_dimensions(filters))
    connection = session.connection()
    # Those finished before the origin (nearly all of them) only add their held days to the
    # curves, as ``forecast.history_at`` counts them: no instant to convert.
    earlier = _finished_history(connection, F.sent_at < origin, F.finished_at < origin)
    pasts: list[forecasting.Past] = []
    items: list[forecasting.Past] = []
    for row in connection.execute(
        select(
            F.administration_code,
            F.consultation_type_code,
            F.sent_at,
            F.finished_at,
            F.held_days,
            F.waiting_days,
            F.waiting_since,
            F.outcome,
            F.legal_due_at,
            F.on_time_legal,
            selected,
        )
        .where(F.sent_at < origin, or_(F.finished_at.is_(None), F.finished_at >= origin))
        .order_by(F.consultation_id)
    ):
        code, kind, sent, finished, held, waited, since, outcome, due, on_time, chosen = row
        past = forecasting.Past(
            group=(code, kind),
            sent=(sent - origin) / day,
            finished=days(finished),
            held=held,
            waiting=float(waited or 0.0),
            waiting_since=days(since),
            answered=outcome == Outcome.ANSWERED.value,
            due=days(due),
            missed=None
            if outcome in (Outcome.OPEN.value, Outcome.CANCELLED.value)
            else outcome == Outcome.TACIT.value or on_time is not True,
        )
        pasts.append(past)
        if chosen:
            items.append(past)
    predicted, missed = forecasting.backtest(
        pasts, origin=0.0, now=(now - origin) / day, items=items, finished=earlier
    )
    if not predicted:
        return []
    return [
        CalibrationOut(
            decile=d.decile,
            n=d.n,
            predicted=figures.rounded(d.predicted) or 0.0,
            observed=figures.rounded(d.observed) or 0.0,
        )
        for d in forecasting.calibration(predicted, missed)
    ]
