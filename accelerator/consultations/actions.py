"""Use cases on consultations: create (from a launch), acknowledge, give an opinion."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.catalogue.queries import (
    consultation_duration,
    get_administration,
    get_consultation_type,
)
from accelerator.consultations.access import access_consultation
from accelerator.consultations.models import Consultation, ConsultationLaunch
from accelerator.consultations.status import (
    FINISHED,
    NATURE_LABELS,
    ConsultationStatus,
    OpinionNature,
    check_move,
)
from accelerator.dossiers.models import Dossier
from accelerator.history.actions import record
from accelerator.history.actor import Actor
from accelerator.identity.models import User
from accelerator.identity.roles import Role, require_role
from accelerator.notifications.actions import Template, notify
from accelerator.outbox.actions import enqueue
from accelerator.outbox.topics import Topic
from accelerator.shared.errors import InvalidInput, NotFound
from accelerator.sla.actions import consultation_key, start_clock, stop_clock, target_key
from accelerator.sla.definitions import ClockKind, consultation_definition, target_definition
from accelerator.webhooks.events import Event, publish


def change_status(
    session: Session,
    consultation: Consultation,
    target: ConsultationStatus,
    *,
    actor: Actor,
    now: dt.datetime,
    message: str,
    event: str = "status_changed",
    came_from: ConsultationStatus | None = None,
) -> None:
    """Move ``consultation`` to ``target`` if allowed, and record it in the history.

    The only place a consultation's status is written (a test checks it). ``came_from`` is
    given only by the answer that ends a side state: the status it had when it entered it.
    Actions call this BEFORE they change anything else, so a refusal leaves nothing behind.
    """
    current = ConsultationStatus(consultation.status)
    check_move(current, target, came_from=came_from)
    consultation.status = target.value
    record(
        session,
        dossier_id=consultation.dossier_id,
        consultation_id=consultation.id,
        actor=actor,
        at=now,
        entity="consultation",
        event=event,
        from_status=current.value,
        to_status=target.value,
        message=message,
    )


def get_launch(session: Session, launch_id: uuid.UUID) -> ConsultationLaunch:
    """A launch by id; ``NotFound`` if absent."""
    launch = session.get(ConsultationLaunch, launch_id)
    if launch is None:
        raise NotFound(f"Lancement de consultations introuvable : {launch_id}.")
    return launch


def create_consultation(
    session: Session, *, launch_id: uuid.UUID, administration: str
) -> tuple[Consultation, bool]:
    """Create one administration's consultation of a launch, with its deadline clock.

    Idempotent: the consultation of (dossier, administration, cycle) is created once; calling
    again returns it. Its anchor is the launch instant, so a re-run computes the same deadline.
    """
    launch = get_launch(session, launch_id)
    entry = next((e for e in launch.entries if e["administration"] == administration), None)
    if entry is None:
        raise NotFound(f"{administration} ne fait pas partie de ce lancement.")
    existing = session.scalar(
        select(Consultation).where(
            Consultation.dossier_id == launch.dossier_id,
            Consultation.administration_code == administration,
            Consultation.cycle == launch.cycle,
        )
    )
    if existing is not None:
        return existing, False
    consultation_type = get_consultation_type(session, entry["consultation_type"])
    admin = get_administration(session, administration)
    consultation = Consultation(
        dossier_id=launch.dossier_id,
        administration_code=administration,
        consultation_type_code=consultation_type.code,
        launch_id=launch.id,
        cycle=launch.cycle,
        rule_code=entry.get("rule"),
        binding=consultation_type.binding,
        status=ConsultationStatus.SENT.value,
        sent_at=launch.requested_at,
        opinion_tacit=False,
    )
    session.add(consultation)
    session.flush()
    clock, _ = start_clock(
        session,
        key=consultation_key(consultation.id),
        kind=ClockKind.CONSULTATION_DEADLINE,
        dossier_id=launch.dossier_id,
        consultation_id=consultation.id,
        calendar_code=admin.calendar_code,
        anchor_at=launch.requested_at,
        definition_code=consultation_definition(consultation_type.code),
    )
    consultation.due_at = clock.due_at
    start_clock(
        session,
        key=target_key(consultation.id),
        kind=ClockKind.CONSULTATION_TARGET,
        dossier_id=launch.dossier_id,
        consultation_id=consultation.id,
        calendar_code=admin.calendar_code,
        anchor_at=launch.requested_at,
        definition_code=target_definition(consultation_type.code),
    )
    record(
        session,
        dossier_id=launch.dossier_id,
        consultation_id=consultation.id,
        actor=Actor.flow("launch"),
        at=launch.requested_at,
        entity="consultation",
        event="created",
        to_status=ConsultationStatus.SENT.value,
        message=(
            f"Consultation envoyée à {administration} ({consultation_type.label}) ; "
            f"délai : {consultation_duration(consultation_type).label()}."
        ),
    )
    dossier = session.get_one(Dossier, launch.dossier_id)
    publish(
        session, Event.CONSULTATION_CREATED, now=launch.requested_at, dossier_id=dossier.id,
        reference=dossier.reference, administration=administration,
        data={"consultation_id": str(consultation.id), "type": consultation_type.code,
              "due_at": consultation.due_at.isoformat() if consultation.due_at else None},
        dedupe_key=f"webhook:created:{consultation.id}",
    )  # fmt: skip
    notify(
        session,
        template=Template.CONSULTATION_SENT,
        now=launch.requested_at,
        dossier_id=launch.dossier_id,
        administration=administration,
        context={"consultation_id": str(consultation.id), "type": consultation_type.label},
        dedupe_key=f"consultation_sent:{consultation.id}",
    )
    return consultation, True


def complete_launch(session: Session, *, launch_id: uuid.UUID, now: dt.datetime) -> bool:
    """Mark a launch complete once every consultation exists; True if it is complete."""
    launch = get_launch(session, launch_id)
    expected = {e["administration"] for e in launch.entries}
    present = set(
        session.scalars(
            select(Consultation.administration_code).where(
                Consultation.dossier_id == launch.dossier_id, Consultation.cycle == launch.cycle
            )
        )
    )
    if expected - present:
        return False
    if launch.completed_at is None:
        launch.completed_at = now
    return True


def acknowledge(
    session: Session, *, consultation_id: uuid.UUID, user: User, now: dt.datetime
) -> Consultation:
    """An agent of the administration acknowledges receipt."""
    require_role(user, Role.AGENT)
    consultation = access_consultation(session, user, consultation_id, for_update=True)
    change_status(
        session,
        consultation,
        ConsultationStatus.ACKNOWLEDGED,
        actor=Actor.of(user),
        now=now,
        message=f"{consultation.administration_code} accuse réception de la consultation.",
    )
    consultation.acknowledged_at = now
    return consultation


def _all_finished(session: Session, dossier: Dossier) -> bool:
    launches = session.scalars(
        select(ConsultationLaunch).where(
            ConsultationLaunch.dossier_id == dossier.id, ConsultationLaunch.cycle == dossier.cycle
        )
    )
    expected = {e["administration"] for launch in launches for e in launch.entries}
    rows = session.execute(
        select(Consultation.administration_code, Consultation.status).where(
            Consultation.dossier_id == dossier.id, Consultation.cycle == dossier.cycle
        )
    ).all()
    statuses = dict(rows)
    return expected <= set(statuses) and all(
        ConsultationStatus(s) in FINISHED for s in statuses.values()
    )


def consolidate_when_complete(
    session: Session, dossier: Dossier, *, now: dt.datetime, occasion: str = ""
) -> None:
    """Queue the consolidation once every consultation of the cycle is finished (once).

    ``occasion`` names a later chance to consolidate (a dossier back from awaiting the holder:
    the consolidation queued while it waited found it not consulting and did nothing).
    """
    session.flush()
    if _all_finished(session, dossier):
        enqueue(
            session,
            Topic.CONSOLIDATE,
            {"dossier_id": str(dossier.id)},
            now=now,
            dedupe_key=f"consolidate:{dossier.id}:{dossier.cycle}{occasion}",
        )


def give_opinion(
    session: Session,
    *,
    consultation_id: uuid.UUID,
    nature: OpinionNature,
    text: str,
    user: User,
    now: dt.datetime,
) -> Consultation:
    """An agent gives the administration's opinion; the last one triggers consolidation."""
    require_role(user, Role.AGENT)
    consultation = access_consultation(session, user, consultation_id)
    # Lock the dossier first (always dossier, then consultation): two agents answering the
    # last two consultations at once are serialised, so exactly one sees all answers in.
    dossier = session.scalar(
        select(Dossier).where(Dossier.id == consultation.dossier_id).with_for_update()
    )
    assert dossier is not None
    session.refresh(consultation, with_for_update=True)
    text = text.strip()
    if (
        nature is not OpinionNature.FAVOURABLE
        and nature is not OpinionNature.NO_OPINION
        and not text
    ):
        raise InvalidInput(
            "Motivez l'avis : un avis défavorable ou assorti de prescriptions doit être expliqué."
        )
    change_status(
        session,
        consultation,
        ConsultationStatus.ANSWERED,
        actor=Actor.of(user),
        now=now,
        message=f"{consultation.administration_code} rend un avis {NATURE_LABELS[nature]}.",
        event="opinion_given",
    )
    consultation.opinion_nature = nature.value
    consultation.opinion_text = text
    consultation.opinion_tacit = False
    consultation.answered_at = now
    consultation.answered_by_id = user.id
    stop_clock(session, key=consultation_key(consultation.id), now=now)
    stop_clock(session, key=target_key(consultation.id), now=now)
    publish(
        session, Event.CONSULTATION_ANSWERED, now=now, dossier_id=dossier.id,
        reference=dossier.reference, administration=consultation.administration_code,
        data={"consultation_id": str(consultation.id), "nature": nature.value, "tacit": False},
    )  # fmt: skip
    consolidate_when_complete(session, dossier, now=now)
    return consultation


