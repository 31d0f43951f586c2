"""Use cases on consultations: launch a cycle, create each consultation (from a launch),
acknowledge, give an opinion, consolidate; a new review cycle; the holder's withdrawal, which
cancels the open consultations."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from accelerator.catalogue.models import Administration
from accelerator.catalogue.queries import (
    consultation_duration,
    get_administration,
    get_consultation_type,
)
from accelerator.consultations.access import access_consultation
from accelerator.consultations.models import Consultation, ConsultationLaunch
from accelerator.consultations.queries import finished_cycle, launched_in_cycle
from accelerator.consultations.status import (
    FINISHED,
    NATURE_LABELS,
    ConsultationStatus,
    OpinionNature,
    check_move,
)
from accelerator.dossiers import actions as dossiers
from accelerator.dossiers.access import access_dossier, require_referent_of
from accelerator.dossiers.models import Dossier, ProposedAdministration
from accelerator.dossiers.status import LABELS as DOSSIER_LABELS
from accelerator.dossiers.status import DossierStatus
from accelerator.history.actions import record
from accelerator.history.actor import Actor
from accelerator.identity.models import User
from accelerator.identity.roles import Role, require_role
from accelerator.notifications.actions import Template, notification
from accelerator.outbox.actions import Queued, enqueue
from accelerator.outbox.topics import Topic
from accelerator.shared.errors import InvalidInput, InvalidTransition, NotFound
from accelerator.shared.text import t
from accelerator.sla.actions import (
    consultation_key,
    latest_definitions,
    reproject_open_clocks,
    start_clock,
    stop_clock,
    stop_dossier_clocks,
    target_key,
)
from accelerator.sla.definitions import ClockKind, consultation_definition, target_definition
from accelerator.sla.models import Clock
from accelerator.webhooks.events import Event, event


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
        raise NotFound(t("consultation.launch_not_found", launch_id=launch_id))
    return launch


def _target_code(session: Session, consultation_type: str, administration: str) -> str:
    """The internal target a new consultation pins: the administration's own for this type
    if an administrator set one, else the type's."""
    own = target_definition(consultation_type, administration)
    if latest_definitions(session, [own]):
        return own
    return target_definition(consultation_type)


def create_consultation(
    session: Session, *, launch_id: uuid.UUID, administration: str
) -> tuple[Consultation | None, bool]:
    """Create one administration's consultation of a launch, with its deadline clock.

    Idempotent: the consultation of (dossier, administration, cycle) is created once; calling
    again returns it. Its anchor is the launch instant, so a re-run computes the same deadline.
    A dossier withdrawn since the launch gets none: (None, False).
    """
    launch = get_launch(session, launch_id)
    if _withdrawn(session, launch.dossier_id):
        return None, False
    entry = next((e for e in launch.entries if e["administration"] == administration), None)
    if entry is None:
        raise NotFound(t("consultation.not_in_launch", administration=administration))
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
    start_clock(
        session,
        key=target_key(consultation.id),
        kind=ClockKind.CONSULTATION_TARGET,
        dossier_id=launch.dossier_id,
        consultation_id=consultation.id,
        calendar_code=admin.calendar_code,
        anchor_at=launch.requested_at,
        definition_code=_target_code(session, consultation_type.code, administration),
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
            t(
                "consultation.sent",
                administration=administration,
                type_label=consultation_type.label,
                duration=consultation_duration(consultation_type).label(),
            )
        ),
    )
    dossier = session.get_one(Dossier, launch.dossier_id)
    enqueue(
        session,
        event(
            Event.CONSULTATION_CREATED,
            now=launch.requested_at,
            dossier_id=dossier.id,
            reference=dossier.reference,
            administration=administration,
            data={
                "consultation_id": str(consultation.id),
                "type": consultation_type.code,
                "due_at": clock.due_at.isoformat() if clock.due_at else None,
            },
            dedupe_key=f"webhook:created:{consultation.id}",
        ),
        now=launch.requested_at,
    )
    enqueue(
        session,
        notification(
            Template.CONSULTATION_SENT,
            dossier_id=launch.dossier_id,
            administration=administration,
            context={"consultation_id": str(consultation.id), "type": consultation_type.label},
            dedupe_key=f"consultation_sent:{consultation.id}",
        ),
        now=launch.requested_at,
    )
    return consultation, True


