"""What a holder sees of a dossier: administrations, not people; legal deadlines, not the
accelerator's internal targets; the consolidated answer, not each raw opinion."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from accelerator.consultations.access import HIDDEN_FROM_HOLDERS
from accelerator.consultations.status import LABELS as CONSULTATION_LABELS
from accelerator.dossiers.models import Dossier
from accelerator.dossiers.status import LABELS, DossierStatus
from accelerator.history.models import HistoryEntry
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.shared.text import t, t_template
from accelerator.sla.instants import local_iso
from accelerator.sla.models import Clock
from accelerator.views.schemas import (
    HistoryOut,
)

#: A holder reads the consolidated answer once the cycle is consolidated (a new review cycle
#: sends the dossier back to consulting: the previous outcome is no longer the answer).
OUTCOME_SHOWN_TO_HOLDERS = frozenset({DossierStatus.CONSOLIDATED.value, DossierStatus.CLOSED.value})


#: History entries whose message a holder reads as written (they name administrations, legal
#: deadlines, requests addressed to the holder; never a person but the holder's référent).
#: ``None``: the message as written; a text: what the holder reads instead (``{administration}``
#: is the consultation's). A kind not listed shows only its status change, or nothing: a new
#: kind of entry stays internal until someone decides what holders read of it.
HOLDER_MESSAGES: dict[tuple[str, str], str | None] = {
    ("dossier", "created"): None,
    ("dossier", "draft_updated"): None,
    ("dossier", "status_changed"): None,
    ("dossier", "routed"): None,
    ("dossier", "referent_unavailable"): None,
    # Its address stays only while that référent is the holder's (see ``_mask``).
    ("dossier", "referent_proposed"): None,
    ("dossier", "proposal_adjusted"): None,
    ("dossier", "consolidated"): None,
    ("dossier", "information_requested"): None,
    ("dossier", "information_received"): None,
    ("dossier", "withdrawn"): None,
    ("dossier", "cycle_opened"): None,
    ("dossier", "referent_handed_over"): t("lens.referent_handed_over"),
    ("consultation", "created"): None,
    ("consultation", "cancelled"): None,
    ("consultation", "status_changed"): None,
    ("consultation", "information_requested"): None,
    ("consultation", "information_received"): None,
    # The raw opinion stays with the référent: the holder reads the consolidated answer.
    ("consultation", "opinion_given"): t_template("lens.opinion_given"),
    ("consultation", "tacit_opinion"): t_template("lens.tacit_opinion"),
    ("clock", "clock_started"): None,
    ("clock", "clock_paused"): None,
    ("clock", "clock_not_paused"): None,
    ("clock", "clock_resumed"): None,
    ("clock", "clock_reprojected"): None,
    # A piece of the dossier, as its holder reads it (a consultation's documents: see ``message``).
    ("document", "document_added"): None,
}


#: How a holder sees who acted: a role or an administration, never a person (but their référent).
HOLDER_ACTOR_LABELS: dict[Role, str] = {
    Role.HOLDER: t("lens.actor.holder"),
    Role.REFERENT: t("lens.actor.referent"),
    Role.AGENT: t("lens.actor.agent"),
    Role.MANAGER: t("lens.actor.manager"),
    Role.ADMIN: t("lens.actor.admin"),
}


PLATFORM_LABEL = t("lens.actor.platform")


HIDDEN_ADDRESS = t("lens.hidden_address")


_EMAIL = re.compile(r"[^\s@()<>\[\],;:\"']+@[^\s@()<>\[\],;:\"']+")


@dataclass(frozen=True)
class _HolderLens:
    """What a holder may read of a dossier's history (docs/domain.md): administrations, not people;
    legal deadlines, not the internal targets; no raw opinion; no agent's address."""

    actors: dict[uuid.UUID, tuple[Role, str | None]]
    admin_names: dict[str, str]
    administration_of: dict[uuid.UUID, str]

    @classmethod
    def of(
        cls,
        session: Session,
        entries: list[HistoryEntry],
        *,
        admin_names: dict[str, str],
        administration_of: dict[uuid.UUID, str],
    ) -> _HolderLens:
        """The lens for ``entries``: their authors' roles read in one query."""
        ids = {h.actor_id for h in entries if h.actor_id}
        actors = (
            {
                user_id: (Role(role), administration)
                for user_id, role, administration in session.execute(
                    select(User.id, User.role, User.administration_code).where(User.id.in_(ids))
                )
            }
            if ids
            else {}
        )
        return cls(actors, admin_names, administration_of)

    def actor(self, h: HistoryEntry, dossier: Dossier, referent: User | None) -> str:
        """Who acted, as the holder reads it."""
        if h.actor_id is None:
            return PLATFORM_LABEL
        if referent is not None and h.actor_id == referent.id:
            return referent.email
        role, administration = self.actors.get(h.actor_id, (Role.HOLDER, None))
        if role is Role.AGENT and administration:
            return self.admin_names.get(administration, administration)
        return HOLDER_ACTOR_LABELS[role]

    def history(
        self,
        entries: list[HistoryEntry],
        dossier: Dossier,
        referent: User | None,
        zone: str,
        clocks: list[Clock],
    ) -> list[tuple[HistoryEntry, HistoryOut]]:
        """The entries a holder reads, each actor and message as :data:`HOLDER_MESSAGES` says."""
        hidden_clocks = {str(k.id) for k in clocks if k.kind in HIDDEN_FROM_HOLDERS}
        shown = []
        for h in entries:
            if h.entity == "clock" and (
                h.details.get("clock_id") in hidden_clocks
                or any(h.message.startswith(kind) for kind in HIDDEN_FROM_HOLDERS)
            ):
                continue
            message = self.message(h, dossier, referent)
            if message is not None:
                actor = self.actor(h, dossier, referent)
                shown.append((h, history_view(h, zone, actor=actor, message=message)))
        return shown

    def message(self, h: HistoryEntry, dossier: Dossier, referent: User | None) -> str | None:
        """The holder's message for ``h``, or None when the entry is internal."""
        if h.entity == "document" and h.consultation_id is not None:
            # A document of one consultation goes between the platform and that administration
            # (documents.queries.document_visibility): the holder does not learn it exists.
            return None
        administration = (
            self.administration_of.get(h.consultation_id, "") if h.consultation_id else ""
        )
        administration = self.admin_names.get(administration, administration) or "L'administration"
        key = (h.entity, h.event)
        staff = (
            h.actor_id is not None
            and self.actors.get(h.actor_id, (Role.HOLDER,))[0] is not Role.HOLDER
        )
        by_other_staff = staff and (referent is None or h.actor_id != referent.id)
        if key in HOLDER_MESSAGES and not (by_other_staff and h.entity == "dossier"):
            template = HOLDER_MESSAGES[key]
            text = h.message if template is None else template.format(administration=administration)
        elif h.to_status and h.entity in ("dossier", "consultation"):
            # Written by someone other than the référent (a name, an address may be in it).
            labels = LABELS if h.entity == "dossier" else CONSULTATION_LABELS
            status = next((v for k, v in labels.items() if k == h.to_status), h.to_status)
            text = (
                f"Dossier « {status} »."
                if h.entity == "dossier"
                else f"{administration} : consultation « {status} »."
            )
        else:
            return None
        return _EMAIL.sub(lambda m: _mask(m.group(0), referent), text)


def _mask(address: str, referent: User | None) -> str:
    """An address as a holder reads it: their référent's as is, any other one hidden."""
    bare = address.rstrip(".")
    if referent is not None and bare.lower() == referent.email.lower():
        return address
    return HIDDEN_ADDRESS + address[len(bare) :]


def history_view(
    h: HistoryEntry, zone: str, *, actor: str | None = None, message: str | None = None
) -> HistoryOut:
    return HistoryOut(
        at=local_iso(h.at, zone) or "",
        actor=h.actor_label if actor is None else actor,
        entity=h.entity,
        event=h.event,
        consultation_id=str(h.consultation_id) if h.consultation_id else None,
        from_status=h.from_status,
        to_status=h.to_status,
        message=h.message if message is None else message,
    )
