"""The managers' figures' read side: one row of derived facts per consultation and per dossier.

Each row is computed once from the source rows (``metrics.actions.refresh_facts``, run by the
sweep flow after every sweep) and stamped with the source row's ``version``: a consultation
or dossier whose version moved on since is stale and computed again. The figures then
aggregate these rows with ``GROUP BY`` queries instead of re-deriving clocks, pauses and
calendars for every request (docs/decisions.md, "Metrics read from derived facts").
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from accelerator.shared.db import Base, UTCDateTime

#: What the open work reads of an open consultation's facts beside its administration and
#: sending: its targets and deadline, and the filters' dimensions.
OPEN_INCLUDE = (
    "target_due_at",
    "target_risk_at",
    "legal_due_at",
    "procedures",
    "arrondissement_code",
    "cycle",
)


#: The counts of a week's cells that the weekly flow and the cohorts read (``queries._weeks``).
WEEK_COUNTS = ("items", "answered", "tacit", "cancelled", "on_time_legal")


class ConsultationFact(Base):
    """What one consultation's clocks, pauses and opinion mean for the figures."""

    __tablename__ = "consultation_facts"
    __table_args__ = (
        Index("ix_consultation_facts_admin_finished", "administration_code", "finished_at"),
        Index("ix_consultation_facts_sent_at", "sent_at"),
        # The rollups' partial weeks, and the open items (``finished_at IS NULL``).
        Index("ix_consultation_facts_finished_at", "finished_at"),
        # The exact figures of a later review cycle (few opinions: ``queries._duration_levels``
        # reads them from the facts), without a scan of every fact.
        Index("ix_consultation_facts_cycle_finished", "cycle", "finished_at"),
        # The open work of the summary (``queries.open_counts``) read from the index alone
        # on PostgreSQL: the open items lie scattered over the facts' pages.
        Index(
            "ix_consultation_facts_open",
            "administration_code",
            "sent_at",
            postgresql_include=OPEN_INCLUDE,
            postgresql_where=text("finished_at IS NULL"),
            sqlite_where=text("finished_at IS NULL"),
        ),
    )

    consultation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("consultations.id"), primary_key=True
    )
    #: The consultation's ``version`` these facts were derived from (stale when it differs).
    source_version: Mapped[int] = mapped_column(Integer)
    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), index=True)
    administration_code: Mapped[str] = mapped_column(String(32))
    consultation_type_code: Mapped[str] = mapped_column(String(64))
    cycle: Mapped[int] = mapped_column(Integer)
    arrondissement_code: Mapped[str | None] = mapped_column(String(8), nullable=True)
    #: The dossier's procedures, comma-delimited with a comma at each end (``,PC,ICPE_E,``),
    #: so that a procedure filter is one ``LIKE`` on both databases.
    procedures: Mapped[str] = mapped_column(String(400))
    #: ``open``, ``answered``, ``tacit`` or ``cancelled`` (``facts.Outcome``).
    outcome: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: ISO week of the sending in the reporting zone (``2026-W23``).
    sent_week: Mapped[str] = mapped_column(String(8))
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_week: Mapped[str | None] = mapped_column(String(8), nullable=True)
    #: The days of the sending and of the end in the reporting zone (``2026-06-02``): the
    #: rollups' day cells, for a period's partial weeks.
    sent_day: Mapped[str] = mapped_column(String(10))
    finished_day: Mapped[str | None] = mapped_column(String(10), nullable=True)
    #: Time the administration held the item (waiting for the holder excluded), finished only.
    held_days: Mapped[float | None] = mapped_column(Float, nullable=True)
    held_business_days: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: Elapsed time from sending to the end (waiting included), finished only.
    elapsed_days: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: Waiting-for-holder time in closed windows (up to the end, or to the refresh if open).
    waiting_days: Mapped[float] = mapped_column(Float, default=0.0)
    #: Start of a waiting window still open (the consultation awaits information).
    waiting_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The legal deadline and the internal target (None while paused), and when 75 % of the
    #: internal target's budget is used.
    legal_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    target_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    target_risk_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Finished and not cancelled only: answered (not tacit) by the legal deadline; finished
    #: by the internal target.
    on_time_legal: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    on_time_target: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    #: Finished after the internal target: by how much (elapsed and business days).
    lateness_days: Mapped[float | None] = mapped_column(Float, nullable=True)
    lateness_business_days: Mapped[float | None] = mapped_column(Float, nullable=True)
    refreshed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class DossierFact(Base):
    """What one filed dossier's take-in-charge means for the figures."""

    __tablename__ = "dossier_facts"
    __table_args__ = (
        # The dossiers still waiting to be taken in charge (``IS NULL``), read live.
        Index("ix_dossier_facts_taken_in_charge_at", "taken_in_charge_at"),
    )

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), primary_key=True)
    source_version: Mapped[int] = mapped_column(Integer)
    arrondissement_code: Mapped[str | None] = mapped_column(String(8), nullable=True)
    procedures: Mapped[str] = mapped_column(String(400))
    #: The administrations consulted on the dossier, any cycle (``,DDT-65,SDIS-65,``): the
    #: take-in-charge filtered by administration reads their cells.
    administrations: Mapped[str] = mapped_column(String(1000), default=",")
    filed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    filed_week: Mapped[str] = mapped_column(String(8))
    filed_day: Mapped[str] = mapped_column(String(10))
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    taken_in_charge_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The take-in-charge clock's deadline (24 h after filing by default).
    take_charge_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Elapsed hours from filing to take-in-charge (taken only).
    take_charge_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    refreshed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ProcedureFact(Base):
    """One procedure of one filed dossier: its legal delay (the procedure's clock) against
    the time the dossier actually took to its consolidated answer."""

    __tablename__ = "procedure_facts"
    __table_args__ = (
        # The answers of a period, and the dossiers still waiting for one (``IS NULL``).
        Index("ix_procedure_facts_answered_at", "answered_at"),
    )

    dossier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("dossiers.id"), primary_key=True)
    procedure: Mapped[str] = mapped_column(String(64), primary_key=True)
    arrondissement_code: Mapped[str | None] = mapped_column(String(8), nullable=True)
    filed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The procedure clock's deadline (None: no legal delay, or paused while the holder is
    #: asked), and the elapsed days from filing to it.
    legal_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    legal_days: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: The consolidated answer (the last cycle's), and the elapsed days from filing to it.
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    actual_days: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: Answered, with a legal delay: by its deadline.
    on_time: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class MetricsRollup(Base):
    """The consultation facts added up by ISO week and by the filters' dimensions.

    One row per cell: a family (``finished``: the consultations by week of their end;
    ``sent``: by week of their sending; ``cycles``: the review cycles by week of their last
    opinion; ``dossiers``: the filed dossiers by week of filing; each also by day, the family
    suffixed ``_day``, for the partial weeks of a period), a week (``""``: every week; a day
    ``2026-06-02`` in a day family), an administration, and
    for each filter its value or any (procedure ``""``, arrondissement ``""``, cycle 0), so a
    filtered figure reads one row per administration and week instead of the facts. Kept in
    step with the facts by ``metrics.rollups.apply`` (docs/decisions.md, "Rollups").
    """

    __tablename__ = "metrics_rollups"
    __table_args__ = (
        # Covering, on PostgreSQL, what the weekly flow and the cohorts sum over every
        # administration's cells of each week (``queries._weeks``: 2,200 cells on a million
        # consultations, an index-only scan instead of a heap page each).
        Index(
            "ix_metrics_rollups_cells",
            "family",
            "procedure",
            "arrondissement_code",
            "cycle",
            "week",
            postgresql_include=WEEK_COUNTS,
        ),
    )

    #: The cell's dimensions joined (``finished|2026-W05|DDT|PC||1``).
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    family: Mapped[str] = mapped_column(String(16))
    week: Mapped[str] = mapped_column(String(10))
    administration_code: Mapped[str] = mapped_column(String(32))
    procedure: Mapped[str] = mapped_column(String(64))
    arrondissement_code: Mapped[str] = mapped_column(String(8))
    cycle: Mapped[int] = mapped_column(Integer)
    #: Consultations in the cell (finished of any outcome, or sent), and among them:
    items: Mapped[int] = mapped_column(Integer, default=0)
    judged: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    tacit: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    on_time_legal: Mapped[int] = mapped_column(Integer, default=0)
    on_time_target: Mapped[int] = mapped_column(Integer, default=0)
    breaches: Mapped[int] = mapped_column(Integer, default=0)
    #: ``cycles`` only: the review cycles closed (``items``) and, per administration, those
    #: of two opinions or more it gave one in, those it gated, the delay it added; the sums
    #: of the cycles' durations and longest durations (durations in millionths of a day).
    gate_consulted: Mapped[int] = mapped_column(Integer, default=0)
    gated: Mapped[int] = mapped_column(Integer, default=0)
    gate_delay: Mapped[int] = mapped_column(BigInteger, default=0)
    gain_sum: Mapped[int] = mapped_column(BigInteger, default=0)
    gain_longest: Mapped[int] = mapped_column(BigInteger, default=0)
    #: ``dossiers`` only: taken in charge, and within the take-in-charge clock's deadline.
    taken: Mapped[int] = mapped_column(Integer, default=0)
    taken_in_time: Mapped[int] = mapped_column(Integer, default=0)
    #: Sketches (``metrics.sketch``) of the judged ones' held days, held business days and
    #: lateness (``finished``), and of the cycles' parallel gain (``cycles``).
    held: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    business: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    lateness: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    ratio: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    #: ``dossiers``: the take-in-charge times (hours).
    hours: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
