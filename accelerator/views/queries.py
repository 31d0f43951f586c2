"""Read side of dossiers: lists and ready-to-show views, built with a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import String, bindparam, cast, exists, literal_column, select, union_all
from sqlalchemy.orm import Session

from accelerator.catalogue.models import Administration, Commune, RoutingRule
from accelerator.consultations.access import HIDDEN_FROM_HOLDERS
from accelerator.consultations.models import Consultation
from accelerator.consultations.schemas import OpinionOut
from accelerator.documents.queries import documents_for_dossiers, pieces_for_dossiers
from accelerator.dossiers.access import dossier_visibility
from accelerator.dossiers.models import Dossier, ProposedAdministration
from accelerator.dossiers.status import LABELS, DossierStatus
from accelerator.history.models import HistoryEntry
from accelerator.identity.models import Organisation, User
from accelerator.identity.roles import Role
from accelerator.identity.schemas import PersonOut
from accelerator.information.models import InformationRequest
from accelerator.information.schemas import InformationRequestOut
from accelerator.shared.validation import MAX_PAGE
from accelerator.sla.definitions import ClockKind
from accelerator.sla.instants import local_iso
from accelerator.sla.models import Calendar, Clock
from accelerator.sla.queries import clock_view
from accelerator.views.lens import OUTCOME_SHOWN_TO_HOLDERS, _HolderLens, history_view
from accelerator.views.schemas import (
    ConsultationSummaryOut,
    DossierOut,
    OutcomeOut,
    ProposedAdministrationOut,
)


def list_dossiers(
    session: Session, user: User, *, status: str | None = None, limit: int = 100, offset: int = 0
) -> list[DossierOut]:
    """The dossiers ``user`` may see, newest first."""
    query = select(Dossier).where(dossier_visibility(user))
    if status is not None:
        query = query.where(Dossier.status == status)
    query = (
        query.order_by(Dossier.created_at.desc(), Dossier.id)
        .limit(min(limit, MAX_PAGE))
        .offset(offset)
    )
    return build_views(session, list(session.scalars(query)), viewer=user)


def build_views(session: Session, dossiers: Sequence[Dossier], *, viewer: User) -> list[DossierOut]:
    """Views of ``dossiers`` for ``viewer``, with consultations, clocks and history (batched).

    A holder's view follows :class:`_HolderLens`; staff see everything.
    """
    if not dossiers:
        return []
    holder = Role(viewer.role) is Role.HOLDER
    ids = [d.id for d in dossiers]
    lookup = _lookups(session, dossiers)
    zones, admin_names, rule_labels = lookup["zone"], lookup["administration"], lookup["rule"]
    communes = lookup["commune"]
    organisations = {uuid.UUID(key): name for key, name in lookup["organisation"].items()}
    present = lookup["present"]
    documents = documents_for_dossiers(session, ids, viewer)
    pieces = pieces_for_dossiers(session, dossiers)
    referent_ids = {d.referent_id for d in dossiers if d.referent_id}
    referents = (
        {u.id: u for u in session.scalars(select(User).where(User.id.in_(referent_ids)))}
        if referent_ids
        else {}
    )

    proposals: dict[uuid.UUID, list[ProposedAdministration]] = defaultdict(list)
    if "proposals" in present:
        for p in session.scalars(
            select(ProposedAdministration)
            .where(ProposedAdministration.dossier_id.in_(ids))
            .order_by(ProposedAdministration.rank, ProposedAdministration.administration_code)
        ):
            proposals[p.dossier_id].append(p)
    consultations: dict[uuid.UUID, list[Consultation]] = defaultdict(list)
    if "consultations" in present:
        for c in session.scalars(
            select(Consultation)
            .where(Consultation.dossier_id.in_(ids))
            .order_by(Consultation.cycle, Consultation.administration_code)
        ):
            consultations[c.dossier_id].append(c)
    clocks: dict[uuid.UUID, list[Clock]] = defaultdict(list)
    if "clocks" in present:
        for k in session.scalars(
            select(Clock).where(Clock.dossier_id.in_(ids)).order_by(Clock.anchor_at, Clock.key)
        ):
            clocks[k.dossier_id].append(k)
    requests: dict[uuid.UUID, list[InformationRequest]] = defaultdict(list)
    if "requests" in present:
        for r in session.scalars(
            select(InformationRequest)
            .where(InformationRequest.dossier_id.in_(ids))
            .order_by(InformationRequest.requested_at)
        ):
            requests[r.dossier_id].append(r)
    administration_of = {c.id: c.administration_code for cs in consultations.values() for c in cs}
    history: dict[uuid.UUID, list[HistoryEntry]] = defaultdict(list)
    for h in session.scalars(
        select(HistoryEntry)
        .where(HistoryEntry.dossier_id.in_(ids))
        .order_by(HistoryEntry.at, HistoryEntry.id)
    ):
        history[h.dossier_id].append(h)
    lens = (
        _HolderLens.of(
            session,
            [h for hs in history.values() for h in hs],
            admin_names=admin_names,
            administration_of=administration_of,
        )
        if holder
        else None
    )

    views = []
    for d in dossiers:
        zone = zones.get(d.calendar_code, "Europe/Paris")
        clock_of_consultation = {
            k.consultation_id: k
            for k in clocks[d.id]
            if k.consultation_id and k.kind == ClockKind.CONSULTATION_DEADLINE
        }
        referent = referents.get(d.referent_id) if d.referent_id else None
        shown_clocks = [
            k for k in clocks[d.id] if lens is None or k.kind not in HIDDEN_FROM_HOLDERS
        ]
        entries = (
            [(h, history_view(h, zone)) for h in history[d.id]]
            if lens is None
            else lens.history(history[d.id], d, referent, zone, clocks[d.id])
        )
        # A request's effects are the history entries it caused, as this viewer reads them.
        effects: dict[str, list[str]] = defaultdict(list)
        for h, shown in entries:
            if "information_request_id" in h.details:
                effects[h.details["information_request_id"]].append(shown.message)
        views.append(
            DossierOut(
                id=str(d.id),
                version=d.version,
                reference=d.reference,
                status=d.status,
                status_label=LABELS[DossierStatus(d.status)],
                title=d.title,
                description=d.description,
                commune_insee=d.commune_insee,
                commune_name=communes.get(d.commune_insee),
                procedures=list(d.procedures),
                attributes=dict(d.attributes),
                investment_eur=d.investment_eur,
                jobs_created=d.jobs_created,
                organisation=organisations.get(d.organisation_id, ""),
                calendar=d.calendar_code,
                cycle=d.cycle,
                created_at=local_iso(d.created_at, zone) or "",
                filed_at=local_iso(d.filed_at, zone),
                referent=PersonOut(email=referent.email, name=referent.name) if referent else None,
                referent_reason=d.referent_reason,
                taken_in_charge=d.taken_in_charge_at is not None,
                proposed_administrations=[
                    ProposedAdministrationOut(
                        code=p.administration_code,
                        rule=p.rule_code,
                        rule_label=rule_labels.get(p.rule_code, p.rule_code),
                        rules=list(p.rule_codes),
                        consultation_type=p.consultation_type_code,
                    )
                    for p in proposals[d.id]
                ],
                consultations=[
                    consultation_summary(
                        c,
                        admin_names.get(c.administration_code, c.administration_code),
                        zones.get(
                            clock_of_consultation[c.id].calendar_code
                            if c.id in clock_of_consultation
                            else d.calendar_code,
                            zone,
                        ),
                        due_at=clock_of_consultation[c.id].due_at
                        if c.id in clock_of_consultation
                        else None,
                        with_opinion=lens is None,
                    )
                    for c in consultations[d.id]
                ],
                clocks=[clock_view(k, zones.get(k.calendar_code, zone)) for k in shown_clocks],
                information_requests=[
                    InformationRequestOut(
                        id=str(r.id),
                        consultation_id=str(r.consultation_id) if r.consultation_id else None,
                        administration=administration_of.get(r.consultation_id)
                        if r.consultation_id
                        else None,
                        message=r.message,
                        pieces=list(r.pieces),
                        requested_at=local_iso(r.requested_at, zone) or "",
                        answered_at=local_iso(r.answered_at, zone),
                        answer=r.answer,
                        effects=effects[str(r.id)],
                    )
                    for r in requests[d.id]
                ],
                outcome=(
                    OutcomeOut(
                        nature=d.outcome,
                        binding=bool(d.outcome_binding),
                        decided_by=d.outcome_decided_by,
                        summary=d.outcome_summary or "",
                    )
                    if d.outcome and (lens is None or d.status in OUTCOME_SHOWN_TO_HOLDERS)
                    else None
                ),
                closing_message=d.closing_message,
                documents=documents[d.id],
                pieces=pieces[d.id],
                history=[shown for _, shown in entries],
            )
        )
    return views


def _kind(name: str) -> Any:
    return literal_column(f"'{name}'")


def _present(name: str, column: Any) -> Any:
    return select(_kind("present"), _kind(name), _kind("")).where(
        exists().where(column.in_(bindparam("ids", expanding=True)))
    )


#: Built once (its SQL is compiled once too): the ids, communes and organisations are
#: expanding parameters.
_LOOKUPS = union_all(
    select(_kind("zone"), Calendar.code, Calendar.timezone),
    select(_kind("administration"), Administration.code, Administration.name),
    select(_kind("rule"), RoutingRule.code, RoutingRule.label),
    select(_kind("commune"), Commune.insee, Commune.name).where(
        Commune.insee.in_(bindparam("communes", expanding=True))
    ),
    select(_kind("organisation"), cast(Organisation.id, String), Organisation.name).where(
        Organisation.id.in_(bindparam("organisations", expanding=True))
    ),
    _present("proposals", ProposedAdministration.dossier_id),
    _present("consultations", Consultation.dossier_id),
    _present("clocks", Clock.dossier_id),
    _present("requests", InformationRequest.dossier_id),
)


def _lookups(session: Session, dossiers: Sequence[Dossier]) -> dict[str, dict[str, str]]:
    """Every name a view shows, and which kinds of child rows exist, in ONE statement.

    Calendar zones, administration names and rule labels (small catalogue tables, read whole),
    the dossiers' communes and organisations, then one ``present`` row per kind of child row
    that at least one dossier has: the queries for kinds nobody has are skipped (a dossier
    being filed has none). Read at every call, so a catalogue reload shows at once.
    """
    found: dict[str, dict[str, str]] = {
        name: {}
        for name in ("zone", "administration", "rule", "commune", "organisation", "present")
    }
    rows = session.execute(
        _LOOKUPS,
        {
            "ids": [d.id for d in dossiers],
            "communes": sorted({d.commune_insee for d in dossiers}),
            "organisations": list({d.organisation_id for d in dossiers}),
        },
    )
    for name, key, value in rows:
        found[name][key] = value
    return found


def consultation_summary(
    c: Consultation,
    admin_name: str,
    timezone: str,
    *,
    due_at: dt.datetime | None,
    with_opinion: bool = True,
) -> ConsultationSummaryOut:
    """A consultation as shown inside its dossier (a holder's view: no raw opinion), with
    its deadline clock's ``due_at`` (None while paused)."""
    return ConsultationSummaryOut(
        id=str(c.id),
        administration=c.administration_code,
        administration_name=admin_name,
        consultation_type=c.consultation_type_code,
        status=c.status,
        cycle=c.cycle,
        sent_at=local_iso(c.sent_at, timezone) or "",
        due_at=local_iso(due_at, timezone),
        opinion=(
            OpinionOut(nature=c.opinion_nature, tacit=c.opinion_tacit, text=c.opinion_text)
            if c.opinion_nature and with_opinion
            else None
        ),
    )