def apply_tacit_opinion(
    session: Session, *, consultation_id: uuid.UUID, at: dt.datetime
) -> Consultation | None:
    """At the deadline without an answer, the silence outcome applies, recorded as tacit.

    Does nothing if the consultation was answered, cancelled, or waits for information.
    """
    dossier_id = session.scalar(
        select(Consultation.dossier_id).where(Consultation.id == consultation_id)
    )
    if dossier_id is None:
        return None
    dossier = session.scalar(select(Dossier).where(Dossier.id == dossier_id).with_for_update())
    consultation = session.scalar(
        select(Consultation).where(Consultation.id == consultation_id).with_for_update()
    )
    assert dossier is not None and consultation is not None
    if ConsultationStatus(consultation.status) not in (
        ConsultationStatus.SENT,
        ConsultationStatus.ACKNOWLEDGED,
    ):
        return None
    kind = get_consultation_type(session, consultation.consultation_type_code)
    change_status(
        session,
        consultation,
        ConsultationStatus.TACIT,
        actor=Actor.flow("sweep"),
        now=at,
        message=(
            f"{consultation.administration_code} n'a pas répondu dans le délai : "
            f"avis tacite ({kind.silence_label})."
        ),
        event="tacit_opinion",
    )
    consultation.opinion_nature = kind.silence_nature
    consultation.opinion_text = (
        f"Avis tacite : {kind.silence_label} (silence gardé au-delà du délai)."
    )
    consultation.opinion_tacit = True
    consultation.answered_at = at
    stop_clock(session, key=consultation_key(consultation.id), now=at)
    stop_clock(session, key=target_key(consultation.id), now=at)
    publish(
        session, Event.CONSULTATION_BREACHED, now=at, dossier_id=dossier.id,
        reference=dossier.reference, administration=consultation.administration_code,
        data={"consultation_id": str(consultation.id), "tacit_nature": kind.silence_nature},
        dedupe_key=f"webhook:breached:{consultation.id}",
    )  # fmt: skip
    notify(
        session,
        template=Template.TACIT_OPINION,
        now=at,
        dossier_id=dossier.id,
        user_ids=[dossier.referent_id] if dossier.referent_id else [],
        administration=consultation.administration_code,
        context={"consultation_id": str(consultation.id), "silence": kind.silence_label},
        dedupe_key=f"tacit:{consultation.id}",
    )
    consolidate_when_complete(session, dossier, now=at)
    return consultation
