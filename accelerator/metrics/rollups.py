"""The consultation facts added up by week and dimension (``metrics_rollups``), kept in step.

Each fact adds to the cells of its family's week and of every week (``""``), for its
administration, and for each filter to the cell of its value and to the cell of any value: a
consultation of a dossier ``,PC,ICPE_E,`` in arrondissement ``681``, cycle 1, adds to the cells
of procedure ``""``, ``PC`` and ``ICPE_E`` × arrondissement ``""`` and ``681`` × cycle 0 and 1.
A figure filtered by procedure PC and cycle 1 then reads the cells (PC, ``""``, 1): one row
per administration and week, whatever the number of consultations.

The facts' refresh (``metrics.actions``) calls ``apply`` with the facts it replaces and the ones
it writes: their contributions are subtracted and added (counts and sketches both add up), in
the same transaction. ``rebuild`` recomputes every cell from the facts, week by week.

Each family also has its day cells (``finished_day``...: the week column holds the day,
``2026-06-02``; no cell of every day): a period's whole ISO weeks (Europe/Paris) come from the
week cells, the whole days of a week it covers only in part from the day cells, and only what
is left of a day (a period bounded inside one) is read from the facts themselves and added up
the same way (``select_cells``).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, NamedTuple, Protocol

import numpy as np
from sqlalchemy import and_, case, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from accelerator.metrics import sketch
from accelerator.metrics.facts import REPORTING_ZONE, Outcome, iso_day, iso_week
from accelerator.metrics.models import ConsultationFact, DossierFact, MetricsRollup
from accelerator.metrics.schemas import Filters

#: The families of cells: the consultations by week of their end, and by week of sending.
FINISHED = "finished"
SENT = "sent"
#: ... the review cycles by week of their last opinion (gating, parallel gain), and the
#: filed dossiers by week of filing (take-in-charge: no administration, no cycle).
CYCLES = "cycles"
DOSSIERS = "dossiers"
#: Each family's day cells, and back.
DAY_OF = {family: f"{family}_day" for family in (FINISHED, SENT, CYCLES, DOSSIERS)}
WEEKLY = {day: family for family, day in DAY_OF.items()}
#: A dimension's "any value" (the cycle's is 0), and the week of "every week".
ANY = ""
EVERY_WEEK = ""
#: The counts every cell holds, and the sketches a ``finished`` cell holds.
COUNTS = (
    "items",
    "judged",
    "answered",
    "tacit",
    "cancelled",
    "on_time_legal",
    "on_time_target",
    "breaches",
    # ``cycles`` cells: per administration consulted, the cycles of two opinions or more it
    # gave one in, those where it gave the last, and the delay it added (micro-days); the
    # sums of the cycles' durations and of their longest ones (micro-days).
    "gate_consulted",
    "gated",
    "gate_delay",
    "gain_sum",
    "gain_longest",
    # ``dossiers`` cells: ``items`` the dossiers filed (withdrawn before being taken in
    # charge aside), those taken in charge, and within their 24 h.
    "taken",
    "taken_in_time",
)
SKETCHES = ("held", "business", "lateness", "ratio", "hours")
#: Durations summed in cells are counted in millionths of a day (exact integer sums).
MICRO = 1_000_000
#: Cells read or written per statement.
CHUNK = 500

_JUDGED = (Outcome.ANSWERED.value, Outcome.TACIT.value)


class FactLike(Protocol):
    """What a contribution reads of a consultation fact (a row or a mapped object)."""

    administration_code: str
    procedures: str
    arrondissement_code: str | None
    cycle: int
    outcome: str
    sent_week: str
    finished_week: str | None
    sent_day: str
    finished_day: str | None
    held_days: float | None
    held_business_days: float | None
    lateness_days: float | None
    on_time_legal: bool | None
    on_time_target: bool | None


#: The fact's column that places it in a cell of a ``finished`` or ``sent`` family.
WEEK_COLUMN = {
    FINISHED: "finished_week",
    SENT: "sent_week",
    DAY_OF[FINISHED]: "finished_day",
    DAY_OF[SENT]: "sent_day",
}


def weekly(family: str) -> str:
    """The week family of ``family`` (itself, or the one a day family is of)."""
    return WEEKLY.get(family, family)


class CellKey(NamedTuple):
    """Where a cell sits: its family, week and dimensions."""

    family: str
    week: str
    administration_code: str
    procedure: str
    arrondissement_code: str
    cycle: int

    def text(self) -> str:
        """The cell's primary key."""
        return "|".join(str(part) for part in self)


