"""A dossier as each party sees it: the outputs of `views.queries.build_views`."""

from __future__ import annotations

from pydantic import BaseModel, Field

from accelerator.consultations.schemas import OpinionOut
from accelerator.documents.schemas import DocumentOut, PiecesOut
from accelerator.identity.schemas import PersonOut
from accelerator.information.schemas import InformationRequestOut
from accelerator.sla.schemas import ClockOut


class ProposedAdministrationOut(BaseModel):
    """An administration the routing rules propose, with the rule that matched first."""

    code: str
    rule: str
    rule_label: str
    rules: list[str]
    consultation_type: str


class ConsultationSummaryOut(BaseModel):
    """One administration's progress on the dossier."""

    id: str
    administration: str
    administration_name: str
    consultation_type: str
    status: str
    cycle: int
    sent_at: str
    due_at: str | None
    opinion: OpinionOut | None


class HistoryOut(BaseModel):
    """One recorded change."""

    at: str
    actor: str
    entity: str
    event: str
    consultation_id: str | None
    from_status: str | None = Field(serialization_alias="from")
    to_status: str | None = Field(serialization_alias="to")
    message: str


class OutcomeOut(BaseModel):
    """The consolidated answer."""

    nature: str
    binding: bool
    decided_by: str | None
    summary: str


class DossierOut(BaseModel):
    """A dossier as the API shows it to anyone allowed to see it."""

    id: str
    #: Send it back as ``If-Match`` to refuse an edit if the dossier changed meanwhile.
    version: int
    reference: str | None
    status: str
    status_label: str
    title: str
    description: str
    commune_insee: str
    commune_name: str | None
    procedures: list[str]
    attributes: dict[str, object]
    investment_eur: int | None
    jobs_created: int | None
    organisation: str
    calendar: str
    cycle: int
    created_at: str
    filed_at: str | None
    referent: PersonOut | None
    referent_reason: str | None
    taken_in_charge: bool
    proposed_administrations: list[ProposedAdministrationOut]
    consultations: list[ConsultationSummaryOut]
    clocks: list[ClockOut]
    information_requests: list[InformationRequestOut]
    outcome: OutcomeOut | None
    closing_message: str | None
    #: The documents this viewer may read (agents: of their consultations and the dossier's).
    documents: list[DocumentOut]
    #: Completeness: the pieces the procedures expect, those supplied, the mandatory missing.
    pieces: PiecesOut
    history: list[HistoryOut]
