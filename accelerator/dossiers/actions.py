"""Use cases on dossiers. Each locks the row, checks the transition, writes history and
queues side effects in the outbox; none commits (the caller's transaction does)."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid

from sqlalchemy import select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from accelerator.catalogue.models import Procedure
from accelerator.catalogue.queries import calendar_code_for_commune, require_commune
from accelerator.dossiers.access import access_dossier, require_referent_of
from accelerator.dossiers.models import Counter, Dossier
from accelerator.dossiers.schemas import DossierAttributes, DossierCreate, DossierDraftIn
from accelerator.dossiers.status import LABELS, DossierStatus, check_move, check_transition
from accelerator.history.actions import record
from accelerator.history.actor import Actor
from accelerator.identity.models import User
from accelerator.identity.roles import Role, require_role
from accelerator.notifications.actions import Template, notification
from accelerator.outbox.actions import Queued, enqueue
from accelerator.outbox.topics import Topic
from accelerator.shared.errors import Conflict, InvalidInput, InvalidTransition
from accelerator.shared.logs import annotate_dossier
from accelerator.shared.text import t
from accelerator.sla.actions import stop_clock, take_charge_key
from accelerator.webhooks.events import Event, event


def change_status(
    session: Session,
    dossier: Dossier,
    target: DossierStatus,
    *,
    actor: Actor,
    now: dt.datetime,
    message: str,
    event: str = "status_changed",
    came_from: DossierStatus | None = None,
) -> None:
    """Move ``dossier`` to ``target`` if allowed, and record it in the history.

    The only place a dossier's status is written (a test checks it). ``came_from`` is given
    only by the action that ends a side state: the status the dossier had when it entered it.
    Actions call this BEFORE they change anything else, so a refusal leaves nothing behind.
    """
    current = DossierStatus(dossier.status)
    check_move(current, target, came_from=came_from)
    dossier.status = target.value
    record(
        session,
        dossier_id=dossier.id,
        actor=actor,
        at=now,
        entity="dossier",
        event=event,
        from_status=current.value,
        to_status=target.value,
        message=message,
    )


def create_dossier(
    session: Session, *, data: DossierCreate, user: User, now: dt.datetime
) -> Dossier:
    """A holder starts a dossier as a draft."""
    require_role(user, Role.HOLDER)
    assert user.organisation_id is not None
    commune = require_commune(session, data.commune_insee)
    _require_procedures(session, data.procedures)
    dossier = Dossier(
        title=data.title,
        description=data.description,
        commune_insee=data.commune_insee,
        procedures=data.procedures,
        attributes=data.attributes.model_dump(),
        investment_eur=data.investment_eur,
        jobs_created=data.jobs_created,
        organisation_id=user.organisation_id,
        created_by_id=user.id,
        calendar_code=calendar_code_for_commune(commune),
        status=DossierStatus.DRAFT.value,
        cycle=1,
        created_at=now,
    )
    session.add(dossier)
    session.flush()
    record(
        session,
        dossier_id=dossier.id,
        actor=Actor.of(user),
        at=now,
        entity="dossier",
        event="created",
        to_status=DossierStatus.DRAFT.value,
        message=t("dossier.created"),
    )
    return dossier


def _require_procedures(session: Session, codes: list[str]) -> None:
    """Refuse procedures the catalogue does not know."""
    known = set(session.scalars(select(Procedure.code)))
    unknown = [code for code in codes if code not in known]
    if unknown:
        raise InvalidInput(
            t(
                "dossier.procedure_unknown",
                unknown=", ".join(unknown),
                known=", ".join(sorted(known)),
            )
        )


#: The fields of a draft a holder may change, as the history names them.
DRAFT_FIELDS: dict[str, str] = {
    "title": t("dossier.field.title"),
    "description": t("dossier.field.description"),
    "commune_insee": t("dossier.field.commune"),
    "procedures": t("dossier.field.procedures"),
    "attributes": t("dossier.field.attributes"),
    "investment_eur": t("dossier.field.investment"),
    "jobs_created": t("dossier.field.jobs"),
}


def update_draft(
    session: Session, *, dossier_id: uuid.UUID, data: DossierDraftIn, user: User, now: dt.datetime
) -> Dossier:
    """The holder changes a draft (the step-by-step form saves each step); nothing changes
    once it is filed. Only the fields given change; no history row when nothing changed."""
    require_role(user, Role.HOLDER)
    dossier = access_dossier(session, user, dossier_id, for_update=True)
    if dossier.status != DossierStatus.DRAFT:
        raise InvalidTransition(
            t("dossier.draft_only", status=LABELS[DossierStatus(dossier.status)])
        )
    given = {name: getattr(data, name) for name in DRAFT_FIELDS if name in data.model_fields_set}
    if given.get("title") is None:
        given.pop("title", None)  # a draft keeps a title
    if "commune_insee" in given:
        if given["commune_insee"] is None:
            raise InvalidInput(t("dossier.commune_required"))
        commune = require_commune(session, given["commune_insee"])
        if given["commune_insee"] != dossier.commune_insee:
            dossier.calendar_code = calendar_code_for_commune(commune)
    if given.get("procedures") is not None:
        _require_procedures(session, given["procedures"])
    elif "procedures" in given:
        given["procedures"] = []
    if "attributes" in given:
        attributes = given["attributes"] or DossierAttributes.model_validate({})
        given["attributes"] = attributes.model_dump()
    if "description" in given and given["description"] is None:
        given["description"] = ""
    changed = [name for name, value in given.items() if getattr(dossier, name) != value]
    if not changed:
        return dossier
    # Field by field (no dynamic setattr: a status is only ever written by change_status).
    if "title" in changed:
        dossier.title = given["title"]
    if "description" in changed:
        dossier.description = given["description"]
    if "commune_insee" in changed:
        dossier.commune_insee = given["commune_insee"]
    if "procedures" in changed:
        dossier.procedures = given["procedures"]
    if "attributes" in changed:
        dossier.attributes = given["attributes"]
    if "investment_eur" in changed:
        dossier.investment_eur = given["investment_eur"]
    if "jobs_created" in changed:
        dossier.jobs_created = given["jobs_created"]
    record(
        session,
        dossier_id=dossier.id,
        actor=Actor.of(user),
        at=now,
        entity="dossier",
        event="draft_updated",
        message=t("dossier.draft_saved") + ", ".join(DRAFT_FIELDS[n] for n in changed) + ".",
        details={"fields": changed},
    )
    return dossier


def _next_reference(session: Session, now: dt.datetime) -> str:
    """A new reference ``ACC-YYYY-NNNNN``, unique (numbers may skip: gap-free is not required).

    PostgreSQL draws the number from a sequence per year, which takes no lock: a counter row
    locked until commit made every filing wait for the one before it (docs/decisions.md).
    SQLite serialises writers anyway and keeps a counter row, bumped in one statement.
    """
    year = now.year
    if session.get_bind().dialect.name == "postgresql":
        number = _sequence_value(session, year)
    else:
        bumped = session.scalar(
            sqlite_insert(Counter)
            .values(name=f"dossier:{year}", value=1)
            .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
            .returning(Counter.value)
        )
        assert bumped is not None
        number = int(bumped)
    return f"ACC-{year}-{number:05d}"


#: No row when the year's sequence does not exist yet: no error, so the request's transaction
#: goes on. The name is looked up in ``pg_class`` with the statement's snapshot, which sees a
#: sequence another connection just created (``to_regclass`` may answer from a stale cache).
_NEXT_IN_SEQUENCE = text(
    "SELECT nextval(c.oid) FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
    "WHERE c.relname = :name AND c.relkind = 'S' AND n.nspname = current_schema()"
)


def _sequence_value(session: Session, year: int) -> int:
    name = f"dossier_reference_{year}"
    number = session.scalar(_NEXT_IN_SEQUENCE, {"name": name})
    if number is None:
        _create_sequence(session, name, year)
        number = session.scalar(_NEXT_IN_SEQUENCE, {"name": name})
    assert number is not None
    return int(number)


def _create_sequence(session: Session, name: str, year: int) -> None:
    """Create the year's sequence, after every number the year already used.

    In a savepoint of the request's transaction: requests of several processes may race to
    create it; the losers wait for the winner's commit, fail, roll back only the savepoint,
    then draw from the winner's sequence. (A connection of its own would need a second pooled
    connection per request: a burst of first filings would exhaust the pool.) Numbers already
    used come from the ``counters`` row (before sequences existed) and the references.
    """
    used = session.execute(
        text(
            "SELECT greatest("
            "(SELECT max(value) FROM counters WHERE name = :counter), "
            "(SELECT max(CAST(substr(reference, 10) AS bigint)) FROM dossiers "
            "WHERE reference LIKE :pattern))"
        ),
        {"counter": f"dossier:{year}", "pattern": f"ACC-{year}-%"},
    ).scalar()
    with contextlib.suppress(DBAPIError), session.begin_nested():
        session.execute(
            text(f"CREATE SEQUENCE IF NOT EXISTS {name} START WITH {int(used or 0) + 1}")
        )


def file_dossier(
    session: Session, *, dossier_id: uuid.UUID, user: User, now: dt.datetime
) -> Dossier:
    """The holder files the draft: it gets a reference and the intake flow is queued."""
    require_role(user, Role.HOLDER)
    dossier = access_dossier(session, user, dossier_id, for_update=True)
    # Only a draft is filed, once (checked before a reference is drawn). A dossier awaiting
    # the holder goes back through the answer to the request, never through a new filing.
    if dossier.status == DossierStatus.AWAITING_HOLDER:
        raise InvalidTransition(t("dossier.file_awaiting_holder"))
    check_transition(DossierStatus(dossier.status), DossierStatus.FILED)
    if not dossier.procedures:
        raise InvalidInput(t("dossier.file_needs_procedure"))
    reference = _next_reference(session, now)
    change_status(
        session,
        dossier,
        DossierStatus.FILED,
        actor=Actor.of(user),
        now=now,
        message=t("dossier.filed"),
    )
    dossier.reference = reference
    dossier.filed_at = now
    annotate_dossier(dossier)
    enqueue(
        session,
        event(
            Event.DOSSIER_FILED,
            now=now,
            dossier_id=dossier.id,
            reference=dossier.reference,
            data={
                "title": dossier.title,
                "commune_insee": dossier.commune_insee,
                "procedures": dossier.procedures,
            },
        ),
        now=now,
    )
    # A draft has no intake queued yet: no need to look for one (the key stays unique).
    enqueue(
        session,
        Queued(Topic.INTAKE, {"dossier_id": str(dossier.id)}, dedupe_key=f"intake:{dossier.id}"),
        now=now,
        new=True,
    )
    enqueue(
        session,
        notification(
            Template.DOSSIER_FILED,
            dossier_id=dossier.id,
            organisation_id=dossier.organisation_id,
            context={"reference": dossier.reference},
        ),
        now=now,
    )
    return dossier


def take_charge(
    session: Session, *, dossier_id: uuid.UUID, user: User, now: dt.datetime
) -> Dossier:
    """A référent takes the filed dossier in charge and becomes the holder's single contact."""
    require_role(user, Role.REFERENT)
    dossier = access_dossier(session, user, dossier_id, for_update=True)
    actor = Actor.of(user)
    previous = dossier.referent_id
    change_status(
        session,
        dossier,
        DossierStatus.TAKEN_IN_CHARGE,
        actor=actor,
        now=now,
        message=t("dossier.taken_in_charge", name=user.name, email=user.email),
    )
    dossier.referent_id = user.id
    dossier.taken_in_charge_at = now
    if previous is not None and previous != user.id:
        dossier.referent_reason = t("dossier.taken_by_other_referent")
    stop_clock(session, key=take_charge_key(dossier.id), now=now)
    enqueue(session, referent_assigned(dossier, user), now=now)
    return dossier


