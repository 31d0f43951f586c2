"""Every table of the product, imported so that ``Base.metadata`` is complete (Alembic)."""

from accelerator.catalogue.models import (
    Administration,
    Arrondissement,
    Calendar,
    Commune,
    ConsultationType,
    Procedure,
    RoutingRule,
)
from accelerator.consultations.models import Consultation, ConsultationLaunch
from accelerator.db import Base
from accelerator.dossiers.models import Counter, Dossier, ProposedAdministration
from accelerator.history.models import HistoryEntry
from accelerator.identity.models import Organisation, User
from accelerator.outbox.models import OutboxMessage
from accelerator.sla.models import Clock

__all__ = [
    "Administration",
    "Arrondissement",
    "Base",
    "Calendar",
    "Clock",
    "Commune",
    "Consultation",
    "ConsultationLaunch",
    "ConsultationType",
    "Counter",
    "Dossier",
    "HistoryEntry",
    "Organisation",
    "OutboxMessage",
    "Procedure",
    "ProposedAdministration",
    "RoutingRule",
    "User",
]