def complete_launch(session: Session, *, launch_id: uuid.UUID, now: dt.datetime) -> bool:
    """Mark a launch complete once every consultation exists (or the dossier was withdrawn
    meanwhile: nothing more is sent); True if it is complete."""
    launch = get_launch(session, launch_id)
    if _withdrawn(session, launch.dossier_id):
        launch.completed_at = launch.completed_at or now
        return True
    expected = launch_codes(launch)
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
        message=t("consultation.acknowledged", administration=consultation.administration_code),
    )
    consultation.acknowledged_at = now
    return consultation


def consolidate_when_complete(
    session: Session, dossier: Dossier, *, now: dt.datetime, occasion: str = ""
) -> None:
    """Queue the consolidation once every consultation of the cycle is finished (once).

    ``occasion`` names a later chance to consolidate (a dossier back from awaiting the holder:
    the consolidation queued while it waited found it not consulting and did nothing).
    """
    session.flush()
    if finished_cycle(session, dossier) is not None:
        enqueue(
            session,
            Queued(
                Topic.CONSOLIDATE,
                {"dossier_id": str(dossier.id)},
                dedupe_key=f"consolidate:{dossier.id}:{dossier.cycle}{occasion}",
            ),
            now=now,
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
        raise InvalidInput(t("consultation.opinion_reason_required"))
    change_status(
        session,
        consultation,
        ConsultationStatus.ANSWERED,
        actor=Actor.of(user),
        now=now,
        message=t(
            "consultation.opinion_given",
            administration=consultation.administration_code,
            nature=NATURE_LABELS[nature],
        ),
        event="opinion_given",
    )
    consultation.opinion_nature = nature.value
    consultation.opinion_text = text
    consultation.opinion_tacit = False
    consultation.answered_at = now
    consultation.answered_by_id = user.id
    stop_clock(session, key=consultation_key(consultation.id), now=now)
    stop_clock(session, key=target_key(consultation.id), now=now)
    enqueue(
        session,
        event(
            Event.CONSULTATION_ANSWERED,
            now=now,
            dossier_id=dossier.id,
            reference=dossier.reference,
            administration=consultation.administration_code,
            data={"consultation_id": str(consultation.id), "nature": nature.value, "tacit": False},
        ),
        now=now,
    )
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
            t(
                "consultation.tacit_opinion",
                administration=consultation.administration_code,
                silence=kind.silence_label,
            )
        ),
        event="tacit_opinion",
    )
    consultation.opinion_nature = kind.silence_nature
    consultation.opinion_text = t("consultation.tacit_summary", silence=kind.silence_label)
    consultation.opinion_tacit = True
    consultation.answered_at = at
    stop_clock(session, key=consultation_key(consultation.id), now=at)
    stop_clock(session, key=target_key(consultation.id), now=at)
    enqueue(
        session,
        event(
            Event.CONSULTATION_BREACHED,
            now=at,
            dossier_id=dossier.id,
            reference=dossier.reference,
            administration=consultation.administration_code,
            data={"consultation_id": str(consultation.id), "tacit_nature": kind.silence_nature},
            dedupe_key=f"webhook:breached:{consultation.id}",
        ),
        now=at,
    )
    enqueue(
        session,
        notification(
            Template.TACIT_OPINION,
            dossier_id=dossier.id,
            user_ids=[dossier.referent_id] if dossier.referent_id else [],
            administration=consultation.administration_code,
            context={"consultation_id": str(consultation.id), "silence": kind.silence_label},
            dedupe_key=f"tacit:{consultation.id}",
        ),
        now=at,
    )
    consolidate_when_complete(session, dossier, now=at)
    return consultation


def launch_consultations(
    session: Session,
    *,
    dossier_id: uuid.UUID,
    administrations: list[str] | None,
    user: User,
    now: dt.datetime,
) -> ConsultationLaunch:
    """The référent sends the dossier to every chosen administration at once (one launch).

    A consolidated dossier is consulted again only through a new review cycle
    (``open_cycle``), which says why.
    """
    dossier = access_dossier(session, user, dossier_id, for_update=True)
    require_referent_of(user, dossier)
    if dossier.status == DossierStatus.CONSOLIDATED:
        raise InvalidTransition(t("consultation.already_consolidated"))
    return _launch(session, dossier, administrations=administrations, user=user, now=now)


