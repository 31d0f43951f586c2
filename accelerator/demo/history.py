"""A generated history for the managers' figures: years of dossiers, consultations, opinions
and pauses, bulk-inserted in the product's own tables.

The demo (``accelerator demo``) loads a modest one so that the summary, the forecast and the
weekly pack show meaningful figures on a fresh machine; ``bench/bench_metrics.py`` fills
PostgreSQL with 200,000 dossiers and a million consultations the same way.

What is generated (seeded: the same seed, ``now`` and catalogue give the same rows):

- dossiers filed over ``years`` up to ``now`` (more on weekdays, in the day), from a few kinds
  of projects whose attributes the catalogue's routing rules turn into the administrations and
  consultation types to consult (``routing.rules.route``, as the intake flow does);
- the take-in-charge (most within 24 h, some after a weekend), then one launch that consults
  every routed administration in parallel;
- each administration's answer after a delay drawn around its own pace (a share of the legal
  delay, getting quicker over the years), in its working hours; an administration still silent
  at its legal deadline gives a tacit opinion at that instant, as the sweep would;
- requests for information relayed to the holder on some consultations, answered after a few
  days (or still waiting at ``now``): they pause the consultation's clocks as
  ``sla.actions.pause_allowed`` says (a target already passed is not paused);
- a few withdrawals (the open consultations cancelled, every clock stopped), consolidations
  (``consultations.consolidation.consolidate``), closings, and a second review cycle for some
  consolidated dossiers;
- near ``now``, dossiers not yet taken in charge and consultations still open (running, or
  paused while the holder is asked).

Every clock's deadline is derived by the SLA code itself (``sla.clocks.project`` on the facts
the clock row stores, with its pauses); open clocks get their rungs, the past ones marked as
fired (the sweep then has nothing to catch up on). The procedures' legal-delay clocks run
from the filing, unpaused. Left out, as no figure reads them: the rungs of stopped clocks,
history entries and the outbox.

Every generated dossier is marked: its reference starts with ``DEMO-HIST-`` and its title says
it is generated history. The figures' facts are not written here: the caller runs
``metrics.actions.refresh_facts``, as the sweep does.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from sqlalchemy import JSON, Table, func, insert, select
from sqlalchemy.orm import Session

from accelerator.catalogue.models import (
    Administration,
    Arrondissement,
    Commune,
    ConsultationType,
    Procedure,
)
from accelerator.catalogue.queries import calendar_code_for_commune, default_grant_authority
from accelerator.consultations.consolidation import Opinion, consolidate
from accelerator.consultations.models import Consultation, ConsultationLaunch
from accelerator.consultations.status import ConsultationStatus, OpinionNature
from accelerator.dossiers.models import Dossier, ProposedAdministration
from accelerator.dossiers.procedures import legal_delay
from accelerator.dossiers.status import DossierStatus
from accelerator.identity.models import Organisation, User
from accelerator.identity.passwords import hash_password
from accelerator.identity.roles import Role
from accelerator.information.models import InformationRequest
from accelerator.routing.queries import routing_rules
from accelerator.routing.rules import Rule, route
from accelerator.shared.db import Base
from accelerator.shared.text import t, t_template
from accelerator.sla.actions import (
    calendar_version,
    consultation_key,
    latest_definitions,
    procedure_key,
    take_charge_key,
    target_key,
)
from accelerator.sla.calendars import WorkingCalendar
from accelerator.sla.clocks import ClockFacts, PauseEffect, PauseFact, Projection, project
from accelerator.sla.clocks import rung_instant as _rung_instant
from accelerator.sla.definitions import (
    TAKE_CHARGE_DEFINITION,
    ClockKind,
    ClockState,
    consultation_definition,
    procedure_definition,
    target_definition,
)
from accelerator.sla.durations import Duration, Unit, add, make_duration, parse_duration
from accelerator.sla.models import Calendar, Clock, ClockPause, ClockRung, DeadlineDefinition

#: Every generated dossier's reference starts so (``DEMO-HIST-000001``).
REFERENCE_PREFIX = "DEMO-HIST-"
#: The organisation and the (inactive) holder account the generated dossiers belong to.
HISTORY_ORGANISATION_KEY = "demo.history.organisation"
HISTORY_HOLDER_EMAIL = "historique@demo.test"
#: Dossiers generated per batch (one batch: one bulk insert per table).
BATCH_DOSSIERS = 2_000

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
#: Units whose deadline only depends on the local date of the anchor (not its time of day).
_DAY_UNITS = frozenset({Unit.CALENDAR_DAYS, Unit.BUSINESS_DAYS, Unit.WORKING_DAYS, Unit.MONTHS})


@dataclass(frozen=True)
class HistoryConfig:
    """How much history, and its shape (every share is a probability per item)."""

    dossiers: int = 2_000
    years: float = 2.0
    seed: int = 1
    #: Consultations on which the administration asks the holder for information.
    information_share: float = 0.12
    #: Of those, the requests the holder never answers (the consultation then ends tacit or
    #: is still waiting at ``now``) — realistic, rare.
    unanswered_share: float = 0.05
    #: Consolidated dossiers consulted again (a second review cycle).
    second_cycle_share: float = 0.08
    #: Dossiers withdrawn by their holder while consulted (their open items cancelled).
    withdrawn_share: float = 0.02
    #: Consolidated dossiers then closed by the référent.
    closed_share: float = 0.85
    #: Multiplies every administration's pace (1: as below; 1.3: every one 30 % slower).
    slowness: float = 1.0
    #: How much quicker the administrations answer at ``now`` than at the start (0.25: a
    #: quarter quicker: the accelerator at work).
    improvement: float = 0.25


#: The history ``accelerator demo`` loads (its size: the command's ``--history``).
DEMO_HISTORY = HistoryConfig(dossiers=800, years=2.0, seed=2026)


#: Each administration's median answer time as a share of its legal delay, at the start.
#: Unlisted ones: ``DEFAULT_PACE``. Spread so that some are late and gate dossiers.
PACE: dict[str, float] = {
    "DDT-65": 0.62,
    "DREAL-OCC": 0.58,
    "UDAP-65": 0.50,
    "MRAE-OCC": 0.55,
    "DRAC-SRA": 0.40,
    "SDIS-65": 0.30,
    "ARS-DD65": 0.45,
    "OFB": 0.50,
    "CDPENAF": 0.55,
    "PREF-65": 0.35,
    "DDETSPP-65": 0.38,
}
DEFAULT_PACE = 0.42
#: Spread of answer times (log-normal sigma).
SIGMA = 0.5


@dataclass(frozen=True)
class ProjectKind:
    """A kind of project: its weight among filings, procedures and attribute draws."""

    key: str
    weight: float
    procedures: tuple[str, ...]
    #: attribute → probability it is set (True), or a callable drawing its value.
    attributes: Mapping[str, float | Callable[[random.Random], Any]]
    investment: tuple[int, int]
    jobs: tuple[int, int]


def _area(low: float, high: float) -> Callable[[random.Random], Any]:
    return lambda rng: round(rng.uniform(low, high), 1)


PROJECT_KINDS: tuple[ProjectKind, ...] = (
    ProjectKind(
        "hotel",
        0.20,
        ("PC",),
        {
            "public_access_building": 1.0,
            "near_monument": 0.7,
            "water_impact": 0.5,
            "health_facility": 0.3,
        },
        (800_000, 6_000_000),
        (2, 25),
    ),
    ProjectKind(
        "factory",
        0.20,
        ("PC", "ICPE_E"),
        {
            "icpe": lambda rng: "industrial",
            "archaeological_zone": 0.4,
            "site_area_ha": _area(1, 10),
            "hiring_aid": 0.4,
            "water_impact": 0.5,
            "protected_species": 0.3,
        },
        (3_000_000, 40_000_000),
        (10, 150),
    ),
    ProjectKind(
        "solar",
        0.12,
        ("PC", "AE"),
        {
            "environmental_assessment": 1.0,
            "farmland_consumption": 0.6,
            "protected_species": 0.7,
            "water_impact": 0.6,
            "near_monument": 0.3,
            "site_area_ha": _area(2, 30),
        },
        (2_000_000, 20_000_000),
        (1, 6),
    ),
    ProjectKind(
        "farm",
        0.14,
        ("PC", "ICPE_E"),
        {
            "icpe": lambda rng: "agricultural",
            "water_impact": 0.8,
            "farmland_consumption": 0.6,
            "protected_species": 0.3,
            "near_monument": 0.3,
        },
        (300_000, 3_000_000),
        (1, 8),
    ),
    ProjectKind(
        "hydro",
        0.06,
        ("AE",),
        {
            "water_impact": 1.0,
            "water_catchment": 0.6,
            "environmental_assessment": 0.5,
            "protected_species": 0.5,
        },
        (500_000, 5_000_000),
        (0, 3),
    ),
    ProjectKind(
        "public",
        0.10,
        ("PC", "GRANT"),
        {
            "public_grant": 1.0,
            "public_access_building": 1.0,
            "health_facility": 0.5,
            "near_monument": 0.6,
            "water_impact": 0.3,
        },
        (500_000, 8_000_000),
        (0, 10),
    ),
    ProjectKind(
        "estate",
        0.10,
        ("PA",),
        {
            "site_area_ha": _area(3, 25),
            "water_impact": 0.7,
            "farmland_consumption": 0.5,
            "protected_species": 0.5,
            "public_access_building": 0.3,
        },
        (1_000_000, 12_000_000),
        (0, 40),
    ),
    ProjectKind(
        "shop",
        0.07,
        ("PC",),
        {
            "retail_area_m2": lambda rng: rng.choice([800, 1_200, 2_500, 4_000]),
            "public_access_building": 1.0,
            "near_monument": 0.3,
            "water_impact": 0.4,
        },
        (1_000_000, 10_000_000),
        (5, 60),
    ),
    ProjectKind(
        "extension",
        0.03,
        ("DP",),
        {"near_monument": 1.0, "public_access_building": 0.5},
        (50_000, 600_000),
        (0, 3),
    ),
)


@cache
def _wording() -> dict[str, str]:
    """The generated titles (by kind of project) and opinion texts (by nature), to fill."""
    return {
        "hotel": t_template("demo.history.title.hotel"),
        "factory": t_template("demo.history.title.factory"),
        "solar": t_template("demo.history.title.solar"),
        "farm": t_template("demo.history.title.farm"),
        "hydro": t_template("demo.history.title.hydro"),
        "public": t_template("demo.history.title.public"),
        "estate": t_template("demo.history.title.estate"),
        "shop": t_template("demo.history.title.shop"),
        "extension": t_template("demo.history.title.extension"),
        OpinionNature.FAVOURABLE.value: t("demo.history.opinion.favourable"),
        OpinionNature.FAVOURABLE_WITH_PRESCRIPTIONS.value: t(
            "demo.history.opinion.favourable_with_prescriptions"
        ),
        OpinionNature.UNFAVOURABLE.value: t("demo.history.opinion.unfavourable"),
        OpinionNature.NO_OPINION.value: t("demo.history.opinion.no_opinion"),
    }


NATURES: tuple[tuple[OpinionNature, float], ...] = (
    (OpinionNature.FAVOURABLE, 0.68),
    (OpinionNature.FAVOURABLE_WITH_PRESCRIPTIONS, 0.24),
    (OpinionNature.UNFAVOURABLE, 0.05),
    (OpinionNature.NO_OPINION, 0.03),
)


# --- The catalogue and the people, read once ------------------------------------------------


@dataclass(frozen=True)
class Definition:
    """What a clock pins of its deadline definition."""

    code: str
    version: int
    budget: Duration
    prorogation: bool
    pause_effect: PauseEffect | None
    request_window: Duration | None
    rungs: tuple[tuple[str, float], ...]


@dataclass
class World:
    """What the generator reads from the database before it draws anything."""

    rules: list[Rule]
    #: (insee, arrondissement code or None, grant authority, dossier calendar code)
    communes: list[tuple[str, str | None, str, str]]
    #: administration code → calendar code
    administration_calendars: dict[str, str]
    consultation_types: dict[str, ConsultationType]
    definitions: dict[str, Definition]
    calendars: dict[str, WorkingCalendar]
    calendar_versions: dict[str, int]
    organisation_id: uuid.UUID
    holder_id: uuid.UUID
    #: arrondissement → référent ids (every référent for an arrondissement nobody covers)
    referents: dict[str | None, list[uuid.UUID]]
    agents: dict[str, uuid.UUID]
    #: procedure code → its legal delay before extensions (the procedures with one)
    procedure_delays: dict[str, Duration] = field(default_factory=dict)
    #: Cache of deadlines of unpaused clocks, by (definition, budget, calendar, local anchor
    #: date).
    deadlines: dict[tuple[str, str, str, dt.date], dt.datetime] = field(default_factory=dict)

    def definition(self, code: str) -> Definition:
        return self.definitions[code]


def _definition(row: DeadlineDefinition) -> Definition:
    return Definition(
        code=row.code,
        version=row.version,
        budget=make_duration(row.budget_amount, row.budget_unit),
        prorogation=row.prorogation,
        pause_effect=PauseEffect(row.pause_effect) if row.pause_effect else None,
        request_window=parse_duration(row.request_window) if row.request_window else None,
        rungs=tuple((str(r["name"]), float(r["fraction"])) for r in row.rungs),
    )


def history_owner(session: Session, *, now: dt.datetime) -> tuple[uuid.UUID, uuid.UUID]:
    """The organisation and the holder account of the generated dossiers (created once; the
    account is inactive: nobody signs in as it)."""
    name = t(HISTORY_ORGANISATION_KEY)
    organisation = session.scalar(select(Organisation).where(Organisation.name == name))
    if organisation is None:
        organisation = Organisation(name=name, created_at=now)
        session.add(organisation)
        session.flush()
    holder = session.scalar(select(User).where(User.email == HISTORY_HOLDER_EMAIL))
    if holder is None:
        holder = User(
            email=HISTORY_HOLDER_EMAIL,
            name=t("demo.history.holder_name"),
            role=Role.HOLDER.value,
            password_hash=hash_password(uuid.uuid4().hex),
            organisation_id=organisation.id,
            arrondissements=[],
            active=False,
            created_at=now,
        )
        session.add(holder)
        session.flush()
    return organisation.id, holder.id


def read_world(session: Session, *, now: dt.datetime) -> World:
    """The catalogue, the deadline definitions in force, the référents and agents."""
    grant = {a.code: a.grant_authority for a in session.scalars(select(Arrondissement))}
    communes = [
        (
            c.insee,
            c.arrondissement_code,
            grant.get(c.arrondissement_code or "", default_grant_authority()),
            calendar_code_for_commune(c),
        )
        for c in session.scalars(select(Commune).order_by(Commune.insee))
    ]
    if not communes:
        raise LookupError("no commune in the catalogue: load it first")
    administrations = {
        a.code: a.calendar_code
        for a in session.scalars(select(Administration).where(Administration.active.is_(True)))
    }
    types = {c.code: c for c in session.scalars(select(ConsultationType))}
    procedure_delays = {
        p.code: make_duration(p.duration_amount, p.duration_unit)
        for p in session.scalars(select(Procedure))
        if p.duration_amount is not None and p.duration_unit is not None
    }
    codes = [TAKE_CHARGE_DEFINITION, *(procedure_definition(code) for code in procedure_delays)]
    for code in types:
        codes += [consultation_definition(code), target_definition(code)]
    definitions = {
        code: _definition(row) for code, row in latest_definitions(session, codes).items()
    }
    calendar_codes = set(administrations.values()) | {c[3] for c in communes}
    calendars = {code: calendar_version(session, code) for code in calendar_codes}
    versions = {
        code: version
        for code, version in session.execute(
            select(Calendar.code, Calendar.version).where(Calendar.code.in_(calendar_codes))
        )
    }
    referents: dict[str | None, list[uuid.UUID]] = {None: []}
    agents: dict[str, uuid.UUID] = {}
    for user in session.scalars(select(User).where(User.active.is_(True)).order_by(User.email)):
        if user.role == Role.REFERENT.value:
            referents[None].append(user.id)
            for code in user.arrondissements or []:
                referents.setdefault(code, []).append(user.id)
        elif user.role == Role.AGENT.value and user.administration_code:
            agents.setdefault(user.administration_code, user.id)
    if not referents[None]:
        raise LookupError("no referent account: load the demo accounts first")
    organisation_id, holder_id = history_owner(session, now=now)
    return World(
        rules=routing_rules(session),
        communes=communes,
        administration_calendars=administrations,
        consultation_types=types,
        definitions=definitions,
        calendars=calendars,
        calendar_versions=versions,
        organisation_id=organisation_id,
        holder_id=holder_id,
        procedure_delays=procedure_delays,
        referents=referents,
        agents=agents,
    )


# --- Drawing one dossier --------------------------------------------------------------------


#: The tables a batch fills, in foreign-key order.
TABLES: dict[str, type[Base]] = {
    "dossiers": Dossier,
    "proposed_administrations": ProposedAdministration,
    "consultation_launches": ConsultationLaunch,
    "consultations": Consultation,
    "information_requests": InformationRequest,
    "clocks": Clock,
    "clock_pauses": ClockPause,
    "clock_rungs": ClockRung,
}


@dataclass
class Batch:
    """Rows to insert, by table (dicts of column values), in foreign-key order."""

    rows: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {name: [] for name in TABLES}
    )

    def add(self, table: str, row: dict[str, Any]) -> None:
        self.rows[table].append(row)

    def __len__(self) -> int:
        return len(self.rows["dossiers"])


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _at_working_time(
    instant: dt.datetime, calendar: WorkingCalendar, rng: random.Random
) -> dt.datetime:
    """``instant`` if it falls in the calendar's working hours, else a random instant of the
    next working morning or afternoon (people answer at work)."""
    local = instant.astimezone(calendar.zone)
    day = local.date()
    for _ in range(30):
        for start, end in calendar.spans(day):
            if instant < end:
                if instant >= start:
                    return instant
                return start + (end - start) * rng.random() * 0.5
        day += DAY
        instant = calendar.local_midnight(day).astimezone(dt.UTC)
    return instant  # pragma: no cover - a calendar with a month without work


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def _choice(rng: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    value = rng.random() * sum(w for _, w in weighted)
    for item, weight in weighted:
        value -= weight
        if value <= 0:
            return item
    return weighted[-1][0]


@dataclass
class _Pause:
    requested_at: dt.datetime
    answered_at: dt.datetime | None  # None: the holder never answers


@dataclass
class _ClockPlan:
    """One clock as the product would hold it at ``now``."""

    id: uuid.UUID
    definition: Definition
    calendar_code: str
    anchor: dt.datetime
    paused: bool  # whether the consultation's request pauses this clock


def _deadline(
    world: World,
    plan: _ClockPlan,
    pauses: Sequence[PauseFact],
    stopped_at: dt.datetime | None,
) -> tuple[ClockFacts, Projection | None, dt.datetime | None]:
    """The clock's facts and deadline by the SLA code (``sla.clocks.project``); unpaused day
    and month budgets are cached by their anchor's local date (the time of day does not move
    them), the rest projected each time."""
    definition = plan.definition
    calendar = world.calendars[plan.calendar_code]
    facts = ClockFacts(
        anchor=plan.anchor,
        budget=definition.budget,
        calendar=calendar,
        prorogation=definition.prorogation,
        pause_effect=definition.pause_effect,
        pauses=list(pauses),
        stopped_at=stopped_at,
    )
    if not pauses and definition.budget.unit in _DAY_UNITS:
        # The budget is in the key: a procedure's delay is extended dossier by dossier.
        key = (
            definition.code, str(definition.budget), plan.calendar_code,
            calendar.local_date(plan.anchor),
        )  # fmt: skip
        cached = world.deadlines.get(key)
        if cached is None:
            cached = project(facts).deadline
            assert cached is not None
            world.deadlines[key] = cached
        return facts, None, cached
    projection = project(facts)
    return facts, projection, projection.deadline


def _pause_allowed(world: World, plan: _ClockPlan, at: dt.datetime) -> bool:
    """``sla.actions.pause_allowed`` for a clock not yet paused: a pause effect, within the
    request window, before the (unpaused) deadline."""
    definition = plan.definition
    if definition.pause_effect is None:
        return False
    calendar = world.calendars[plan.calendar_code]
    window = definition.request_window
    if window is not None and at > add(plan.anchor, window, calendar):
        return False
    _, _, due = _deadline(world, plan, [], None)
    return due is None or at < due


def _clock_rows(
    batch: Batch,
    world: World,
    *,
    plan: _ClockPlan,
    kind: ClockKind,
    key: str,
    dossier_id: uuid.UUID,
    consultation_id: uuid.UUID | None,
    pause: _Pause | None,
    pause_reason: str,
    request_id: uuid.UUID | None,
    stopped_at: dt.datetime | None,
    now: dt.datetime,
    rng: random.Random,
) -> dt.datetime | None:
    """Append the clock (and its pause, and its rungs if it is open) as of ``now``; returns
    its deadline (None while paused)."""
    pauses: list[PauseFact] = []
    if pause is not None and plan.paused and pause.requested_at <= now:
        ended = pause.answered_at
        if ended is not None and ended > now:
            ended = None
        if stopped_at is not None and (ended is None or ended > stopped_at):
            ended = stopped_at  # stopping while paused books the pause up to the stop
        pauses.append(PauseFact(pause_reason, pause.requested_at, ended))
        batch.add(
            "clock_pauses",
            {
                "id": _uuid(rng),
                "clock_id": plan.id,
                "reason": pause_reason,
                "information_request_id": request_id,
                "started_at": pause.requested_at,
                "ended_at": ended,
            },
        )
    facts, projection, due = _deadline(world, plan, pauses, stopped_at)
    if projection is None and stopped_at is None:
        projection = project(facts)
    paused = any(p.ended_at is None for p in pauses) and stopped_at is None
    state = (
        ClockState.STOPPED
        if stopped_at is not None
        else ClockState.PAUSED
        if paused
        else ClockState.RUNNING
    )
    left = projection.left_on_resume if projection is not None else None
    next_rung = None
    if state is not ClockState.STOPPED:
        assert projection is not None
        pending = []
        for name, fraction in plan.definition.rungs:
            instant = _rung_instant(facts, projection, fraction)
            fired = instant if instant is not None and instant <= now else None
            if instant is not None and fired is None:
                pending.append(instant)
            batch.add(
                "clock_rungs",
                {
                    "id": _uuid(rng),
                    "clock_id": plan.id,
                    "name": name,
                    "fraction": fraction,
                    "due_at": instant,
                    "fired_at": fired,
                },
            )
        next_rung = min(pending) if pending and state is ClockState.RUNNING else None
    batch.add(
        "clocks",
        {
            "id": plan.id,
            "key": key,
            "kind": kind.value,
            "dossier_id": dossier_id,
            "consultation_id": consultation_id,
            "calendar_code": plan.calendar_code,
            "calendar_version": world.calendar_versions[plan.calendar_code],
            "definition_code": plan.definition.code,
            "definition_version": plan.definition.version,
            "anchor_at": plan.anchor,
            "budget_amount": plan.definition.budget.amount,
            "budget_unit": plan.definition.budget.unit.value,
            "prorogation": plan.definition.prorogation,
            "pause_effect": plan.definition.pause_effect.value
            if plan.definition.pause_effect
            else None,
            "due_at": None if paused else due,
            "state": state.value,
            "stopped_at": stopped_at,
            "next_rung_at": next_rung,
            "left_amount": left.amount if left is not None else None,
            "left_unit": left.unit.value if left is not None else None,
        },
    )
    return None if paused else due


@dataclass
class _Planned:
    """One consultation's course, decided before it is written."""

    id: uuid.UUID
    administration: str
    consultation_type: ConsultationType
    sent_at: dt.datetime
    acknowledged_at: dt.datetime | None
    legal: _ClockPlan
    target: _ClockPlan
    pause: _Pause | None
    #: When it ends (opinion, tacit opinion at the legal deadline); may be after ``now``.
    finished_at: dt.datetime
    tacit: bool
    nature: OpinionNature


