"""What agents send and see about a consultation."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from accelerator.consultations.status import OpinionNature
from accelerator.identity.schemas import PersonOut
from accelerator.shared.validation import (
    STRICT_INPUT,
    MultiLine,
    choice,
)
from accelerator.sla.schemas import ClockOut


class OpinionIn(BaseModel):
    """An administration's opinion as an agent gives it."""

    model_config = STRICT_INPUT

    nature: Annotated[OpinionNature, choice(OpinionNature)]
    text: MultiLine = Field("", max_length=50_000)


class DossierBriefOut(BaseModel):
    """What an administration needs to know of the dossier it is consulted on."""

    id: str
    reference: str | None
    title: str
    description: str
    commune_insee: str
    commune_name: str | None
    procedures: list[str]
    attributes: dict[str, object]
    investment_eur: int | None
    jobs_created: int | None
    referent: PersonOut | None


class ConsultationOut(BaseModel):
    """A consultation as its administration and the référent see it."""

    id: str
    #: Send it back as ``If-Match`` to refuse an edit if the consultation changed meanwhile.
    version: int
    administration: str
    administration_name: str
    consultation_type: str
    consultation_type_label: str
    silence_outcome: str
    binding: bool
    rule: str | None
    status: str
    status_label: str
    cycle: int
    sent_at: str
    due_at: str | None
    acknowledged_at: str | None
    answered_at: str | None
    opinion: OpinionOut | None
    clock: ClockOut | None
    #: The accelerator's internal target: an opinion at half the legal delay.
    target: ClockOut | None
    dossier: DossierBriefOut


class OpinionOut(BaseModel):
    """An administration's opinion."""

    nature: str
    tacit: bool
    text: str | None