def consult_further(
    session: Session,
    *,
    dossier_id: uuid.UUID,
    administrations: list[str],
    user: User,
    now: dt.datetime,
) -> ConsultationLaunch:
    """While the dossier is consulting, the référent sends it to more administrations in the
    same cycle (a service found missing once the instruction began): a launch of its own, so
    each new consultation's deadline runs from its own sending. The consolidation waits for
    every launch of the cycle (``queries.finished_cycle``).

    The what-if simulation's serial practice (one service after another) sends this way.
    """
    dossier = access_dossier(session, user, dossier_id, for_update=True)
    require_referent_of(user, dossier)
    if dossier.status != DossierStatus.CONSULTING:
        raise InvalidTransition(
            t(
                "consultation.further_not_consulting",
                status=DOSSIER_LABELS[DossierStatus(dossier.status)],
            )
        )
    if not administrations:
        raise InvalidInput(t("consultation.choose_administration"))
    # Every consultation of the cycle comes from one of its launches.
    launched = launched_in_cycle(session, dossier)
    again = sorted({c.strip().upper() for c in administrations} & launched)
    if again:
        raise InvalidInput(t("consultation.further_already_consulted", codes=", ".join(again)))
    return _launch(
        session, dossier, administrations=administrations, user=user, now=now, further=True
    )


def open_cycle(
    session: Session,
    *,
    dossier_id: uuid.UUID,
    administrations: list[str],
    message: str,
    user: User,
    now: dt.datetime,
) -> ConsultationLaunch:
    """After consolidation, the référent consults the chosen administrations again because the
    holder amended the project: a new cycle (new consultations, new deadlines); the opinions of
    the earlier cycles stay as they were, and the consolidation rolls up the new cycle only."""
    dossier = access_dossier(session, user, dossier_id, for_update=True)
    require_referent_of(user, dossier)
    message = message.strip()
    if not message:
        raise InvalidInput(t("consultation.cycle_reason_required"))
    if dossier.status != DossierStatus.CONSOLIDATED:
        raise InvalidTransition(
            t(
                "consultation.cycle_not_consolidated",
                status=DOSSIER_LABELS[DossierStatus(dossier.status)],
            )
        )
    if not administrations:
        raise InvalidInput(t("consultation.choose_administration"))
    launch = _launch(session, dossier, administrations=administrations, user=user, now=now)
    record(
        session,
        dossier_id=dossier.id,
        actor=Actor.of(user),
        at=now,
        entity="dossier",
        event="cycle_opened",
        message=t("consultation.cycle_opened", cycle=dossier.cycle, message=message),
        details={
            "cycle": dossier.cycle,
            "administrations": [e["administration"] for e in launch.entries],
        },
    )
    return launch


