"""Every table of the product, imported so that ``Base.metadata`` is complete (Alembic)."""

from accelerator.catalogue.models import (
    Administration,
    Arrondissement,
    Commune,
    ConsultationType,
    Procedure,
    ProcedurePiece,
    RoutingRule,
)
from accelerator.consultations.models import Consultation, ConsultationLaunch
from accelerator.documents.models import Document
from accelerator.dossiers.models import Counter, Dossier, ProposedAdministration
from accelerator.history.models import HistoryEntry
from accelerator.idempotency.models import IdempotentRequest
from accelerator.identity.models import Organisation, User
from accelerator.identity.sessions import WebSession
from accelerator.information.models import InformationRequest
from accelerator.journal.models import ConfigChange
from accelerator.messages.models import Message, MessageDocument, MessageRead
from accelerator.metrics.models import ConsultationFact, DossierFact, ProcedureFact
from accelerator.notifications.models import DigestItem, EmailDelivery
from accelerator.outbox import wakeup
from accelerator.outbox.models import OutboxMessage
from accelerator.shared.db import Base
from accelerator.sla.models import (
    Calendar,
    CalendarVersion,
    Clock,
    ClockPause,
    ClockRung,
    DeadlineDefinition,
)
from accelerator.webhooks.models import WebhookDelivery, WebhookSubscription
from accelerator.whatif.models import SimulationRun

__all__ = [
    "Administration",
    "Arrondissement",
    "Base",
    "Calendar",
    "CalendarVersion",
    "Clock",
    "ClockPause",
    "ClockRung",
    "Commune",
    "ConfigChange",
    "Consultation",
    "ConsultationFact",
    "ConsultationLaunch",
    "ConsultationType",
    "Counter",
    "DeadlineDefinition",
    "DigestItem",
    "Document",
    "Dossier",
    "DossierFact",
    "EmailDelivery",
    "HistoryEntry",
    "IdempotentRequest",
    "InformationRequest",
    "Message",
    "MessageDocument",
    "MessageRead",
    "Organisation",
    "OutboxMessage",
    "Procedure",
    "ProcedureFact",
    "ProcedurePiece",
    "ProposedAdministration",
    "RoutingRule",
    "SimulationRun",
    "User",
    "WebSession",
    "WebhookDelivery",
    "WebhookSubscription",
]

# Transactions that queue outbox messages wake the relays at commit (PostgreSQL).
wakeup.install()