def referent_assigned(dossier: Dossier, referent: User) -> Queued:
    """The holder's e-mail naming their référent, their single contact from now on."""
    return notification(
        Template.REFERENT_ASSIGNED,
        dossier_id=dossier.id,
        organisation_id=dossier.organisation_id,
        context={"referent_name": referent.name, "referent_email": referent.email},
    )


def close_dossier(
    session: Session, *, dossier_id: uuid.UUID, message: str, user: User, now: dt.datetime
) -> Dossier:
    """The référent sends the consolidated answer to the holder and closes the dossier."""
    dossier = access_dossier(session, user, dossier_id, for_update=True)
    require_referent_of(user, dossier)
    message = message.strip()
    if not message:
        raise InvalidInput(t("dossier.close_message_required"))
    if dossier.status != DossierStatus.CONSOLIDATED:
        raise Conflict(
            t("dossier.close_not_consolidated", status=LABELS[DossierStatus(dossier.status)])
        )
    change_status(
        session,
        dossier,
        DossierStatus.CLOSED,
        actor=Actor.of(user),
        now=now,
        message=t("dossier.closed"),
    )
    dossier.closing_message = message
    dossier.closed_at = now
    enqueue(
        session,
        event(
            Event.DOSSIER_CLOSED,
            now=now,
            dossier_id=dossier.id,
            reference=dossier.reference,
            data={"outcome": dossier.outcome},
        ),
        now=now,
    )
    enqueue(
        session,
        notification(
            Template.DOSSIER_CLOSED,
            dossier_id=dossier.id,
            organisation_id=dossier.organisation_id,
            context={"message": message, "outcome": dossier.outcome},
        ),
        now=now,
    )
    return dossier