def _launch(
    session: Session,
    dossier: Dossier,
    *,
    administrations: list[str] | None,
    user: User,
    now: dt.datetime,
    further: bool = False,
) -> ConsultationLaunch:
    """One launch of the dossier's current cycle, or of a new one if it was consolidated;
    ``further``: one more launch of a consulting dossier's cycle (``consult_further``)."""
    earlier = {
        c.administration_code: c
        for c in session.scalars(
            select(Consultation)
            .where(Consultation.dossier_id == dossier.id)
            .order_by(Consultation.cycle)
        )
    }
    proposals = {
        p.administration_code: p
        for p in session.scalars(
            select(ProposedAdministration).where(ProposedAdministration.dossier_id == dossier.id)
        )
    }
    known: dict[str, bool] = {
        code: active
        for code, active in session.execute(select(Administration.code, Administration.active))
    }
    # An administration an administrator deactivated is consulted no more: left out of the
    # proposal, refused when named.
    codes = (
        [c for c in proposals if known.get(c, True)]
        if administrations is None
        else [c.strip().upper() for c in administrations]
    )
    if not codes:
        raise InvalidInput(t("consultation.choose_administration"))
    if len(set(codes)) != len(codes):
        raise InvalidInput(t("consultation.administration_twice"))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidInput(t("catalogue.administrations_unknown", codes=", ".join(unknown)))
    inactive = [c for c in codes if not known[c]]
    if inactive:
        raise InvalidInput(t("configuration.administration_inactive", code=", ".join(inactive)))
    entries = []
    for code in codes:
        proposal = proposals.get(code)
        before = earlier.get(code)
        # Consulted again in a new cycle: asked the same question as the last time.
        entries.append(
            {
                "administration": code,
                "consultation_type": before.consultation_type_code
                if before
                else proposal.consultation_type_code
                if proposal
                else "generic_opinion",
                "rule": before.rule_code if before else proposal.rule_code if proposal else None,
            }
        )
    new_cycle = dossier.status == DossierStatus.CONSOLIDATED
    if further:
        # A further launch in the same cycle (``consult_further``): no status to change.
        record(
            session,
            dossier_id=dossier.id,
            actor=Actor.of(user),
            at=now,
            entity="dossier",
            event="consulted_further",
            message=t("consultation.launched") + ", ".join(codes) + ".",
        )
    else:
        dossiers.change_status(
            session,
            dossier,
            DossierStatus.CONSULTING,
            actor=Actor.of(user),
            now=now,
            message=t("consultation.launched") + ", ".join(codes) + ".",
        )
    if new_cycle:
        # A consolidated dossier consulted again opens a new review cycle: its consultations
        # are new ones (unique per cycle) and the previous answer no longer stands.
        dossier.cycle += 1
        dossier.outcome = None
        dossier.outcome_binding = None
        dossier.outcome_decided_by = None
        dossier.outcome_summary = None
        dossier.consolidated_at = None
    launch = ConsultationLaunch(
        dossier_id=dossier.id,
        cycle=dossier.cycle,
        entries=entries,
        requested_by_id=user.id,
        requested_at=now,
    )
    session.add(launch)
    session.flush()
    # A further launch adds to a cycle whose proposal was already adjusted (or not) once.
    added = [] if further else sorted(set(codes) - set(proposals))
    removed = [] if further else sorted(set(proposals) - set(codes))
    if added or removed:
        record(
            session,
            dossier_id=dossier.id,
            actor=Actor.of(user),
            at=now,
            entity="dossier",
            event="proposal_adjusted",
            message=t("consultation.proposal_adjusted")
            + (t("consultation.proposal_added", codes=", ".join(added)) if added else "")
            + (t("consultation.proposal_removed", codes=", ".join(removed)) if removed else "")
            + ".",
            details={"added": added, "removed": removed},
        )
    enqueue(
        session,
        Queued(Topic.LAUNCH, {"launch_id": str(launch.id)}, dedupe_key=f"launch:{launch.id}"),
        now=now,
    )
    return launch


def consolidate_dossier(
    session: Session, *, dossier_id: uuid.UUID, now: dt.datetime
) -> Dossier | None:
    """Roll every opinion of the current cycle into one outcome, once all are in.

    Idempotent: does nothing unless the dossier is consulting and every consultation of its
    launched cycle is finished.
    """
    from accelerator.consultations.consolidation import Opinion, consolidate

    dossier = session.scalar(select(Dossier).where(Dossier.id == dossier_id).with_for_update())
    if dossier is None or dossier.status != DossierStatus.CONSULTING:
        return None
    consultations = finished_cycle(session, dossier)
    if consultations is None:
        return None
    outcome = consolidate(
        [
            Opinion(c.administration_code, c.opinion_nature, c.binding, c.opinion_tacit)
            for c in consultations
            if c.status != ConsultationStatus.CANCELLED and c.opinion_nature is not None
        ]
    )
    dossiers.change_status(
        session,
        dossier,
        DossierStatus.CONSOLIDATED,
        actor=Actor.flow("consolidation"),
        now=now,
        message=outcome.summary,
        event="consolidated",
    )
    dossier.outcome = outcome.nature.value
    dossier.outcome_binding = outcome.binding
    dossier.outcome_decided_by = outcome.decided_by
    dossier.outcome_summary = outcome.summary
    dossier.consolidated_at = now
    enqueue(
        session,
        event(
            Event.DOSSIER_CONSOLIDATED,
            now=now,
            dossier_id=dossier.id,
            reference=dossier.reference,
            data={
                "outcome": outcome.nature.value,
                "binding": outcome.binding,
                "decided_by": outcome.decided_by,
            },
            dedupe_key=f"webhook:consolidated:{dossier.id}:{dossier.cycle}",
        ),
        now=now,
    )
    enqueue(
        session,
        notification(
            Template.DOSSIER_CONSOLIDATED,
            dossier_id=dossier.id,
            user_ids=[dossier.referent_id] if dossier.referent_id else [],
            context={"outcome": outcome.nature.value, "summary": outcome.summary},
            dedupe_key=f"consolidated:{dossier.id}:{dossier.cycle}",
        ),
        now=now,
    )
    return dossier