class _Generator:
    def __init__(self, world: World, config: HistoryConfig, now: dt.datetime) -> None:
        self.world, self.config, self.now = world, config, now.astimezone(dt.UTC)
        self.start = self.now - dt.timedelta(days=365.25 * config.years)
        self.kinds = [(kind, kind.weight) for kind in PROJECT_KINDS]

    def progress(self, instant: dt.datetime) -> float:
        span = (self.now - self.start).total_seconds()
        return min(max((instant - self.start).total_seconds() / span, 0.0), 1.0)

    def filed_at(self, rng: random.Random, index: int, calendar: WorkingCalendar) -> dt.datetime:
        """Filings spread over the period (slightly more recent ones: the platform grows),
        mostly on weekdays, in the day."""
        position = (index + rng.random()) / self.config.dossiers
        position = position**0.85
        instant = self.start + (self.now - self.start) * position
        local: dt.datetime = instant.astimezone(calendar.zone)
        if local.weekday() >= 5 and rng.random() < 0.7:
            local += DAY * (7 - local.weekday())
        hour = rng.choice([8, 9, 9, 10, 10, 11, 11, 14, 14, 15, 15, 16, 16, 17, 18, 21, 23])
        local = local.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
        filed: dt.datetime = local.astimezone(dt.UTC)
        return min(filed, self.now - dt.timedelta(minutes=5))

    def dossier(self, batch: Batch, index: int) -> None:
        world, config, now = self.world, self.config, self.now
        rng = random.Random(config.seed * 1_000_003 + index)
        kind: ProjectKind = _choice(rng, self.kinds)
        attributes: dict[str, Any] = {}
        for name, chance in kind.attributes.items():
            if callable(chance):
                attributes[name] = chance(rng)
            elif rng.random() < chance:
                attributes[name] = True
        insee, arrondissement, grant_authority, calendar_code = rng.choice(world.communes)
        calendar = world.calendars[calendar_code]
        matches = [
            m
            for m in route(world.rules, attributes, grant_authority=grant_authority)
            if m.administration in world.administration_calendars
            and m.consultation_type in world.consultation_types
        ]
        dossier_id = _uuid(rng)
        filed = self.filed_at(rng, index, calendar)
        referents = world.referents.get(arrondissement) or world.referents[None]
        referent = rng.choice(referents)
        # Take-in-charge: most within hours, in the référent's working time.
        taken: dt.datetime | None = _at_working_time(
            filed + HOUR * _lognormal(rng, 2.5, 1.1), calendar, rng
        )
        assert taken is not None
        if taken > now:
            taken = None
        take_plan = _ClockPlan(
            _uuid(rng), world.definition(TAKE_CHARGE_DEFINITION), calendar_code, filed, False
        )
        dossier: dict[str, Any] = {
            "id": dossier_id,
            "reference": f"{REFERENCE_PREFIX}{index + 1:06d}",
            "title": _wording()[kind.key].format(number=index + 1),
            "description": t("demo.history.description"),
            "commune_insee": insee,
            "procedures": list(kind.procedures),
            "attributes": attributes,
            "investment_eur": rng.randrange(*kind.investment) // 1000 * 1000,
            "jobs_created": rng.randrange(kind.jobs[0], kind.jobs[1] + 1),
            "organisation_id": world.organisation_id,
            "created_by_id": world.holder_id,
            "calendar_code": calendar_code,
            "status": DossierStatus.FILED.value,
            "cycle": 1,
            "referent_id": referent,
            "referent_reason": None,
            "created_at": filed - DAY * rng.uniform(0.5, 20),
            "filed_at": filed,
            "routed_at": filed + dt.timedelta(seconds=rng.randrange(5, 90)),
            "taken_in_charge_at": taken,
            "consolidated_at": None,
            "closed_at": None,
            "outcome": None,
            "outcome_binding": None,
            "outcome_decided_by": None,
            "outcome_summary": None,
            "closing_message": None,
            "version": 2,
        }
        for rank, match in enumerate(matches):
            batch.add(
                "proposed_administrations",
                {
                    "id": _uuid(rng),
                    "dossier_id": dossier_id,
                    "administration_code": match.administration,
                    "consultation_type_code": match.consultation_type,
                    "rule_code": match.rule,
                    "rule_codes": list(match.rules),
                    "rank": rank,
                },
            )
        take_stop = taken
        launch_at: dt.datetime | None = None
        if taken is not None:
            dossier["status"] = DossierStatus.TAKEN_IN_CHARGE.value
            dossier["version"] = 3
            launch_at = _at_working_time(taken + DAY * _lognormal(rng, 0.6, 0.9), calendar, rng)
            if launch_at > now or not matches:
                launch_at = None
        withdrawn_at: dt.datetime | None = None
        if launch_at is not None:
            withdraw = rng.random() < config.withdrawn_share
            cycle_targets = [(m.administration, m.consultation_type, m.rule) for m in matches]
            cycle, cycle_start = 1, launch_at
            while True:
                planned = [
                    self.plan(rng, code, kind_code, cycle_start)
                    for code, kind_code, _rule in cycle_targets
                ]
                end = max(p.finished_at for p in planned)
                if withdraw and cycle == 1:
                    withdrawn_at = cycle_start + (end - cycle_start) * rng.uniform(0.1, 0.9)
                    if withdrawn_at > now:
                        withdrawn_at = None
                self.write_cycle(
                    batch,
                    rng,
                    dossier,
                    cycle=cycle,
                    launch_at=cycle_start,
                    targets=cycle_targets,
                    planned=planned,
                    referent=referent,
                    withdrawn_at=withdrawn_at,
                )
                dossier["status"] = DossierStatus.CONSULTING.value
                dossier["cycle"] = cycle
                dossier["version"] += 1 + len(planned)
                if withdrawn_at is not None:
                    dossier["status"] = DossierStatus.WITHDRAWN.value
                    break
                if end > now:
                    break
                consolidated = end + dt.timedelta(minutes=rng.randrange(1, 10))
                if consolidated > now:
                    break
                self.consolidate(dossier, planned, consolidated)
                again = _at_working_time(
                    consolidated + DAY * _lognormal(rng, 20, 0.5), calendar, rng
                )
                if cycle == 1 and rng.random() < config.second_cycle_share and again <= now:
                    count = rng.randint(1, min(3, len(cycle_targets)))
                    cycle_targets = rng.sample(cycle_targets, count)
                    cycle, cycle_start = 2, again
                    dossier["consolidated_at"] = None
                    dossier["outcome"] = dossier["outcome_binding"] = None
                    dossier["outcome_decided_by"] = dossier["outcome_summary"] = None
                    continue
                closed = _at_working_time(
                    consolidated + DAY * _lognormal(rng, 4, 0.6), calendar, rng
                )
                if rng.random() < config.closed_share and closed <= now:
                    dossier["status"] = DossierStatus.CLOSED.value
                    dossier["closed_at"] = closed
                    dossier["closing_message"] = t("demo.history.closing_message")
                    dossier["version"] += 1
                break
        if taken is None:
            take_stop = None
        self.procedure_clocks(batch, dossier, attributes, withdrawn_at, calendar_code)
        _clock_rows(
            batch,
            world,
            plan=take_plan,
            kind=ClockKind.TAKE_CHARGE,
            key=take_charge_key(dossier_id),
            dossier_id=dossier_id,
            consultation_id=None,
            pause=None,
            pause_reason="",
            request_id=None,
            stopped_at=take_stop,
            now=now,
            rng=rng,
        )
        batch.add("dossiers", dossier)

    def procedure_clocks(
        self,
        batch: Batch,
        dossier: dict[str, Any],
        attributes: Mapping[str, Any],
        withdrawn_at: dt.datetime | None,
        calendar_code: str,
    ) -> None:
        """Each procedure's legal delay from the filing, extended as the product extends it
        (``dossiers.procedures.legal_delay``), stopped only by a withdrawal (as the product
        does); the holder's requests do not pause it here. Their ids and rungs are drawn
        from the dossier's own generator, so adding them changed nothing else drawn."""
        world, now = self.world, self.now
        rng = random.Random(dossier["id"].int)
        for code in dict.fromkeys(dossier["procedures"]):
            base = world.procedure_delays.get(code)
            if base is None:
                continue  # no legal delay (a grant: the internal target only)
            definition = world.definition(procedure_definition(code))
            budget, _reasons = legal_delay(code, base, attributes)
            plan = _ClockPlan(
                _uuid(rng), replace(definition, budget=budget), calendar_code,
                dossier["filed_at"], False,
            )  # fmt: skip
            _clock_rows(
                batch,
                world,
                plan=plan,
                kind=ClockKind.PROCEDURE_DEADLINE,
                key=procedure_key(dossier["id"], code),
                dossier_id=dossier["id"],
                consultation_id=None,
                pause=None,
                pause_reason="",
                request_id=None,
                stopped_at=withdrawn_at,
                now=now,
                rng=rng,
            )

    def plan(self, rng: random.Random, code: str, type_code: str, sent_at: dt.datetime) -> _Planned:
        """One consultation's course: acknowledgement, a request to the holder perhaps, the
        answer after the administration's pace, or its silence to the legal deadline."""
        world, config = self.world, self.config
        kind = world.consultation_types[type_code]
        calendar_code = world.administration_calendars[code]
        calendar = world.calendars[calendar_code]
        legal = _ClockPlan(
            _uuid(rng),
            world.definition(consultation_definition(type_code)),
            calendar_code,
            sent_at,
            False,
        )
        target = _ClockPlan(
            _uuid(rng),
            world.definition(target_definition(type_code)),
            calendar_code,
            sent_at,
            False,
        )
        _, _, legal_due = _deadline(world, legal, [], None)
        assert legal_due is not None
        budget_days = (legal_due - sent_at) / DAY
        pace = PACE.get(code, DEFAULT_PACE) * config.slowness
        pace *= 1.0 - config.improvement * self.progress(sent_at)
        held = DAY * _lognormal(rng, pace * budget_days, SIGMA)
        answer = _at_working_time(sent_at + held, calendar, rng)
        acknowledged = None
        if rng.random() < 0.7:
            acknowledged = _at_working_time(sent_at + DAY * rng.uniform(0.05, 3), calendar, rng)
            if acknowledged >= answer:
                acknowledged = None
        pause = None
        if rng.random() < config.information_share:
            asked = _at_working_time(
                sent_at + (answer - sent_at) * rng.uniform(0.1, 0.8), calendar, rng
            )
            if asked < min(answer, legal_due):
                replied = (
                    None
                    if rng.random() < config.unanswered_share
                    else asked + DAY * _lognormal(rng, 6, 0.7)
                )
                pause = _Pause(asked, replied)
                legal.paused = _pause_allowed(world, legal, asked)
                target.paused = _pause_allowed(world, target, asked)
                if acknowledged is not None and acknowledged >= asked:
                    acknowledged = None
                if replied is None:
                    answer = self.now + DAY * 3650  # never: ends tacit or waits
                else:
                    answer = _at_working_time(answer + (replied - asked), calendar, rng)
        # The legal deadline as the clock derives it with the pause (once the holder answered).
        due: dt.datetime | None = legal_due
        if pause is not None and legal.paused:
            facts = [PauseFact("", pause.requested_at, pause.answered_at)]
            due = _deadline(world, legal, facts, None)[2] if pause.answered_at else None
        tacit = due is not None and answer > due
        finished = due if tacit and due is not None else answer
        nature = OpinionNature(kind.silence_nature) if tacit else _choice(rng, NATURES)
        return _Planned(
            id=_uuid(rng),
            administration=code,
            consultation_type=kind,
            sent_at=sent_at,
            acknowledged_at=acknowledged,
            legal=legal,
            target=target,
            pause=pause,
            finished_at=finished,
            tacit=tacit,
            nature=nature,
        )

    def write_cycle(
        self,
        batch: Batch,
        rng: random.Random,
        dossier: dict[str, Any],
        *,
        cycle: int,
        launch_at: dt.datetime,
        targets: Sequence[tuple[str, str, str]],
        planned: Sequence[_Planned],
        referent: uuid.UUID,
        withdrawn_at: dt.datetime | None,
    ) -> None:
        """The launch and its consultations as of ``now`` (a withdrawal cancels the open
        ones), with their requests, clocks and pauses."""
        now, world = self.now, self.world
        launch_id = _uuid(rng)
        batch.add(
            "consultation_launches",
            {
                "id": launch_id,
                "dossier_id": dossier["id"],
                "cycle": cycle,
                "entries": [
                    {"administration": code, "consultation_type": kind, "rule": rule}
                    for code, kind, rule in targets
                ],
                "requested_by_id": referent,
                "requested_at": launch_at,
                "completed_at": launch_at + dt.timedelta(seconds=rng.randrange(2, 60)),
            },
        )
        for (code, _kind, rule), item in zip(targets, planned, strict=True):
            end = item.finished_at
            cancelled = withdrawn_at is not None and withdrawn_at < end
            if cancelled:
                assert withdrawn_at is not None
                end = withdrawn_at
            done = end <= now
            stop = end if done else None
            pause = item.pause
            request_id = None
            status = (
                ConsultationStatus.ACKNOWLEDGED
                if (item.acknowledged_at is not None and item.acknowledged_at <= now)
                else ConsultationStatus.SENT
            )
            previous = status
            if pause is not None and pause.requested_at < end and pause.requested_at <= now:
                request_id = _uuid(rng)
                replied = pause.answered_at
                if replied is not None and (replied > now or replied > end):
                    replied = None  # still waiting at ``now``, or cut short by a withdrawal
                batch.add(
                    "information_requests",
                    {
                        "id": request_id,
                        "dossier_id": dossier["id"],
                        "consultation_id": item.id,
                        "message": t("demo.history.request_message", administration=code),
                        "pieces": [],
                        "requested_by_id": referent,
                        "requested_at": pause.requested_at,
                        "previous_status": previous.value,
                        "answer": t("demo.history.request_answer") if replied else None,
                        "answered_by_id": world.holder_id if replied else None,
                        "answered_at": replied,
                    },
                )
                if replied is None and not done:
                    status = ConsultationStatus.AWAITING_INFORMATION
                pause = _Pause(pause.requested_at, replied)
            else:
                pause = None
            if done:
                status = (
                    ConsultationStatus.CANCELLED
                    if cancelled
                    else ConsultationStatus.TACIT
                    if item.tacit
                    else ConsultationStatus.ANSWERED
                )
            reason = t("information.pause_reason", now=pause.requested_at) if pause else ""
            answered = status in (ConsultationStatus.ANSWERED, ConsultationStatus.TACIT)
            kind = item.consultation_type
            batch.add(
                "consultations",
                {
                    "id": item.id,
                    "dossier_id": dossier["id"],
                    "administration_code": code,
                    "consultation_type_code": kind.code,
                    "launch_id": launch_id,
                    "cycle": cycle,
                    "rule_code": rule,
                    "binding": kind.binding,
                    "status": status.value,
                    "sent_at": item.sent_at,
                    "acknowledged_at": item.acknowledged_at
                    if item.acknowledged_at is not None and item.acknowledged_at <= min(end, now)
                    else None,
                    "answered_at": end if answered else None,
                    "answered_by_id": world.agents.get(code)
                    if status is ConsultationStatus.ANSWERED
                    else None,
                    "opinion_nature": item.nature.value if answered else None,
                    "opinion_text": (
                        t("consultation.tacit_summary", silence=kind.silence_label)
                        if status is ConsultationStatus.TACIT
                        else _wording()[item.nature.value]
                        if answered
                        else None
                    ),
                    "opinion_tacit": status is ConsultationStatus.TACIT,
                    "version": 2 + (2 if request_id else 0) + (1 if done else 0),
                },
            )
            for plan, clock_kind, key in (
                (item.legal, ClockKind.CONSULTATION_DEADLINE, consultation_key(item.id)),
                (item.target, ClockKind.CONSULTATION_TARGET, target_key(item.id)),
            ):
                _clock_rows(
                    batch,
                    world,
                    plan=plan,
                    kind=clock_kind,
                    key=key,
                    dossier_id=dossier["id"],
                    consultation_id=item.id,
                    pause=pause,
                    pause_reason=reason,
                    request_id=request_id,
                    stopped_at=stop,
                    now=now,
                    rng=rng,
                )

    def consolidate(
        self, dossier: dict[str, Any], planned: Sequence[_Planned], at: dt.datetime
    ) -> None:
        outcome = consolidate(
            [
                Opinion(p.administration, p.nature.value, p.consultation_type.binding, p.tacit)
                for p in planned
            ]
        )
        dossier["status"] = DossierStatus.CONSOLIDATED.value
        dossier["consolidated_at"] = at
        dossier["outcome"] = outcome.nature.value
        dossier["outcome_binding"] = outcome.binding
        dossier["outcome_decided_by"] = outcome.decided_by
        dossier["outcome_summary"] = outcome.summary
        dossier["version"] += 1