@dataclass
class Cell:
    """A cell's counts and sketches (in memory, or a delta to apply)."""

    counts: list[int] = field(default_factory=lambda: [0] * len(COUNTS))
    sketches: dict[str, sketch.Sketch] = field(default_factory=dict)
    #: Stored sketches to merge with ``sketches`` (cells read from the table).
    stored: dict[str, list[bytes | None]] = field(default_factory=dict)

    def contribute(self, counts: Sequence[int], values: dict[str, float], sign: int = 1) -> None:
        """Add (``sign`` 1) or subtract (-1) one contribution: its counts, and its values
        into the sketches."""
        self.counts = [a + sign * b for a, b in zip(self.counts, counts, strict=True)]
        for name, value in values.items():
            self.sketches.setdefault(name, Counter())[sketch.bucket(value)] += sign

    def count(self, name: str) -> int:
        """One of ``COUNTS``."""
        return self.counts[COUNTS.index(name)]

    def add(self, other: Cell) -> None:
        """Add ``other`` into this cell."""
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        for name, found in other.sketches.items():
            self.sketches.setdefault(name, Counter()).update(found)
        for name, stored in other.stored.items():
            self.stored.setdefault(name, []).extend(stored)

    def merged(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The sketch ``name`` merged: (buckets, counts) arrays."""
        parts = list(self.stored.get(name, []))
        if name in self.sketches:
            parts.append(sketch.dumps(self.sketches[name]))
        return sketch.merged(parts)

    def empty(self) -> bool:
        return not any(self.counts) and not any(any(s.values()) for s in self.sketches.values())


_NO_CYCLE = (0, 0, 0, 0, 0, 0, 0)


def _measures(fact: FactLike, family: str) -> tuple[list[int], dict[str, float]]:
    judged = fact.outcome in _JUDGED
    finished = fact.outcome != Outcome.OPEN.value
    counts = [
        1,
        int(judged),
        int(fact.outcome == Outcome.ANSWERED.value),
        int(fact.outcome == Outcome.TACIT.value),
        int(fact.outcome == Outcome.CANCELLED.value),
        int(finished and fact.on_time_legal is True),
        int(finished and fact.on_time_target is True),
        int(judged and fact.lateness_days is not None),
        *_NO_CYCLE,
    ]
    values: dict[str, float] = {}
    if weekly(family) == FINISHED and judged:
        # A finished consultation always has its held durations (facts.derive).
        values["held"] = fact.held_days or 0.0
        values["business"] = fact.held_business_days or 0.0
        if fact.lateness_days is not None:
            values["lateness"] = fact.lateness_days
    return counts, values


class Base(NamedTuple):
    """The facts that add to the same cells: one family, week, administration, set of
    procedures, arrondissement and cycle (far fewer than facts)."""

    family: str
    week: str
    administration_code: str
    procedures: str
    arrondissement_code: str
    cycle: int

    def cells(self, *, weeks: Sequence[str] | None = None) -> Iterator[CellKey]:
        """Every cell these facts add to (of the ``weeks`` given: the base's own, ``""``;
        a day base's: its day's only)."""
        procedures = [ANY, *(p for p in self.procedures.split(",") if p)]
        arrondissements = [ANY, self.arrondissement_code] if self.arrondissement_code else [ANY]
        if weeks is None:
            weeks = (self.week,) if self.family in WEEKLY else (self.week, EVERY_WEEK)
        for week in weeks:
            for procedure in procedures:
                for arrondissement in arrondissements:
                    for cycle in (0, self.cycle) if self.cycle else (0,):
                        yield CellKey(
                            self.family,
                            week,
                            self.administration_code,
                            procedure,
                            arrondissement,
                            cycle,
                        )


def base_of(fact: FactLike, family: str) -> Base | None:
    """The base ``fact`` belongs to in ``family``, a week or day family of ``finished`` or
    ``sent`` (None: an open one has no end)."""
    ended = weekly(family) == FINISHED
    week = getattr(fact, WEEK_COLUMN[family])
    if week is None or (ended and fact.outcome == Outcome.OPEN.value):
        return None
    return Base(
        family,
        week,
        fact.administration_code,
        fact.procedures,
        fact.arrondissement_code or ANY,
        fact.cycle,
    )


class CycleFactLike(Protocol):
    """What a review cycle's contribution reads of each of its consultations' facts."""

    dossier_id: Any
    administration_code: str
    procedures: str
    arrondissement_code: str | None
    cycle: int
    outcome: str
    finished_at: dt.datetime | None
    elapsed_days: float | None


def _micro(days: float) -> int:
    return round(days * MICRO)


def cycle_measures(
    facts: Sequence[CycleFactLike],
) -> tuple[dt.datetime, list[tuple[Base, list[int], dict[str, float]]]] | None:
    """What one review cycle (its consultations' ``facts``) adds to the ``cycles`` bases,
    and the instant of its last opinion; None while one is open, or without an opinion.

    A closed cycle counts for the parallel gain under every administration consulted in it
    (whatever the outcome) and under any: the sum of its opinions' elapsed durations and the
    longest one. With two opinions or more, each administration that gave one counts it for
    the gating: it gated if its opinion was the last (tied last ones all gate, by 0 days),
    by the time from the next one (the second in order of time, codes breaking ties)."""
    if not facts or any(f.outcome == Outcome.OPEN.value for f in facts):
        return None
    judged = [f for f in facts if f.outcome in _JUDGED and f.finished_at is not None]
    if not judged:
        return None
    ranked = sorted(judged, key=lambda f: f.administration_code)
    ranked.sort(key=lambda f: f.finished_at or dt.datetime.min.replace(tzinfo=dt.UTC), reverse=True)
    last = ranked[0].finished_at
    assert last is not None  # judged ones are finished
    elapsed = [f.elapsed_days or 0.0 for f in judged]
    total, longest = sum(elapsed), max(elapsed)
    gain = [0] * len(COUNTS)
    gain[COUNTS.index("items")] = 1
    gain[COUNTS.index("gain_sum")] = _micro(total)
    gain[COUNTS.index("gain_longest")] = _micro(longest)
    values = {"ratio": total / longest} if longest else {}
    gates: dict[str, list[int]] = {}
    if len(judged) >= 2:
        second = ranked[1].finished_at
        assert second is not None
        for f in judged:
            counts = gates.setdefault(f.administration_code, [0, 0, 0])
            counts[0] += 1
            if f.finished_at == last:
                counts[1] += 1
                counts[2] += _micro((last - second) / dt.timedelta(days=1))
    first = facts[0]
    arrondissement = first.arrondissement_code or ANY
    entries = []
    # The week bases first (the one of any administration leading), then the day's.
    for family, week in ((CYCLES, iso_week(last)), (DAY_OF[CYCLES], iso_day(last))):
        for code in [ANY, *sorted({f.administration_code for f in facts})]:
            counts = list(gain)
            consulted, gated, delay = gates.get(code, (0, 0, 0))
            counts[COUNTS.index("gate_consulted")] = consulted
            counts[COUNTS.index("gated")] = gated
            counts[COUNTS.index("gate_delay")] = delay
            base = Base(family, week, code, first.procedures, arrondissement, first.cycle)
            entries.append((base, counts, values))
    return last, entries


def snapshot(fact: Any, columns: Iterable[Any]) -> SimpleNamespace:
    """What the rollups read of a mapped fact (``FACT_COLUMNS``, ``DOSSIER_COLUMNS``), kept
    apart from the row about to be replaced."""
    return SimpleNamespace(**{c.key: getattr(fact, c.key) for c in columns})


def cycles_of(rows: Iterable[CycleFactLike]) -> dict[tuple[Any, int], list[CycleFactLike]]:
    """Facts grouped by review cycle (dossier, cycle)."""
    found: dict[tuple[Any, int], list[CycleFactLike]] = {}
    for row in rows:
        found.setdefault((row.dossier_id, row.cycle), []).append(row)
    return found


CYCLE_COLUMNS = (
    ConsultationFact.dossier_id,
    ConsultationFact.administration_code,
    ConsultationFact.procedures,
    ConsultationFact.arrondissement_code,
    ConsultationFact.cycle,
    ConsultationFact.outcome,
    ConsultationFact.finished_at,
    ConsultationFact.elapsed_days,
)


def cycle_facts(session: Session, cycles: Iterable[tuple[Any, int]]) -> list[list[CycleFactLike]]:
    """The facts of each review cycle of ``cycles`` (dossier, cycle) as they stand."""
    wanted = set(cycles)
    dossiers = list({dossier for dossier, _ in wanted})
    rows: list[Any] = []
    for first in range(0, len(dossiers), CHUNK):
        chunk = dossiers[first : first + CHUNK]
        rows += session.execute(
            select(*CYCLE_COLUMNS).where(ConsultationFact.dossier_id.in_(chunk))
        ).all()
    return [facts for key, facts in cycles_of(rows).items() if key in wanted]


class DossierFactLike(Protocol):
    """What the take-in-charge cells read of a dossier's facts."""

    procedures: str
    administrations: str
    arrondissement_code: str | None
    filed_week: str
    filed_day: str
    withdrawn: bool
    taken_in_charge_at: dt.datetime | None
    take_charge_due_at: dt.datetime | None
    take_charge_hours: float | None


def dossier_measures(
    fact: DossierFactLike,
) -> tuple[list[Base], list[int], dict[str, float]] | None:
    """What one filed dossier adds to the ``dossiers`` bases: the same to its base of any
    administration and to that of each administration consulted on it (None: withdrawn
    before being taken in charge, it is not counted)."""
    taken = fact.taken_in_charge_at is not None
    if not taken and fact.withdrawn:
        return None
    counts = [0] * len(COUNTS)
    counts[COUNTS.index("items")] = 1
    values: dict[str, float] = {}
    if taken:
        counts[COUNTS.index("taken")] = 1
        due = fact.take_charge_due_at
        assert fact.taken_in_charge_at is not None
        counts[COUNTS.index("taken_in_time")] = int(
            due is not None and fact.taken_in_charge_at <= due
        )
        if fact.take_charge_hours is not None:
            values["hours"] = fact.take_charge_hours
    codes = [ANY, *(code for code in fact.administrations.split(",") if code)]
    arrondissement = fact.arrondissement_code or ANY
    bases = [
        Base(family, week, code, fact.procedures, arrondissement, 0)
        for family, week in ((DOSSIERS, fact.filed_week), (DAY_OF[DOSSIERS], fact.filed_day))
        for code in codes
    ]
    return bases, counts, values


class Cells(dict[Any, Cell]):
    """Cells (or bases) being added up."""

    def cell(self, key: Any) -> Cell:
        found = self.get(key)
        if found is None:
            found = self[key] = Cell()
        return found

    def add(
        self,
        fact: FactLike,
        sign: int = 1,
        families: Sequence[str] = (FINISHED, SENT, DAY_OF[FINISHED], DAY_OF[SENT]),
    ) -> None:
        """Add (``sign`` 1) or subtract (-1) ``fact`` to its bases."""
        for family in families:
            key = base_of(fact, family)
            if key is None:
                continue
            counts, values = _measures(fact, family)
            cell = self.cell(key)
            cell.contribute(counts, values, sign)

    def add_cycle(self, facts: Sequence[CycleFactLike], sign: int = 1) -> dt.datetime | None:
        """Add (or subtract) one review cycle, all its consultations' ``facts``, to its
        bases; returns its last opinion's instant (None: still open, or no opinion)."""
        found = cycle_measures(facts)
        if found is None:
            return None
        last, entries = found
        for key, counts, values in entries:
            cell = self.cell(key)
            cell.contribute(counts, values, sign)
        return last

    def add_dossier(self, fact: DossierFactLike, sign: int = 1) -> None:
        """Add (or subtract) one filed dossier to its base."""
        found = dossier_measures(fact)
        if found is None:
            return
        keys, counts, values = found
        for key in keys:
            self.cell(key).contribute(counts, values, sign)

    def expanded(self, *, weeks: Sequence[str] | None = None) -> Cells:
        """These bases' cells."""
        cells = Cells()
        for base, found in self.items():
            for key in base.cells(weeks=weeks):
                cells.cell(key).add(found)
        return cells


def _row(key: CellKey, cell: Cell) -> dict[str, Any]:
    row: dict[str, Any] = {"key": key.text(), **key._asdict()}
    row.update(zip(COUNTS, cell.counts, strict=True))
    for name in SKETCHES:
        row[name] = sketch.dumps(cell.sketches.get(name, Counter()))
    return row


def _write(session: Session, cells: Iterable[tuple[CellKey, Cell]]) -> None:
    """Insert the cells that are not empty: by ``COPY`` on PostgreSQL (an executemany there
    is one statement a row, tens of thousands for a refresh of a few hundred facts), by
    ``CHUNK`` rows an executemany on SQLite."""
    rows = (_row(key, cell) for key, cell in cells if not cell.empty())
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        names = [column.name for column in MetricsRollup.__table__.columns]
        raw = connection.connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cursor,
            cursor.copy(
                f"COPY {MetricsRollup.__tablename__} ({', '.join(names)}) FROM STDIN"
            ) as copy,
        ):
            for row in rows:
                copy.write_row([row[name] for name in names])
        return
    batch = list(itertools.islice(rows, CHUNK))
    while batch:
        session.execute(insert(MetricsRollup), batch)
        batch = list(itertools.islice(rows, CHUNK))


def apply(
    session: Session,
    *,
    removed: Iterable[FactLike],
    added: Iterable[FactLike],
    cycles_before: Iterable[Sequence[CycleFactLike]] = (),
    cycles_after: Iterable[Sequence[CycleFactLike]] = (),
    dossiers_before: Iterable[DossierFactLike] = (),
    dossiers_after: Iterable[DossierFactLike] = (),
) -> int:
    """Subtract the contributions of the facts ``removed`` and add those of ``added``, and
    the same of the review cycles they belong to (their facts before and after); returns
    how many cells changed. The caller serialises refreshes (one writer at a time)."""
    bases = Cells()
    for fact in removed:
        bases.add(fact, -1)
    for fact in added:
        bases.add(fact, 1)
    for facts in cycles_before:
        bases.add_cycle(facts, -1)
    for facts in cycles_after:
        bases.add_cycle(facts, 1)
    for dossier in dossiers_before:
        bases.add_dossier(dossier, -1)
    for dossier in dossiers_after:
        bases.add_dossier(dossier, 1)
    delta = bases.expanded()
    keys = {key.text(): key for key in delta}
    texts = list(keys)
    current = Cells()
    m = MetricsRollup
    columns = [m.key, *(getattr(m, c) for c in COUNTS), *(getattr(m, s) for s in SKETCHES)]
    for first in range(0, len(texts), CHUNK):
        chunk = texts[first : first + CHUNK]
        # Taken out and written back added up: one statement reads and deletes a chunk.
        taken = delete(m).where(m.key.in_(chunk)).returning(*columns)
        for text, *values in session.connection().execute(taken):
            cell = current[keys[text]] = Cell(counts=list(values[: len(COUNTS)]))
            cell.sketches = {
                name: sketch.loads(data)
                for name, data in zip(SKETCHES, values[len(COUNTS) :], strict=True)
            }
    for key, change in delta.items():
        cell = current.setdefault(key, Cell())
        cell.counts = [a + b for a, b in zip(cell.counts, change.counts, strict=True)]
        for name, found in change.sketches.items():
            target = cell.sketches.setdefault(name, Counter())
            for k, n in found.items():
                target[k] += n
    _write(session, current.items())
    return len(delta)


#: The family of the one marker row of a bulk refresh: facts derived without keeping the
#: cells in step (too many stale rows for that), the cells to rebuild once none is stale.
PENDING = "pending"
_PENDING_KEY = CellKey(PENDING, EVERY_WEEK, ANY, ANY, ANY, 0)


def mark_pending(session: Session) -> None:
    """Note, in the refresh's own transaction, that the cells no longer follow the facts: a
    refresh that stops half-way (a killed process) leaves the note, and the next one goes on
    in bulk and rebuilds."""
    if not pending(session):
        session.execute(
            insert(MetricsRollup), [{"key": _PENDING_KEY.text(), **_PENDING_KEY._asdict()}]
        )


def pending(session: Session) -> bool:
    """A bulk refresh is under way (``mark_pending``); ``rebuild`` clears it."""
    return session.get(MetricsRollup, _PENDING_KEY.text()) is not None


def missing(session: Session) -> bool:
    """Facts without any cell: the rollups were never built (a database upgraded to them)."""
    if session.scalar(select(MetricsRollup.key).limit(1)) is not None:
        return False
    if session.scalar(select(ConsultationFact.consultation_id).limit(1)) is not None:
        return True
    return session.scalar(select(DossierFact.dossier_id).limit(1)) is not None


def count(session: Session) -> int:
    """How many cells the rollups hold (the bulk refresh's marker not counted)."""
    return (
        session.scalar(
            select(func.count()).select_from(MetricsRollup).where(MetricsRollup.family != PENDING)
        )
        or 0
    )


def rebuild(session: Session) -> int:
    """Every cell recomputed from the facts: the facts added up by base in SQL (and their
    durations read once for the sketches), then each week's bases expanded into its cells
    and written; returns how many cells."""
    session.execute(delete(MetricsRollup))
    written = 0
    for family in (FINISHED, SENT, DAY_OF[FINISHED], DAY_OF[SENT]):
        bases = bases_from_facts(session, family, [], sketches=SKETCHES)
        by_week: dict[str, Cells] = {}
        for base, found in bases.items():
            by_week.setdefault(base.week, Cells())[base] = found
        every = Cells()
        for week in sorted(by_week):
            cells = by_week[week].expanded(weeks=(week,))
            _write(session, cells.items())
            written += len(cells)
            if family in WEEKLY:
                continue  # no cell of every day
            for base, found in by_week[week].items():
                for key in base.cells(weeks=(EVERY_WEEK,)):
                    every.cell(key).add(found)
        _write(session, every.items())
        written += len(every)
    return written + _rebuild_cycles(session) + _rebuild_dossiers(session)


def _rebuild_dossiers(session: Session) -> int:
    """The ``dossiers`` cells from the dossiers' facts."""
    bases = dossier_bases(session, [])
    cells = bases.expanded()
    _write(session, cells.items())
    return len(cells)


DOSSIER_COLUMNS = (
    DossierFact.procedures,
    DossierFact.administrations,
    DossierFact.arrondissement_code,
    DossierFact.filed_week,
    DossierFact.filed_day,
    DossierFact.withdrawn,
    DossierFact.taken_in_charge_at,
    DossierFact.take_charge_due_at,
    DossierFact.take_charge_hours,
)


def dossier_bases(session: Session, conditions: Sequence[Any]) -> Cells:
    """The ``dossiers`` bases of the dossiers' facts ``conditions`` select (one row each:
    a dossier is far lighter than its consultations)."""
    bases = Cells()
    rows = session.execute(
        select(*DOSSIER_COLUMNS).where(*conditions).execution_options(yield_per=10_000)
    )
    for row in rows:
        bases.add_dossier(row)
    return bases


def _rebuild_cycles(session: Session) -> int:
    """The ``cycles`` cells from the facts, read in order of dossier and cycle."""
    f = ConsultationFact
    bases = Cells()
    rows = session.execute(
        select(*CYCLE_COLUMNS).order_by(f.dossier_id, f.cycle).execution_options(yield_per=10_000)
    )
    current: list[Any] = []
    for row in rows:
        if current and (row.dossier_id, row.cycle) != (current[0].dossier_id, current[0].cycle):
            bases.add_cycle(current)
            current = []
        current.append(row)
    bases.add_cycle(current)
    cells = bases.expanded()
    _write(session, cells.items())
    return len(cells)


def _sum(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def bases_from_facts(
    session: Session, family: str, conditions: Sequence[Any], *, sketches: Sequence[str]
) -> Cells:
    """The facts ``conditions`` select added up by base: the counts with one ``GROUP BY``
    (the same measures as ``_measures``), the ``sketches`` (``finished`` only) from the
    judged ones' durations."""
    f = ConsultationFact
    ended = weekly(family) == FINISHED
    week = getattr(f, WEEK_COLUMN[family])
    keys = (week, f.administration_code, f.procedures, f.arrondissement_code, f.cycle)
    where = [week.is_not(None), *conditions]
    if ended:
        where.append(f.outcome != Outcome.OPEN.value)
    judged = f.outcome.in_(_JUDGED)
    finished = f.outcome != Outcome.OPEN.value
    counts = (
        func.count(),
        _sum(judged),
        _sum(f.outcome == Outcome.ANSWERED.value),
        _sum(f.outcome == Outcome.TACIT.value),
        _sum(f.outcome == Outcome.CANCELLED.value),
        _sum(and_(finished, f.on_time_legal.is_(True))),
        _sum(and_(finished, f.on_time_target.is_(True))),
        _sum(and_(judged, f.lateness_days.is_not(None))),
    )
    bases = Cells()
    for found_week, code, procedures, arrondissement, cycle, *found in session.execute(
        select(*keys, *counts).where(*where).group_by(*keys)
    ):
        cell = bases.cell(Base(family, found_week, code, procedures, arrondissement or ANY, cycle))
        found = [*found, *_NO_CYCLE]
        cell.counts = [a + int(b) for a, b in zip(cell.counts, found, strict=True)]
    durations = {"held": f.held_days, "business": f.held_business_days, "lateness": f.lateness_days}
    sketches = [name for name in sketches if name in durations]
    if not ended or not sketches:
        return bases
    rows = session.execute(
        select(*keys, *(durations[name] for name in sketches))
        .where(*where, judged)
        .execution_options(yield_per=10_000)
    )
    bucket = sketch.bucket
    for found_week, code, procedures, arrondissement, cycle, *values in rows:
        assert found_week is not None  # selected so
        cell = bases[Base(family, found_week, code, procedures, arrondissement or ANY, cycle)]
        for name, value in zip(sketches, values, strict=True):
            if value is None:
                if name == "lateness":
                    continue
                # A finished consultation always has its held durations (facts.derive).
                value = 0.0
            cell.sketches.setdefault(name, Counter())[bucket(value)] += 1
    return bases


FACT_COLUMNS = (
    ConsultationFact.administration_code,
    ConsultationFact.procedures,
    ConsultationFact.arrondissement_code,
    ConsultationFact.cycle,
    ConsultationFact.outcome,
    ConsultationFact.sent_week,
    ConsultationFact.finished_week,
    ConsultationFact.sent_day,
    ConsultationFact.finished_day,
    ConsultationFact.held_days,
    ConsultationFact.held_business_days,
    ConsultationFact.lateness_days,
    ConsultationFact.on_time_legal,
    ConsultationFact.on_time_target,
)


# --- Reading: a period's cells ---


def _monday(instant: dt.datetime) -> dt.datetime:
    """The Monday 00:00 (Paris) of ``instant``'s week, as an instant."""
    day = instant.astimezone(REPORTING_ZONE).date()
    monday = day - dt.timedelta(days=day.weekday())
    return dt.datetime.combine(monday, dt.time(0), tzinfo=REPORTING_ZONE)


def _next_monday(monday: dt.datetime) -> dt.datetime:
    day = monday.astimezone(REPORTING_ZONE).date() + dt.timedelta(days=7)
    return dt.datetime.combine(day, dt.time(0), tzinfo=REPORTING_ZONE)


@dataclass(frozen=True)
class Split:
    """A period cut into whole weeks (read from the week cells), whole days of the weeks it
    covers in part (from the day cells) and what is left of a day (from the facts)."""

    #: The whole weeks, first and last included (None: unbounded on that side); both None
    #: and ``every`` true: the cells of every week.
    first_week: str | None
    last_week: str | None
    every: bool
    #: Whole days ``(first, last)`` included, ISO (``2026-06-02``).
    days: tuple[tuple[str, str], ...] = ()
    #: Instants ``[start, end)`` read from the facts.
    rest: tuple[tuple[dt.datetime, dt.datetime], ...] = ()
    #: No whole week at all: days and the rest only.
    no_weeks: bool = False


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=REPORTING_ZONE)


def _by_days(
    low: dt.datetime, high: dt.datetime
) -> tuple[list[tuple[str, str]], list[tuple[dt.datetime, dt.datetime]]]:
    """``[low, high)`` as whole days (Europe/Paris) and what is left of a day at each end."""
    first = low.astimezone(REPORTING_ZONE).date()
    if _midnight(first) < low:
        first += dt.timedelta(days=1)
    end = high.astimezone(REPORTING_ZONE).date()  # its midnight is at or before ``high``
    if first >= end:
        return [], [(low, high)]
    rest = []
    if low < _midnight(first):
        rest.append((low, _midnight(first)))
    if _midnight(end) < high:
        rest.append((_midnight(end), high))
    return [(first.isoformat(), (end - dt.timedelta(days=1)).isoformat())], rest


def split(start: dt.datetime | None, end: dt.datetime | None) -> Split:
    """``[start, end)`` as whole ISO weeks, whole days and the rest."""
    if start is None and end is None:
        return Split(None, None, every=True)
    partial: list[tuple[dt.datetime, dt.datetime]] = []
    first_monday = None
    if start is not None:
        first_monday = _monday(start)
        if first_monday < start:
            first_monday = _next_monday(first_monday)
            partial.append((start, first_monday if end is None else min(first_monday, end)))
    end_monday = None
    no_weeks = False
    if end is not None:
        end_monday = _monday(end)
        if start is not None and first_monday is not None and end_monday <= first_monday:
            partial, no_weeks = [(start, end)], True  # no whole week
        elif end_monday < end:
            partial.append((end_monday, end))
    days: list[tuple[str, str]] = []
    rest: list[tuple[dt.datetime, dt.datetime]] = []
    for low, high in partial:
        found_days, found_rest = _by_days(low, high)
        days += found_days
        rest += found_rest
    if no_weeks:
        return Split(None, None, every=False, days=tuple(days), rest=tuple(rest), no_weeks=True)
    first_week = None if first_monday is None else iso_week(first_monday)
    last_week = None if end_monday is None else iso_week(end_monday - dt.timedelta(days=1))
    return Split(first_week, last_week, every=False, days=tuple(days), rest=tuple(rest))


def _week_of(week: str) -> str:
    """The ISO week a cell's ``week`` stands in: itself, or a day's (``2026-06-02``)."""
    if len(week) != 10:
        return week
    year, number, _ = dt.date.fromisoformat(week).isocalendar()
    return f"{year}-W{number:02d}"


def select_cells(
    session: Session,
    family: str,
    filters: Filters,
    *,
    start: dt.datetime | None,
    end: dt.datetime | None,
    by_week: bool,
    sketches: Sequence[str] = (),
    by_administration: bool = True,
    counts: Sequence[str] = COUNTS,
) -> dict[tuple[str, str], Cell]:
    """The ``family``'s consultations whose week instant (end, or sending) falls in
    ``[start, end)`` and that the filters select, added up per (administration, week) —
    the week ``""`` unless ``by_week``, the administration ``""`` unless
    ``by_administration`` (added up in SQL) — with the ``counts`` (the others left at 0) and
    the ``sketches`` asked for: the week cells of its whole weeks and the day cells of its
    other whole days, in one statement."""
    m = MetricsRollup
    result: dict[tuple[str, str], Cell] = {}
    cut = split(start, end)
    ranges: list[Any] = []
    if not cut.no_weeks:
        if cut.every and not by_week:
            ranges.append(and_(m.family == family, m.week == EVERY_WEEK))
        else:
            weeks = [m.family == family, m.week != EVERY_WEEK]
            if cut.first_week is not None:
                weeks.append(m.week >= cut.first_week)
            if cut.last_week is not None:
                weeks.append(m.week <= cut.last_week)
            ranges.append(and_(*weeks))
    for first, last in cut.days:
        ranges.append(and_(m.family == DAY_OF[family], m.week >= first, m.week <= last))
    if ranges:
        conditions = [
            or_(*ranges) if len(ranges) > 1 else ranges[0],
            m.procedure == (filters.procedure or ANY),
            m.arrondissement_code == (filters.arrondissement or ANY),
            m.cycle == (filters.cycle or 0),
        ]
        if filters.administration is not None:
            conditions.append(m.administration_code == filters.administration)
        elif family == DOSSIERS:
            # A dossier is in its cell of any administration and in each one consulted.
            conditions.append(m.administration_code == ANY)
        group = [
            *([m.administration_code] if by_administration else []),
            *([m.week] if by_week else []),
        ]
        places = [COUNTS.index(name) for name in counts]
        totals = [func.sum(getattr(m, name)) for name in counts]
        statement = select(*group, *totals).where(*conditions)
        for row in session.connection().execute(statement.group_by(*group) if group else statement):
            sums = row[len(group) :]
            if sums[0] is None:  # no cell at all (a sum over no row)
                continue
            cell = result.setdefault(_group_key(row, by_administration, by_week), Cell())
            for place, value in zip(places, sums, strict=True):
                cell.counts[place] += int(value)
        if sketches:
            columns: list[Any] = [*group, *(getattr(m, name) for name in sketches)]
            for row in session.connection().execute(select(*columns).where(*conditions)):
                cell = result[_group_key(row, by_administration, by_week)]
                stored: tuple[Any, ...] = tuple(row)[len(group) :]
                for name, data in zip(sketches, stored, strict=True):
                    cell.stored.setdefault(name, []).append(data)
    for low, high in cut.rest:
        for key, cell in _from_facts(session, family, filters, low, high, sketches).items():
            code = key.administration_code if by_administration else ""
            result.setdefault((code, key.week if by_week else ""), Cell()).add(cell)
    return result


def _group_key(row: Any, by_administration: bool, by_week: bool) -> tuple[str, str]:
    code = row[0] if by_administration else ""
    week = _week_of(row[int(by_administration)]) if by_week else ""
    return code, week


def _from_facts(
    session: Session,
    family: str,
    filters: Filters,
    start: dt.datetime | None,
    end: dt.datetime | None,
    sketches: Sequence[str],
) -> Cells:
    """The cells of the facts in ``[start, end)`` that the filters select."""
    f = ConsultationFact
    column = f.sent_at if family == SENT else f.finished_at
    conditions: list[Any] = []
    if start is not None:
        conditions.append(column >= start)
    if end is not None:
        conditions.append(column < end)
    conditions += fact_conditions(filters)
    wanted = (filters.procedure or ANY, filters.arrondissement or ANY, filters.cycle or 0)
    if family == DOSSIERS:
        d = DossierFact
        where = [d.filed_at >= start] if start is not None else []
        where += [d.filed_at < end] if end is not None else []
        if filters.procedure is not None:
            where.append(d.procedures.contains(f",{filters.procedure},", autoescape=True))
        if filters.arrondissement is not None:
            where.append(d.arrondissement_code == filters.arrondissement)
        if filters.administration is not None:
            where.append(d.administrations.contains(f",{filters.administration},", autoescape=True))
        bases = dossier_bases(session, where)
    elif family == CYCLES:
        bases = _cycle_bases(session, filters, start, end)
    else:
        if filters.administration is not None:
            conditions.append(f.administration_code == filters.administration)
        bases = bases_from_facts(session, family, conditions, sketches=sketches)
    cells = Cells()
    for base, found in bases.items():
        if base.family != family:
            continue  # a cycle's or a dossier's day base
        if (
            filters.administration is not None
            and base.administration_code != filters.administration
        ):
            continue
        if family == DOSSIERS and filters.administration is None and base.administration_code:
            continue  # the dossier's base of any administration only
        for key in base.cells(weeks=(base.week,)):
            if (key.procedure, key.arrondissement_code, key.cycle) == wanted:
                cells.cell(key).add(found)
    return cells


def fact_conditions(filters: Filters) -> list[Any]:
    """The filters' conditions on the consultation facts (the period and the administration
    aside: each reader says which instant and whether the administration applies)."""
    f = ConsultationFact
    conditions: list[Any] = []
    if filters.procedure is not None:
        conditions.append(f.procedures.contains(f",{filters.procedure},", autoescape=True))
    if filters.arrondissement is not None:
        conditions.append(f.arrondissement_code == filters.arrondissement)
    if filters.cycle is not None:
        conditions.append(f.cycle == filters.cycle)
    return conditions


def closed_cycles(
    session: Session, filters: Filters, start: dt.datetime | None, end: dt.datetime | None
) -> Iterator[tuple[dt.datetime, list[tuple[Base, list[int], dict[str, float]]]]]:
    """``cycle_measures`` of each review cycle the filters select (the administration: one
    consulted in it) whose last opinion is in ``[start, end)``, read from the facts."""
    f = ConsultationFact
    conditions: list[Any] = [f.outcome.in_(_JUDGED)]
    if start is not None:
        conditions.append(f.finished_at >= start)
    if end is not None:
        conditions.append(f.finished_at < end)
    conditions += fact_conditions(filters)
    # The review cycles that had an opinion in the period, then their facts through the
    # dossier index, 500 dossiers a statement (``cycle_facts``: a subquery there let
    # PostgreSQL scan the whole table, and one list of every dossier passed its 65,535
    # parameters).
    cycles = session.execute(select(f.dossier_id, f.cycle).where(*conditions).distinct())
    for facts in cycle_facts(session, {(dossier, cycle) for dossier, cycle in cycles}):
        found = cycle_measures(facts)
        if found is None:
            continue
        last, entries = found
        if (start is not None and last < start) or (end is not None and last >= end):
            continue
        codes = {base.administration_code for base, _, _ in entries}
        if filters.administration is not None and filters.administration not in codes:
            continue
        yield last, entries


def cycle_ratios(session: Session, filters: Filters) -> list[float]:
    """The parallel gain of each cycle the filters select closed in their period (exact)."""
    ratios = []
    for _last, entries in closed_cycles(session, filters, filters.start, filters.end):
        _base, _counts, values = entries[0]
        if "ratio" in values:
            ratios.append(values["ratio"])
    return ratios


def _cycle_bases(
    session: Session, filters: Filters, start: dt.datetime | None, end: dt.datetime | None
) -> Cells:
    """The ``cycles`` bases of the review cycles the filters select closed in
    ``[start, end)``."""
    bases = Cells()
    for _last, entries in closed_cycles(session, filters, start, end):
        for key, counts, values in entries:
            cell = bases.cell(key)
            cell.contribute(counts, values)
    return bases