def launch_codes(launch: ConsultationLaunch) -> set[str]:
    """The administrations a launch consults."""
    return {entry["administration"] for entry in launch.entries}


def _withdrawn(session: Session, dossier_id: uuid.UUID) -> bool:
    # Through the identity map: the launch's later look-ups of the dossier cost no query.
    dossier = session.get(Dossier, dossier_id)
    return dossier is not None and dossier.status == DossierStatus.WITHDRAWN


def withdraw_dossier(
    session: Session, *, dossier_id: uuid.UUID, reason: str, user: User, now: dt.datetime
) -> Dossier:
    """The holder withdraws the dossier (reason required): every open consultation is
    cancelled and its administration told, every clock stops, nothing more is sent."""
    require_role(user, Role.HOLDER)
    dossier = access_dossier(session, user, dossier_id, for_update=True)
    reason = reason.strip()
    if not reason:
        raise InvalidInput(t("dossier.withdraw_reason_required"))
    actor = Actor.of(user)
    dossiers.change_status(
        session,
        dossier,
        DossierStatus.WITHDRAWN,
        actor=actor,
        now=now,
        message=t("dossier.withdrawn", reason=reason),
        event="withdrawn",
    )
    open_consultations = session.scalars(
        select(Consultation)
        .where(
            Consultation.dossier_id == dossier.id,
            Consultation.status.not_in([s.value for s in FINISHED]),
        )
        .order_by(Consultation.administration_code)
        .with_for_update()
    )
    for consultation in open_consultations:
        change_status(
            session,
            consultation,
            ConsultationStatus.CANCELLED,
            actor=actor,
            now=now,
            message=(
                t(
                    "consultation.cancelled_by_withdrawal",
                    administration=consultation.administration_code,
                )
            ),
            event="cancelled",
        )
        enqueue(
            session,
            notification(
                Template.CONSULTATION_CANCELLED,
                dossier_id=dossier.id,
                administration=consultation.administration_code,
                context={"consultation_id": str(consultation.id), "reason": reason},
                dedupe_key=f"consultation_cancelled:{consultation.id}",
            ),
            now=now,
        )
    stop_dossier_clocks(session, dossier_id=dossier.id, now=now)
    enqueue(
        session,
        event(
            Event.DOSSIER_WITHDRAWN,
            now=now,
            dossier_id=dossier.id,
            reference=dossier.reference,
            dedupe_key=f"webhook:withdrawn:{dossier.id}",
        ),
        now=now,
    )
    if dossier.referent_id is not None:
        enqueue(
            session,
            notification(
                Template.DOSSIER_WITHDRAWN,
                dossier_id=dossier.id,
                user_ids=[dossier.referent_id],
                context={"reason": reason},
                dedupe_key=f"withdrawn:{dossier.id}",
            ),
            now=now,
        )
    return dossier


def reproject_clocks(
    session: Session,
    *,
    actor_label: str,
    now: dt.datetime,
    calendar_code: str | None = None,
    definition_code: str | None = None,
) -> list[tuple[Clock, dt.datetime | None, dt.datetime | None]]:
    """Re-pin open clocks to the versions now in force (``sla.actions.reproject_open_clocks``),
    and mark each consultation and dossier whose clock moved as changed: its ``version`` is
    bumped, so that a client holding the old one is told to reload, and the managers'
    figures derive its facts again at the next sweep (deadlines, on-time flags, lateness)."""
    changed = reproject_open_clocks(
        session,
        actor_label=actor_label,
        now=now,
        calendar_code=calendar_code,
        definition_code=definition_code,
    )
    moved = [clock for clock, before, after in changed if before != after]
    consultation_ids = {c.consultation_id for c in moved if c.consultation_id is not None}
    dossier_ids = {c.dossier_id for c in moved if c.consultation_id is None}
    touched: list[Consultation | Dossier] = []
    if consultation_ids:
        touched += session.scalars(
            select(Consultation).where(Consultation.id.in_(consultation_ids))
        )
    if dossier_ids:
        touched += session.scalars(select(Dossier).where(Dossier.id.in_(dossier_ids)))
    for row in touched:
        # Nothing of the row itself changed: flagged, the flush bumps its version.
        flag_modified(row, "status")
    session.flush()
    return changed