def generate(
    world: World,
    config: HistoryConfig,
    *,
    now: dt.datetime,
    first: int = 0,
    batch_size: int = BATCH_DOSSIERS,
) -> Iterator[Batch]:
    """The history's rows, ``batch_size`` dossiers at a time, from dossier number ``first``
    (each dossier draws from its own seeded generator: batches do not change what is drawn)."""
    generator = _Generator(world, config, now)
    batch = Batch()
    for index in range(first, config.dossiers):
        generator.dossier(batch, index)
        if len(batch) >= batch_size:
            yield batch
            batch = Batch()
    if len(batch):
        yield batch


# --- Writing ---------------------------------------------------------------------------------


def _table(name: str) -> Table:
    table = TABLES[name].__table__
    assert isinstance(table, Table)
    return table


def insert_batch(session: Session, batch: Batch) -> None:
    """Insert a batch's rows: ``COPY`` through psycopg on PostgreSQL, a Core multi-row
    ``INSERT`` elsewhere (SQLite)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        _copy(session, batch)
        return
    for name, rows in batch.rows.items():
        if rows:
            connection.execute(insert(_table(name)), rows)


def _copy(session: Session, batch: Batch) -> None:
    from psycopg.types.json import Jsonb

    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    with raw.cursor() as cursor:  # type: ignore[attr-defined]
        for name, rows in batch.rows.items():
            if not rows:
                continue
            table = _table(name)
            columns = list(rows[0])
            json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}
            listed = ", ".join(f'"{c}"' for c in columns)
            with cursor.copy(f"COPY {name} ({listed}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(
                        [Jsonb(row[c]) if c in json_columns else row[c] for c in columns]
                    )


def history_exists(session: Session) -> bool:
    """Whether a generated history was loaded (a dossier referenced ``DEMO-HIST-...``)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Dossier)
            .where(Dossier.reference.like(f"{REFERENCE_PREFIX}%"))
        )
        or 0
    ) > 0


def load_history(
    session: Session,
    config: HistoryConfig,
    *,
    now: dt.datetime,
    after_batch: Callable[[Session, int], None] | None = None,
) -> int:
    """Generate and insert the history once (nothing if one is there); returns how many
    dossiers were inserted. ``after_batch(session, dossiers so far)`` runs after each batch
    (e.g. to commit). The facts are left to ``metrics.actions.refresh_facts``."""
    if history_exists(session):
        return 0
    world = read_world(session, now=now)
    done = 0
    for batch in generate(world, config, now=now):
        insert_batch(session, batch)
        done += len(batch)
        if after_batch is not None:
            after_batch(session, done)
    return done
