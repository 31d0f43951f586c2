"""The managers' figures as the API returns them (each table also as CSV)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field


@dataclass(frozen=True)
class Filters:
    """Which items a figure covers; every filter is optional.

    ``start`` and ``end`` bound the period (``start`` included, ``end`` excluded, UTC); each
    figure says which instant of an item falls in it (docs/api.md, "Metrics").
    """

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    procedure: str | None = None
    administration: str | None = None
    arrondissement: str | None = None
    cycle: int | None = None


class Percentiles(BaseModel):
    """p50, p85, p90 and p95 of a duration (linear interpolation, numpy's default), with n."""

    n: int
    p50: float | None
    p85: float | None
    p90: float | None
    p95: float | None


class TakeChargeOut(BaseModel):
    """Dossiers filed in the period: taken in charge within the 24 h target, and how fast."""

    filed: int = Field(
        description="Dossiers déposés sur la période (hors retirés avant prise en charge)."
    )
    taken: int = Field(description="Pris en charge.")
    within_target: int = Field(description="Pris en charge avant l'échéance de 24 h.")
    late_pending: int = Field(description="Non pris en charge, échéance dépassée.")
    pending: int = Field(description="Non pris en charge, échéance à venir (hors de la part).")
    share_within_target: float | None
    p50_hours: float | None
    p90_hours: float | None


class AdministrationOut(BaseModel):
    """One administration's delays (held time: waiting for the holder excluded)."""

    code: str
    n: int = Field(description="Avis rendus sur la période (tacites compris).")
    p50_days: float | None
    p85_days: float | None
    p90_days: float | None
    p95_days: float | None
    p50_business_days: float | None
    p85_business_days: float | None
    p90_business_days: float | None
    p95_business_days: float | None
    on_time_share: float | None = Field(
        description="Part des avis exprès rendus dans le délai légal."
    )
    on_time_target_share: float | None = Field(
        description="Part des avis rendus dans l'objectif interne."
    )
    tacit_share: float | None
    breaches: int = Field(description="Avis rendus après l'objectif interne.")
    lateness_p50_days: float | None
    lateness_p90_days: float | None
    open: int = Field(description="Consultations en cours à la date d'observation.")
    open_breached: int = Field(description="En cours, objectif interne dépassé.")
    open_legal_breached: int = Field(
        description="En cours, délai légal dépassé (avis tacite à venir)."
    )
    at_risk: int = Field(
        description="En cours, 75 % de l'objectif interne consommé, pas encore dépassé."
    )


class OpenItemOut(BaseModel):
    """One open consultation past its internal target, or at risk of passing it."""

    consultation_id: str
    dossier_id: str
    reference: str | None
    title: str
    administration: str
    consultation_type: str
    sent_at: str | None
    target_due_at: str | None
    legal_due_at: str | None
    days_past_target: float | None = Field(
        description="Jours écoulés depuis l'objectif interne (en retard seulement)."
    )


class OpenWorkOut(BaseModel):
    """The late and at-risk consultations at one instant (at most a page of each)."""

    as_of: str
    late_count: int
    late: list[OpenItemOut]
    at_risk_count: int
    at_risk: list[OpenItemOut]


class GatingOut(BaseModel):
    """How often an administration finished last on a consolidated dossier, and by how much."""

    code: str
    gated: int = Field(description="Cycles clos dont l'administration a rendu le dernier avis.")
    consulted: int = Field(description="Cycles clos (au moins deux avis) où elle était consultée.")
    share: float | None
    total_delay_days: float


class ProcedureOut(BaseModel):
    """One procedure: the dossiers answered in the period, their legal delay against the
    actual one, and the dossiers still waiting for an answer."""

    code: str = Field(description="Procédure (PC, PA, DP, AE…).")
    n: int = Field(description="Dossiers ayant reçu leur réponse consolidée sur la période.")
    legal_p50_days: float | None = Field(
        description="Délai légal médian, en jours calendaires depuis le dépôt (pauses du "
        "délai pendant les compléments comprises)."
    )
    actual_p50_days: float | None = Field(
        description="Délai réel médian du dépôt à la réponse consolidée, en jours calendaires."
    )
    actual_p90_days: float | None = Field(description="90 % des réponses en moins de, en jours.")
    on_time_share: float | None = Field(
        description="Part des réponses rendues au plus tard à l'échéance légale."
    )
    open: int = Field(description="Dossiers sans réponse consolidée à la date d'observation.")
    open_past_legal: int = Field(description="Parmi eux, échéance légale dépassée.")


class ParallelGainOut(BaseModel):
    """Sum of the consultations' durations against the longest one, per consolidated cycle."""

    cycles: int
    sum_days: float
    longest_days: float
    ratio: float | None = Field(description="Σ des durées / Σ des plus longues.")
    median_cycle_ratio: float | None


class WorkInProgressOut(BaseModel):
    """Open consultations of one administration by age (days since sending)."""

    code: str
    days_0_30: int
    days_31_60: int
    days_61_90: int
    days_over_90: int
    total: int


class FlowOut(BaseModel):
    """Consultations sent and finished in one ISO week."""

    week: str
    arrivals: int
    completions: int
    net_flow: int


class CohortOut(BaseModel):
    """The consultations sent in one ISO week, and where they stand (open ones counted)."""

    week: str
    sent: int
    answered: int
    tacit: int
    cancelled: int
    open: int
    on_time_share: float | None


class SummaryOut(BaseModel):
    """Every figure of the managers' dashboard for one set of filters."""

    as_of: str = Field(description="Instant d'observation des consultations en cours.")
    take_charge: TakeChargeOut
    take_charge_within_24h_share: float | None
    administrations: list[AdministrationOut]
    gating: list[GatingOut]
    parallel_gain: ParallelGainOut
    parallel_gain_ratio: float | None
    work_in_progress: list[WorkInProgressOut]
    flow: list[FlowOut]
    cohorts: list[CohortOut]


class HeatmapCellOut(BaseModel):
    """One administration's opinions of one ISO week against the internal target."""

    code: str
    week: str = Field(description="Semaine ISO de l'avis (Europe/Paris), ex. 2026-W23.")
    n: int = Field(description="Avis rendus dans la semaine (tacites compris).")
    within_target: int = Field(description="Avis rendus dans l'objectif interne.")
    on_time_target_share: float | None = Field(
        description="Part des avis rendus dans l'objectif interne (within_target / n)."
    )
    on_time_share: float | None = Field(
        description="Part des avis exprès rendus dans le délai légal."
    )
    meets_goal: bool = Field(description="on_time_target_share ≥ goal.")


class HeatmapOut(BaseModel):
    """Administration × ISO week: the share of opinions given within the internal target."""

    weeks: list[str] = Field(description="Les semaines ISO de la période, dans l'ordre.")
    goal: float = Field(description="Part visée d'avis rendus dans l'objectif interne.")
    cells: list[HeatmapCellOut] = Field(
        description="Une cellule par administration et semaine ayant au moins un avis."
    )


class ForecastOut(BaseModel):
    """One open consultation's probability of missing its legal deadline."""

    consultation_id: str
    administration: str
    consultation_type: str
    due_at: str
    age_days: float
    breach_probability: float
    basis: str = Field(description="Historique utilisé : administration×type, type ou tout.")
    n_history: int


class CalibrationOut(BaseModel):
    """Predicted against observed breach rate in one decile of predictions."""

    decile: int
    n: int
    predicted: float
    observed: float


def as_csv(rows: Sequence[BaseModel], model: type[BaseModel]) -> str:
    """``rows`` as CSV (RFC 4180: comma, CRLF, quoted when needed), one column per field of
    ``model`` in its order, a header line first; None is an empty cell, decimals use a dot."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    fields = list(model.model_fields)
    writer.writerow(fields)
    for row in rows:
        values = row.model_dump()
        writer.writerow(["" if values[f] is None else values[f] for f in fields])
    return buffer.getvalue()
