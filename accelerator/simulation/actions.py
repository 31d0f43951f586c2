"""The what-if simulation's engine: the product's own actions, clocks and calendars, run on a
virtual clock over a throwaway database.

Each mode runs on a new SQLite database in a temporary directory, migrated
(``migrations.commands.upgrade``) and loaded with the seed catalogue (both modes at once, a
process each, from ``PROCESSES_FROM`` dossiers on); it files the sampled dossiers and
processes their events in time order (a heap): filing and intake, take-in-charge, the
launch (every proposed administration at once in parallel mode; one after another in serial
mode, each sent through ``consult_further`` when the previous one answered), requests for
information and the holder's answers, opinions, tacit opinions at the deadline the engine's
clock computes, and the consolidation once every consultation is finished. Every action is
given its event's instant as ``now``. Time-to-decision is filing → consolidation.

Nothing here delivers the outbox: the flows the actions queue (the intake, the launch, the
consolidation) are run by the engine itself as their steps, at the right instants.
"""

from __future__ import annotations

import datetime as dt
import heapq
import json
import multiprocessing
import secrets
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.catalogue.actions import SEED_DIR, load_catalogue
from accelerator.catalogue.models import Administration, Arrondissement
from accelerator.consultations.actions import (
    apply_tacit_opinion,
    complete_launch,
    consolidate_dossier,
    consult_further,
    create_consultation,
    give_opinion,
    launch_consultations,
)
from accelerator.consultations.status import OpinionNature
from accelerator.dossiers.actions import create_dossier, file_dossier, take_charge
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.schemas import DossierCreate
from accelerator.identity.actions import create_user
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.information.actions import answer_information, request_information
from accelerator.information.schemas import InformationRequestIn
from accelerator.intake.actions import take_in
from accelerator.metrics.facts import days
from accelerator.migrations.commands import upgrade
from accelerator.shared.db import Database
from accelerator.shared.errors import InvalidInput
from accelerator.shared.text import t
from accelerator.simulation.queries import HeldTimes, choose_responses
from accelerator.simulation.rules import (
    PROJECTS,
    Delay,
    SampledDossier,
    as_json,
    sample_world,
    shift,
)
from accelerator.simulation.schemas import (
    MAX_DOSSIERS,
    Chosen,
    Mode,
    ModeResult,
    SimulationConfig,
    SimulationResult,
    WhatIfIn,
    describe_error,
)
from accelerator.sla.actions import calendar_version, consultation_key
from accelerator.sla.calendars import WorkingCalendar
from accelerator.sla.models import Clock
from accelerator.whatif.actions import queue_run
from accelerator.whatif.models import SimulationRun
from accelerator.whatif.schemas import RunParameters

#: Events processed per transaction: one commit per batch, not per action.
BATCH = 200
#: From this many dossiers, both modes run at once, a process each (a process costs seconds
#: to start: imports, migrations, the catalogue, the accounts' password hashes).
PROCESSES_FROM = 100


def seed_administrations(directory: Path = SEED_DIR) -> list[str]:
    """The administration codes of the seed catalogue the simulation loads, sorted."""
    rows = json.loads((directory / "administrations.json").read_text(encoding="utf-8"))
    return sorted(str(row["code"]) for row in rows)


def check_scenario(config: SimulationConfig, administrations: Sequence[str]) -> None:
    """Refuse a scenario naming an administration or a project the simulation does not know."""
    unknown = sorted(set(config.administrations) - set(administrations))
    if unknown:
        raise InvalidInput(
            t(
                "simulation.administration_unknown",
                codes=", ".join(unknown),
                known=", ".join(administrations),
            )
        )
    projects = sorted(set(config.arrivals.mix or {}) - set(PROJECTS))
    if projects:
        raise InvalidInput(
            t("simulation.project_unknown", codes=", ".join(projects), known=", ".join(PROJECTS))
        )


def check_dossiers(dossiers: int) -> None:
    """Refuse a number of dossiers out of ``1..MAX_DOSSIERS``."""
    if not 1 <= dossiers <= MAX_DOSSIERS:
        raise InvalidInput(t("simulation.dossiers_out_of_range", maximum=MAX_DOSSIERS))


