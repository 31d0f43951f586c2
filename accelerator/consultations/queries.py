"""Read side of consultations, filtered by what the user may see."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.catalogue.models import Administration, Commune, ConsultationType
from accelerator.consultations.access import consultation_visibility
from accelerator.consultations.deadline import NEAREST_FIRST, with_deadline
from accelerator.consultations.models import Consultation, ConsultationLaunch
from accelerator.consultations.schemas import ConsultationOut, DossierBriefOut, OpinionOut
from accelerator.consultations.status import FINISHED, LABELS, ConsultationStatus
from accelerator.dossiers.models import Dossier
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.identity.schemas import PersonOut
from accelerator.shared.validation import MAX_PAGE
from accelerator.sla.definitions import ClockKind
from accelerator.sla.instants import local_iso
from accelerator.sla.models import Calendar, Clock
from accelerator.sla.queries import clock_view


def list_consultations(
    session: Session, user: User, *, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[ConsultationOut]:
    """Agents: their administration's; référents: those of their dossiers; managers: all."""
    query = (
        select(Consultation)
        .join(Dossier, Dossier.id == Consultation.dossier_id)
        .where(consultation_visibility(user))
    )
    if Role(user.role) is Role.REFERENT:
        query = query.where(Dossier.referent_id == user.id)
    if status is not None:
        query = query.where(Consultation.status == status)
    query = with_deadline(query).order_by(*NEAREST_FIRST).limit(min(limit, MAX_PAGE)).offset(offset)
    return build_views(session, list(session.scalars(query)))


def build_views(session: Session, consultations: Sequence[Consultation]) -> list[ConsultationOut]:
    """Ready-to-show consultations with their dossier's brief (batched queries)."""
    if not consultations:
        return []
    dossiers = {
        d.id: d
        for d in session.scalars(
            select(Dossier).where(Dossier.id.in_({c.dossier_id for c in consultations}))
        )
    }
    zones = dict(session.execute(select(Calendar.code, Calendar.timezone)).all())
    admins = {a.code: a for a in session.scalars(select(Administration))}
    types = {t.code: t for t in session.scalars(select(ConsultationType))}
    communes = dict(
        session.execute(
            select(Commune.insee, Commune.name).where(
                Commune.insee.in_({d.commune_insee for d in dossiers.values()})
            )
        ).all()
    )
    clocks: dict[tuple[object, str], Clock] = {
        (k.consultation_id, k.kind): k
        for k in session.scalars(
            select(Clock).where(Clock.consultation_id.in_([c.id for c in consultations]))
        )
    }
    referent_ids = {d.referent_id for d in dossiers.values() if d.referent_id}
    referents = {u.id: u for u in session.scalars(select(User).where(User.id.in_(referent_ids)))}
    views = []
    for c in consultations:
        d = dossiers[c.dossier_id]
        admin = admins[c.administration_code]
        kind = types[c.consultation_type_code]
        zone = zones.get(admin.calendar_code, "Europe/Paris")
        referent = referents.get(d.referent_id) if d.referent_id else None
        clock = clocks.get((c.id, ClockKind.CONSULTATION_DEADLINE.value))
        target = clocks.get((c.id, ClockKind.CONSULTATION_TARGET.value))
        views.append(
            ConsultationOut(
                id=str(c.id),
                version=c.version,
                administration=c.administration_code,
                administration_name=admin.name,
                consultation_type=kind.code,
                consultation_type_label=kind.label,
                silence_outcome=kind.silence_label,
                binding=c.binding,
                rule=c.rule_code,
                status=c.status,
                status_label=LABELS[ConsultationStatus(c.status)],
                cycle=c.cycle,
                sent_at=local_iso(c.sent_at, zone) or "",
                due_at=local_iso(clock.due_at, zone) if clock else None,
                acknowledged_at=local_iso(c.acknowledged_at, zone),
                answered_at=local_iso(c.answered_at, zone),
                opinion=(
                    OpinionOut(nature=c.opinion_nature, tacit=c.opinion_tacit, text=c.opinion_text)
                    if c.opinion_nature
                    else None
                ),
                clock=clock_view(clock, zones.get(clock.calendar_code, zone)) if clock else None,
                target=clock_view(target, zones.get(target.calendar_code, zone))
                if target
                else None,
                dossier=DossierBriefOut(
                    id=str(d.id),
                    reference=d.reference,
                    title=d.title,
                    description=d.description,
                    commune_insee=d.commune_insee,
                    commune_name=communes.get(d.commune_insee),
                    procedures=list(d.procedures),
                    attributes=dict(d.attributes),
                    investment_eur=d.investment_eur,
                    jobs_created=d.jobs_created,
                    referent=PersonOut(email=referent.email, name=referent.name)
                    if referent
                    else None,
                ),
            )
        )
    return views


def launched_in_cycle(session: Session, dossier: Dossier) -> set[str]:
    """The administrations every launch of the dossier's current cycle sent it to (each has,
    or will have, its consultation)."""
    launches = session.scalars(
        select(ConsultationLaunch).where(
            ConsultationLaunch.dossier_id == dossier.id, ConsultationLaunch.cycle == dossier.cycle
        )
    )
    return {entry["administration"] for launch in launches for entry in launch.entries}


def finished_cycle(session: Session, dossier: Dossier) -> list[Consultation] | None:
    """The consultations of the dossier's current cycle once it is finished: every
    administration launched has its consultation and each is finished (answered, tacit or
    cancelled). ``None`` before that, or when nothing was launched."""
    expected = launched_in_cycle(session, dossier)
    consultations = list(
        session.scalars(
            select(Consultation).where(
                Consultation.dossier_id == dossier.id, Consultation.cycle == dossier.cycle
            )
        )
    )
    if not expected or expected - {c.administration_code for c in consultations}:
        return None
    if any(ConsultationStatus(c.status) not in FINISHED for c in consultations):
        return None
    return consultations