@dataclass
class _Run:
    """One dossier's progress in one mode."""

    sampled: SampledDossier
    dossier_id: uuid.UUID | None = None
    #: The administrations still to send (serial mode), in the proposal's order.
    pending: list[str] = field(default_factory=list)
    #: The administrations sent and not finished.
    open: set[str] = field(default_factory=set)
    proposed: list[str] = field(default_factory=list)


@dataclass
class _People:
    """The accounts the actions are done by (ids: each batch loads them in its session)."""

    holder: uuid.UUID
    referent: uuid.UUID
    #: One random password for the run's accounts (nobody signs in to a throwaway database).
    password: str
    agents: dict[str, uuid.UUID] = field(default_factory=dict)


class _Engine:
    """Events of one mode, in time order, each applied through the product's actions."""

    def __init__(
        self, db: Database, mode: Mode, people: _People, world: Sequence[SampledDossier]
    ) -> None:
        self.db, self.mode, self.people = db, mode, people
        self.runs = [_Run(sampled) for sampled in world]
        self.heap: list[tuple[dt.datetime, int, str, int, str]] = []
        self.sequence = 0
        self.durations: dict[int, float] = {}
        self.tacit = 0
        self.requests = 0
        self.calendars: dict[str, WorkingCalendar] = {}
        self.admin_calendars: dict[str, str] = {}
        self.consultations: dict[tuple[int, str], uuid.UUID] = {}
        self.waiting: dict[tuple[int, str], uuid.UUID] = {}
        self.resume_left: dict[tuple[int, str], float] = {}
        #: Consultations whose deadline passed while they waited for the holder.
        self.breached: set[tuple[int, str]] = set()

    def push(self, at: dt.datetime, kind: str, index: int, code: str = "") -> None:
        """Schedule an event (ties keep the order they were scheduled in)."""
        self.sequence += 1
        heapq.heappush(self.heap, (at, self.sequence, kind, index, code))

    def run(self) -> ModeResult:
        """Process every event; the mode's figures."""
        for index, run in enumerate(self.runs):
            self.push(run.sampled.filed_at, "file", index)
        handlers: dict[str, Callable[[Session, dt.datetime, int, str], None]] = {
            "file": self.file,
            "take": self.take,
            "ask": self.ask,
            "reply": self.reply,
            "answer": self.answer,
            "tacit": self.silence,
        }
        while self.heap:
            with self.db.transaction() as session:
                self.session_users(session)
                for _ in range(BATCH):
                    if not self.heap:
                        break
                    at, _sequence, kind, index, code = heapq.heappop(self.heap)
                    handlers[kind](session, at, index, code)
        durations = tuple(self.durations[i] for i in sorted(self.durations))
        return ModeResult(self.mode, durations, self.tacit, self.requests)

    # -- accounts and calendars ------------------------------------------------------------

    def session_users(self, session: Session) -> None:
        """Load the accounts into this batch's session."""
        self.holder = session.get_one(User, self.people.holder)
        self.referent = session.get_one(User, self.people.referent)
        self.agents = {code: session.get_one(User, i) for code, i in self.people.agents.items()}

    def agent(self, session: Session, code: str, now: dt.datetime) -> User:
        """The agent of ``code`` (created the first time it is needed)."""
        found = self.agents.get(code)
        if found is None:
            found = create_user(
                session,
                email=f"agent.{code.lower()}@simulation.test",
                role=Role.AGENT,
                password=self.people.password,
                now=now,
                administration=code,
            )
            session.flush()
            self.agents[code], self.people.agents[code] = found, found.id
        return found

    def calendar(self, session: Session, code: str) -> WorkingCalendar:
        """A calendar in force, by code (read once)."""
        found = self.calendars.get(code)
        if found is None:
            found = self.calendars[code] = calendar_version(session, code)
        return found

    def admin_calendar(self, session: Session, code: str) -> WorkingCalendar:
        """The calendar of administration ``code``."""
        calendar_code = self.admin_calendars.get(code)
        if calendar_code is None:
            calendar_code = self.admin_calendars[code] = session.get_one(
                Administration, code
            ).calendar_code
        return self.calendar(session, calendar_code)

    def dossier_calendar(self, session: Session, run: _Run) -> WorkingCalendar:
        """The calendar of the dossier (its commune's)."""
        return self.calendar(session, session.get_one(Dossier, run.dossier_id).calendar_code)

    # -- the lifecycle -----------------------------------------------------------------------

    def file(self, session: Session, now: dt.datetime, index: int, _code: str) -> None:
        """The holder creates and files the dossier; the intake flow's step runs at once."""
        run = self.runs[index]
        data = DossierCreate.model_validate(PROJECTS[run.sampled.project])
        dossier = create_dossier(session, data=data, user=self.holder, now=now)
        file_dossier(session, dossier_id=dossier.id, user=self.holder, now=now)
        run.dossier_id = dossier.id
        run.proposed = take_in(session, dossier_id=dossier.id, now=now).administrations
        taken = shift(now, run.sampled.take_charge, self.dossier_calendar(session, run))
        self.push(taken, "take", index)

    def take(self, session: Session, now: dt.datetime, index: int, _code: str) -> None:
        """The référent takes the dossier in charge and sends it (all, or the first)."""
        run = self.runs[index]
        assert run.dossier_id is not None
        take_charge(session, dossier_id=run.dossier_id, user=self.referent, now=now)
        if not run.proposed:
            return  # nothing to consult: no consolidation (not counted)
        if self.mode is Mode.PARALLEL:
            first = list(run.proposed)
        else:
            first, run.pending = run.proposed[:1], run.proposed[1:]
        launch = launch_consultations(
            session,
            dossier_id=run.dossier_id,
            administrations=first,
            user=self.referent,
            now=now,
        )
        self.create(session, now, index, launch.id, first)

    def create(
        self,
        session: Session,
        now: dt.datetime,
        index: int,
        launch_id: uuid.UUID,
        codes: Sequence[str],
    ) -> None:
        """The launch flow's steps: each consultation, its clocks; then its work scheduled."""
        run = self.runs[index]
        for code in codes:
            consultation, _ = create_consultation(session, launch_id=launch_id, administration=code)
            assert consultation is not None
            self.consultations[(index, code)] = consultation.id
            run.open.add(code)
        complete_launch(session, launch_id=launch_id, now=now)
        for code in codes:
            self.agent(session, code, now)
            answer = run.sampled.answers[code]
            if answer.response is None:
                self.until(session, now, index, code, None)
            elif answer.asks_after is not None:
                asked = Delay(answer.response.amount * answer.asks_after, answer.response.unit)
                self.resume_left[(index, code)] = answer.response.amount - asked.amount
                asks_at = self.later(session, now, code, asked)
                self.at_or_tacit(session, now, index, code, "ask", asks_at)
            else:
                self.until(session, now, index, code, answer.response)

    def later(self, session: Session, now: dt.datetime, code: str, delay: Delay) -> dt.datetime:
        """``now`` plus ``delay`` in administration ``code``'s calendar."""
        return shift(now, delay, self.admin_calendar(session, code))

    def until(
        self, session: Session, now: dt.datetime, index: int, code: str, delay: Delay | None
    ) -> None:
        """Schedule the opinion after ``delay`` (None: at the legal deadline)."""
        if delay is None:
            due = self.due(session, index, code)
            assert due is not None
            self.push(due, "answer", index, code)
            return
        self.at_or_tacit(session, now, index, code, "answer", self.later(session, now, code, delay))

    def due(self, session: Session, index: int, code: str) -> dt.datetime | None:
        """The consultation's legal deadline as its clock computes it (None while paused)."""
        key = consultation_key(self.consultations[(index, code)])
        return session.scalars(select(Clock.due_at).where(Clock.key == key)).one()

    def at_or_tacit(
        self,
        session: Session,
        now: dt.datetime,
        index: int,
        code: str,
        kind: str,
        at: dt.datetime,
    ) -> None:
        """Schedule ``kind`` at ``at``, or the tacit opinion if the deadline comes first.

        A deadline that passed while the consultation waited for the holder (a request made
        too late to pause its clock) is the sweep's breach rung, fired once: it found the
        consultation waiting and applied nothing, so the administration's answer stands.
        """
        key = (index, code)
        due = self.due(session, index, code)
        if key in self.breached or due is None or due >= at:
            self.push(at, kind, index, code)
        elif due < now:
            self.breached.add(key)
            self.push(at, kind, index, code)
        else:
            self.push(due, "tacit", index, code)

    def ask(self, session: Session, now: dt.datetime, index: int, code: str) -> None:
        """The administration needs something: the référent relays it to the holder."""
        run = self.runs[index]
        assert run.dossier_id is not None
        request = request_information(
            session,
            dossier_id=run.dossier_id,
            data=InformationRequestIn(
                message=t("simulation.information_message"),
                consultation_id=self.consultations[(index, code)],
            ),
            user=self.referent,
            now=now,
        )
        self.requests += 1
        self.waiting[(index, code)] = request.id
        holder = run.sampled.answers[code].holder
        self.push(shift(now, holder, self.dossier_calendar(session, run)), "reply", index, code)

    def reply(self, session: Session, now: dt.datetime, index: int, code: str) -> None:
        """The holder answers; the administration resumes for the rest of its time."""
        answer_information(
            session,
            request_id=self.waiting.pop((index, code)),
            message=t("simulation.holder_message"),
            user=self.holder,
            now=now,
        )
        response = self.runs[index].sampled.answers[code].response
        assert response is not None
        left = Delay(self.resume_left.pop((index, code)), response.unit)
        self.until(session, now, index, code, left)

    def answer(self, session: Session, now: dt.datetime, index: int, code: str) -> None:
        """The administration's agent gives its opinion."""
        give_opinion(
            session,
            consultation_id=self.consultations[(index, code)],
            nature=OpinionNature.FAVOURABLE,
            text="",
            user=self.agent(session, code, now),
            now=now,
        )
        self.finished(session, now, index, code)

    def silence(self, session: Session, now: dt.datetime, index: int, code: str) -> None:
        """The sweep's step at the deadline: the silence outcome applies."""
        applied = apply_tacit_opinion(
            session, consultation_id=self.consultations[(index, code)], at=now
        )
        assert applied is not None
        self.tacit += 1
        self.finished(session, now, index, code)

    def finished(self, session: Session, now: dt.datetime, index: int, code: str) -> None:
        """Send the next administration (serial), or consolidate once all have answered."""
        run = self.runs[index]
        assert run.dossier_id is not None
        run.open.discard(code)
        if run.pending:
            following = [run.pending.pop(0)]
            launch = consult_further(
                session,
                dossier_id=run.dossier_id,
                administrations=following,
                user=self.referent,
                now=now,
            )
            self.create(session, now, index, launch.id, following)
        elif not run.open:
            dossier = consolidate_dossier(session, dossier_id=run.dossier_id, now=now)
            assert dossier is not None
            self.durations[index] = days(now - run.sampled.filed_at)


def _people(db: Database, now: dt.datetime) -> _People:
    """The holder and the référent (of every arrondissement) the dossiers are worked by."""
    password = secrets.token_urlsafe(16)
    with db.transaction() as session:
        arrondissements = list(session.scalars(select(Arrondissement.code)))
        holder = create_user(
            session,
            email="holder@simulation.test",
            role=Role.HOLDER,
            password=password,
            now=now,
            organisation=t("simulation.organisation"),
        )
        referent = create_user(
            session,
            email="referent@simulation.test",
            role=Role.REFERENT,
            password=password,
            now=now,
            arrondissements=arrondissements,
        )
        session.flush()
        return _People(holder.id, referent.id, password)


def run_mode(world: Sequence[SampledDossier], mode: Mode, directory: Path | None) -> ModeResult:
    """One mode over ``world``, on a database of its own (migrated, catalogue loaded) that is
    deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="accelerator-simulation-", dir=directory) as tmp:
        url = f"sqlite:///{Path(tmp) / 'simulation.db'}"
        upgrade(url)
        db = Database(url)
        try:
            first = world[0].filed_at - dt.timedelta(days=1)
            with db.transaction() as session:
                load_catalogue(session, now=first)
            return _Engine(db, mode, _people(db, first), world).run()
        finally:
            db.dispose()


def simulate(
    config: SimulationConfig,
    *,
    dossiers: int,
    seed: int,
    modes: Sequence[Mode],
    responses: Sequence[Chosen],
    notes: Sequence[str] = (),
    directory: Path | None = None,
    processes_from: int = PROCESSES_FROM,
) -> SimulationResult:
    """Run the scenario: the same sampled world through each of ``modes`` (in a process each
    from ``processes_from`` dossiers on)."""
    check_dossiers(dossiers)
    administrations = seed_administrations()
    check_scenario(config, administrations)
    started = time.perf_counter()
    by_code: Mapping[str, Chosen] = {c.code: c for c in responses}
    missing = [code for code in administrations if code not in by_code]
    assert not missing, missing
    information = {
        code: (
            given.information_probability
            if (given := config.administrations.get(code)) is not None
            and given.information_probability is not None
            else config.information_probability
        )
        for code in administrations
    }
    world = sample_world(
        dossiers=dossiers,
        seed=seed,
        arrivals=config.arrivals,
        take_charge=config.take_charge.delay,
        holder=config.holder.answer_delay,
        responses=by_code,
        information=information,
        administrations=administrations,
    )
    if len(modes) > 1 and dossiers >= processes_from:
        # One process per mode, each on its own database: the modes share nothing but the
        # sampled world, and two cores answer in about half the time.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=len(modes), mp_context=context) as pool:
            results = tuple(
                pool.map(run_mode, [world] * len(modes), modes, [directory] * len(modes))
            )
    else:
        results = tuple(run_mode(world, mode, directory) for mode in modes)
    return SimulationResult(
        dossiers=dossiers,
        seed=seed,
        responses=tuple(by_code[code] for code in administrations),
        modes=results,
        seconds=time.perf_counter() - started,
        notes=tuple(notes),
    )


def answer(
    config: SimulationConfig,
    *,
    dossiers: int,
    seed: int,
    history: Mapping[str, HeldTimes],
    modes: Sequence[Mode] = (Mode.PARALLEL, Mode.SERIAL),
    notes: Sequence[str] = (),
    directory: Path | None = None,
) -> SimulationResult:
    """A what-if answered: each administration's distribution chosen (the scenario's, else
    fitted on ``history``, else its legal delay, noted), then the run (``simulate``). The
    command line and the managers' page both answer through here."""
    check_dossiers(dossiers)
    administrations = seed_administrations()
    check_scenario(config, administrations)
    responses = choose_responses(config, administrations, history)
    found = list(notes)
    legal = [c.code for c in responses if c.source == "legal"]
    if legal:
        found.append(
            t(
                "simulation.legal_fallback",
                minimum=config.fit.min_answered,
                codes=", ".join(legal),
            )
        )
    return simulate(
        config,
        dossiers=dossiers,
        seed=seed,
        modes=modes,
        responses=responses,
        notes=found,
        directory=directory,
    )


def queue_what_if(
    session: Session, *, data: WhatIfIn, user: User, now: dt.datetime
) -> SimulationRun:
    """Queue the what-if ``data`` for the background flow (``whatif.actions.queue_run``),
    once the scenario names only administrations and projects the simulation knows."""
    check_scenario(data.scenario, seed_administrations())
    return queue_run(
        session,
        dossiers=data.dossiers,
        seed=data.seed,
        scenario=data.scenario.model_dump(mode="json"),
        user=user,
        now=now,
    )


def run_what_if(
    parameters: RunParameters,
    *,
    history: Mapping[str, HeldTimes],
    directory: Path | None = None,
) -> dict[str, object]:
    """A queued what-if run (both modes), its answer as ``rules.as_json`` writes it; the
    stored scenario is read back through ``SimulationConfig``, ``InvalidInput`` if it no
    longer passes."""
    try:
        config = SimulationConfig.model_validate(parameters.scenario)
    except ValidationError as error:
        where, message = describe_error(error)
        raise InvalidInput(t("simulation.stored_invalid", field=where, message=message)) from None
    result = answer(
        config,
        dossiers=parameters.dossiers,
        seed=parameters.seed,
        history=history,
        directory=directory,
    )
    return as_json(result)
