"""The dossier page: one dossier as each party sees it, and what they may do with it.

``GET /dossiers/{id}`` reads the dossier through the same view the API serves
(``views.queries.build_views``: a holder's lens hides people, internal targets and raw
opinions) and hands the template ready rows. The forms post to the same domain actions as the
JSON routers (take in charge, launch, request information, answer, write, withdraw, hand over,
close, open a new cycle), each in the page's unit of work with its CSRF check, then redirect
(303) back to the page with a notice. A form whose fields are refused is shown again with each
error under its field (422); a refusal of the domain (a status that moved meanwhile) is the
French error page, with "reload" on a conflict.

What a user may do is answered by ``can_*`` helpers from the dossier's status (the status
table of ``dossiers.status``) and the user's role; the actions check again, and decide.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from accelerator.assignment import actions as assignment
from accelerator.consultations import actions as consultations
from accelerator.consultations.status import LABELS as CONSULTATION_LABELS
from accelerator.consultations.status import NATURE_LABELS, ConsultationStatus, OpinionNature
from accelerator.documents.actions import Limits, StoredFile, record_document, upload_allowance
from accelerator.dossiers import actions as dossiers
from accelerator.dossiers.access import access_dossier
from accelerator.dossiers.schemas import CloseIn, CycleIn, LaunchIn, ReferentIn, WithdrawIn
from accelerator.dossiers.status import DossierStatus, can_transition
from accelerator.identity import directory
from accelerator.identity.models import User
from accelerator.identity.roles import Role
from accelerator.information.schemas import AnswerIn, InformationRequestIn
from accelerator.messages import actions as messages
from accelerator.messages.queries import dossier_thread, latest_messages
from accelerator.messages.relay import answer_information, request_information
from accelerator.messages.schemas import MessageIn
from accelerator.shared.config import Settings
from accelerator.shared.errors import NotFound
from accelerator.shared.text import t
from accelerator.sla.definitions import ClockKind, ClockState
from accelerator.sla.models import Calendar, Clock
from accelerator.sla.queries import clock_timeline
from accelerator.views.queries import build_views
from accelerator.views.schemas import DossierOut
from api import limits
from api import uploads as api_uploads
from api.deps import parse_id
from api.pages import display, uploads
from api.pages.display import Badge
from api.pages.forms import FormRefused, Forms, validated
from api.pages.rendering import render
from api.pages.spaces import CONSULTATION_LEVELS, DOSSIER_LEVELS, status_badge
from api.pages.web import FormDep, Page, PageRouter, page_unit
from api.policies import Scope, allow
from api.unit_of_work import mark_thread_read

router = PageRouter(tags=["pages"])

#: Who opens a dossier's page (as ``GET /api/v1/dossiers/{id}``); anyone else: 404.
READERS = allow(
    holder=Scope.OWN_ORGANISATION, referent=Scope.FILED, manager=Scope.FILED, admin=Scope.FILED
)
#: The messages of the thread shown on the page (the latest ones).
THREAD_SHOWN = 50


class Tab(StrEnum):
    """The page's tabs (``?onglet=``)."""

    REQUEST = "demande"
    PIECES = "pieces"
    CONSULTATIONS = "consultations"
    MESSAGES = "echanges"
    HISTORY = "historique"
    DEADLINES = "delais"


class Done(StrEnum):
    """What the last form did (``?fait=``), told in a success notice."""

    FILED = "depose"
    TAKEN = "pris-en-charge"
    LAUNCHED = "consultations-lancees"
    REQUESTED = "demande-envoyee"
    ANSWERED = "reponse-envoyee"
    WRITTEN = "message-envoye"
    WITHDRAWN = "dossier-retire"
    HANDED_OVER = "dossier-confie"
    CLOSED = "dossier-clos"
    CYCLE = "nouveau-cycle"
    ATTACHED = "piece-ajoutee"
    CHASED = "administration-relancee"


#: What each form done tells (its notice) and the tab it opens on.
DONE: dict[Done, tuple[str, Tab]] = {
    Done.FILED: ("pages.dossier.done.filed", Tab.REQUEST),
    Done.TAKEN: ("pages.dossier.done.taken", Tab.CONSULTATIONS),
    Done.LAUNCHED: ("pages.dossier.done.launched", Tab.CONSULTATIONS),
    Done.REQUESTED: ("pages.dossier.done.requested", Tab.REQUEST),
    Done.ANSWERED: ("pages.dossier.done.answered", Tab.REQUEST),
    Done.WRITTEN: ("pages.dossier.done.written", Tab.MESSAGES),
    Done.WITHDRAWN: ("pages.dossier.done.withdrawn", Tab.REQUEST),
    Done.HANDED_OVER: ("pages.dossier.done.handed_over", Tab.REQUEST),
    Done.CLOSED: ("pages.dossier.done.closed", Tab.REQUEST),
    Done.CYCLE: ("pages.dossier.done.cycle", Tab.CONSULTATIONS),
    Done.ATTACHED: ("pages.dossier.done.attached", Tab.PIECES),
    Done.CHASED: ("pages.dossier.done.chased", Tab.CONSULTATIONS),
}

#: The label of each tab.
TAB_KEYS: dict[Tab, str] = {
    Tab.REQUEST: "pages.dossier.tab.demande",
    Tab.PIECES: "pages.dossier.tab.pieces",
    Tab.CONSULTATIONS: "pages.dossier.tab.consultations",
    Tab.MESSAGES: "pages.dossier.tab.echanges",
    Tab.HISTORY: "pages.dossier.tab.historique",
    Tab.DEADLINES: "pages.dossier.tab.delais",
}


#: How a clock's state reads.
CLOCK_STATE_KEYS: dict[ClockState, str] = {
    ClockState.RUNNING: "pages.clock.state.running",
    ClockState.PAUSED: "pages.clock.state.paused",
    ClockState.STOPPED: "pages.clock.state.stopped",
}

#: The steps of the status timeline, in order (``awaiting_holder`` is a side state shown as a
#: callout, ``withdrawn`` an end of its own).
STEPS: dict[DossierStatus, str] = {
    DossierStatus.DRAFT: "pages.dossier.step.draft",
    DossierStatus.FILED: "pages.dossier.step.filed",
    DossierStatus.TAKEN_IN_CHARGE: "pages.dossier.step.taken_in_charge",
    DossierStatus.CONSULTING: "pages.dossier.step.consulting",
    DossierStatus.CONSOLIDATED: "pages.dossier.step.consolidated",
    DossierStatus.CLOSED: "pages.dossier.step.closed",
}


# --- What the user may do -----------------------------------------------------------------


def _status(view: DossierOut) -> DossierStatus:
    return DossierStatus(view.status)


def _is_referent(user: User, view: DossierOut) -> bool:
    return (
        Role(user.role) is Role.REFERENT
        and view.referent is not None
        and view.referent.email.lower() == user.email.lower()
    )


def can_file(user: User, view: DossierOut) -> bool:
    """The holder files a draft."""
    return Role(user.role) is Role.HOLDER and _status(view) is DossierStatus.DRAFT


def can_withdraw(user: User, view: DossierOut) -> bool:
    """The holder withdraws while the dossier may still move to ``withdrawn``."""
    return Role(user.role) is Role.HOLDER and can_transition(_status(view), DossierStatus.WITHDRAWN)


def can_write(user: User, view: DossierOut) -> bool:
    """The holder and the référent write on the dossier's thread once it is filed."""
    open_ = _status(view) not in (DossierStatus.DRAFT, DossierStatus.WITHDRAWN)
    return open_ and (Role(user.role) is Role.HOLDER or _is_referent(user, view))


def can_take_charge(user: User, view: DossierOut) -> bool:
    """A référent takes a filed dossier nobody has taken yet."""
    return (
        Role(user.role) is Role.REFERENT
        and not view.taken_in_charge
        and can_transition(_status(view), DossierStatus.TAKEN_IN_CHARGE)
    )


def can_launch(user: User, view: DossierOut) -> bool:
    """Its référent launches the consultations of a dossier taken in charge."""
    return _is_referent(user, view) and _status(view) is DossierStatus.TAKEN_IN_CHARGE


def can_request(user: User, view: DossierOut) -> bool:
    """Its référent asks the holder for information while the dossier is worked."""
    return _is_referent(user, view) and _status(view) in (
        DossierStatus.TAKEN_IN_CHARGE,
        DossierStatus.CONSULTING,
        DossierStatus.AWAITING_HOLDER,
    )


def can_answer(user: User, view: DossierOut) -> bool:
    """The holder answers the open requests."""
    return Role(user.role) is Role.HOLDER and _status(view) not in (
        DossierStatus.CLOSED,
        DossierStatus.WITHDRAWN,
    )


def can_close(user: User, view: DossierOut) -> bool:
    """Its référent closes a consolidated dossier with the final letter."""
    return _is_referent(user, view) and can_transition(_status(view), DossierStatus.CLOSED)


def can_open_cycle(user: User, view: DossierOut) -> bool:
    """Its référent opens a new review cycle on a consolidated dossier."""
    return _is_referent(user, view) and _status(view) is DossierStatus.CONSOLIDATED


def can_attach(user: User, view: DossierOut) -> bool:
    """The holder attaches to a draft, or in answer to an open request (the documents'
    rule, ``upload_allowance``); its référent while the dossier is open."""
    if Role(user.role) is Role.HOLDER:
        return _status(view) is DossierStatus.DRAFT or any(
            r.answered_at is None for r in view.information_requests
        )
    open_ = _status(view) not in (DossierStatus.CLOSED, DossierStatus.WITHDRAWN)
    return open_ and _is_referent(user, view)


def can_hand_over(user: User, view: DossierOut) -> bool:
    """Its référent, or a manager, hands a dossier in progress over to another référent."""
    in_progress = view.taken_in_charge and _status(view) not in (
        DossierStatus.CLOSED,
        DossierStatus.WITHDRAWN,
    )
    return in_progress and (_is_referent(user, view) or Role(user.role) is Role.MANAGER)


# --- The page ----------------------------------------------------------------------------


def _parse(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _timeline(view: DossierOut) -> list[dict[str, object]]:
    """The status timeline: each step done, current or to come."""
    status = _status(view)
    current = status
    if status is DossierStatus.AWAITING_HOLDER:
        # The side state sits on the step the dossier left; the callout says the rest.
        current = DossierStatus.CONSULTING if view.consultations else DossierStatus.FILED
    if status is DossierStatus.WITHDRAWN:
        return [{"label": view.status_label, "state": "current", "current": True}]
    order = list(STEPS)
    position = order.index(current) if current in STEPS else 0
    # A closed dossier has done every step, its last one included.
    last_done = position if status is DossierStatus.CLOSED else position - 1
    return [
        {
            "label": t(key),
            "state": "done" if i <= last_done else "current" if i == position else "todo",
            "current": i == position,
        }
        for i, key in enumerate(STEPS.values())
    ]


def _clocks(
    session: Session, view: DossierOut, viewer: User, zone: str, now: dt.datetime
) -> list[dict[str, object]]:
    """Each clock the viewer sees, with its deadline, its badge and how it was computed."""
    holder = Role(viewer.role) is Role.HOLDER
    ids = [uuid.UUID(k.id) for k in view.clocks]
    found = (
        {k.id: k for k in session.scalars(select(Clock).where(Clock.id.in_(ids)))} if ids else {}
    )
    names = {c.id: c.administration_name for c in view.consultations}
    rows: list[dict[str, object]] = []
    for shown in view.clocks:
        clock = found.get(uuid.UUID(shown.id))
        if clock is None:
            continue
        timeline = clock_timeline(session, clock, now=now)
        due = _parse(shown.due_at)
        paused = shown.state == ClockState.PAUSED
        running = shown.state in (ClockState.RUNNING, ClockState.PAUSED)
        rows.append(
            {
                "label": shown.label,
                "administration": names.get(shown.consultation_id or "", ""),
                "due": display.deadline(due, zone),
                "badge": display.deadline_badge(
                    due, now=now, zone=zone, paused=paused, left=shown.left_on_resume
                )
                if running
                else None,
                "state": t(CLOCK_STATE_KEYS[ClockState(shown.state)]),
                "for_holder": timeline.for_holder,
                "steps": [] if holder else timeline.explanation,
            }
        )
    return rows


def _decision(view: DossierOut, zone: str) -> str:
    """The legal decision date (the procedure's deadline), if one runs."""
    for clock in view.clocks:
        if clock.kind == "procedure_deadline" and clock.due_at:
            return display.deadline(_parse(clock.due_at), zone)
    return ""


def _consultations(view: DossierOut, zone: str, now: dt.datetime) -> list[dict[str, object]]:
    left = {
        k.consultation_id: k.left_on_resume
        for k in view.clocks
        if k.kind == ClockKind.CONSULTATION_DEADLINE and k.consultation_id
    }
    rows = []
    for c in view.consultations:
        due = _parse(c.due_at)
        open_ = c.status in ("sent", "acknowledged", "awaiting_information")
        badge: Badge | None = (
            display.deadline_badge(
                due,
                now=now,
                zone=zone,
                paused=c.status == "awaiting_information",
                left=left.get(c.id),
            )
            if open_
            else None
        )
        rows.append(
            {
                "id": c.id,
                "open": open_,
                "administration": c.administration_name,
                "code": c.administration,
                "cycle": c.cycle,
                "status": status_badge(
                    CONSULTATION_LABELS[ConsultationStatus(c.status)],
                    CONSULTATION_LEVELS.get(c.status),
                ),
                "sent_at": display.instant(_parse(c.sent_at), zone),
                "due": display.deadline(due, zone),
                "badge": badge,
                "opinion": {
                    "nature": NATURE_LABELS.get(OpinionNature(c.opinion.nature), c.opinion.nature),
                    "text": c.opinion.text,
                }
                if c.opinion is not None
                else None,
            }
        )
    return rows


def _administrations(session: Session, view: DossierOut) -> list[dict[str, object]]:
    """The administrations the référent may consult: the proposal first, checked, with why."""
    proposed = {p.code: p for p in view.proposed_administrations}
    rows = []
    for admin in directory.administrations(session):
        if not admin.active:
            continue
        proposal = proposed.get(admin.code)
        rows.append(
            {
                "code": admin.code,
                "name": admin.name,
                "proposed": proposal is not None,
                "why": proposal.rule_label if proposal else "",
            }
        )
    rows.sort(key=lambda row: (not row["proposed"], str(row["name"])))
    return rows


def _referents(session: Session, view: DossierOut) -> list[dict[str, str]]:
    """The other référents a dossier may be handed over to."""
    current = view.referent.email.lower() if view.referent else ""
    return [
        {"email": email, "name": name}
        for email, name in session.execute(
            select(User.email, User.name)
            .where(User.role == Role.REFERENT.value, User.active.is_(True))
            .order_by(User.name)
        )
        if email.lower() != current
    ]


def dossier_page(
    unit: Page,
    dossier_id: uuid.UUID,
    *,
    tab: Tab | None = None,
    done: Done | None = None,
    forms: Forms | None = None,
    status: int = 200,
) -> Response:
    """The page of one dossier for the signed-in user."""
    session, user, now = unit.session, unit.signed_in, unit.now
    dossier = access_dossier(session, user, dossier_id)
    view = build_views(session, [dossier], viewer=user)[0]
    zone = session.scalar(select(Calendar.timezone).where(Calendar.code == dossier.calendar_code))
    zone = zone or "Europe/Paris"
    thread = dossier_thread(dossier.id)
    seen = latest_messages(session, user, dossier=dossier, thread=thread, shown=THREAD_SHOWN)
    forms = forms or Forms()
    referent_actions = can_launch(user, view) or can_open_cycle(user, view)
    selected = tab or (DONE[done][1] if done else None)
    if selected is None and forms.name:
        selected = FORM_TABS.get(forms.name, Tab.REQUEST)
    context = {
        "dossier": view,
        "tab": selected or Tab.REQUEST,
        "tabs": [(tab_.value, t(key)) for tab_, key in TAB_KEYS.items()],
        "done": t(DONE[done][0]) if done else "",
        "forms": forms,
        "status": status_badge(view.status_label, DOSSIER_LEVELS.get(view.status)),
        "timeline": _timeline(view),
        "filed_at": display.instant(_parse(view.filed_at)),
        "decision": _decision(view, zone),
        "consultations": _consultations(view, zone, now),
        "clocks": _clocks(session, view, user, zone, now),
        "requests": [
            {
                "id": r.id,
                "administration": r.administration,
                "message": r.message,
                "pieces": r.pieces,
                "requested_at": display.instant(_parse(r.requested_at)),
                "answered_at": display.instant(_parse(r.answered_at)),
                "answer": r.answer,
                "open": r.answered_at is None,
            }
            for r in view.information_requests
        ],
        "documents": [
            {
                "filename": d.filename,
                "url": f"/documents/{d.id}/contenu",
                "piece": d.piece or "",
                "size": d.size,
                "uploaded_at": display.instant(_parse(d.uploaded_at)),
            }
            for d in view.documents
        ],
        "messages": [
            {
                "author": m.author.name or m.author.email,
                "body": m.body,
                "sent_at": display.instant(_parse(m.sent_at)),
                "documents": [d.filename for d in m.documents],
            }
            for m in seen.messages
        ],
        "history": [
            {"at": display.instant(_parse(h.at)), "actor": h.actor, "message": h.message}
            for h in reversed(view.history)
        ],
        "holder": Role(user.role) is Role.HOLDER,
        "awaiting": _status(view) is DossierStatus.AWAITING_HOLDER
        or any(r.answered_at is None for r in view.information_requests),
        "can": {
            "file": can_file(user, view),
            "withdraw": can_withdraw(user, view),
            "write": can_write(user, view),
            "take_charge": can_take_charge(user, view),
            "launch": can_launch(user, view),
            "request": can_request(user, view),
            "answer": can_answer(user, view),
            "close": can_close(user, view),
            "cycle": can_open_cycle(user, view),
            "hand_over": can_hand_over(user, view),
            "attach": can_attach(user, view),
            "chase": _is_referent(user, view),
        },
        "administrations": _administrations(session, view) if referent_actions else [],
        "referents": _referents(session, view) if can_hand_over(user, view) else [],
    }
    unit.request.state.reload_url = f"/dossiers/{dossier.id}"
    response = render(unit.request, "dossier.html", context, status=status)
    if seen.unread:
        unit.request.state.mark_read = (thread, seen.unread)
    return response


#: The tab a refused form is shown again on.
FORM_TABS: dict[str, Tab] = {
    "message": Tab.MESSAGES,
    "launch": Tab.CONSULTATIONS,
    "cycle": Tab.CONSULTATIONS,
    "attach": Tab.PIECES,
}


def _mark_read(request: Request, user_id: uuid.UUID) -> None:
    """Move the reader's marker on the thread the page showed (a short write of its own: the
    GET's transaction is read-only)."""
    marked = getattr(request.state, "mark_read", None)
    if marked is None:
        return
    thread, seq = marked
    mark_thread_read(request.app.state.database, user_id=user_id, thread=thread, seq=seq)


def _id(dossier_id: str) -> uuid.UUID:
    return parse_id(dossier_id, "Dossier")


@router.get_page("/dossiers/{dossier_id}", policy=READERS)
def show(
    request: Request, dossier_id: str, onglet: Tab | None = None, fait: Done | None = None
) -> Response:
    """One dossier: its status timeline, référent, administrations and deadlines, requests,
    pieces, messages and history, and the forms of what the user may do."""
    parsed = _id(dossier_id)
    with page_unit(request) as unit:
        response = dossier_page(unit, parsed, tab=onglet, done=fait)
        user_id = unit.signed_in.id
    _mark_read(request, user_id)
    return response


def _act(
    request: Request,
    dossier_id: str,
    form: Any,
    done: Done,
    action: Callable[[Page, uuid.UUID], object],
) -> Response:
    """Run one form's action in the page's unit of work, then back to the page (303); a
    refused form is shown again with its errors (422), in a read-only unit of its own."""
    parsed = _id(dossier_id)
    request.state.reload_url = f"/dossiers/{parsed}"
    try:
        with page_unit(request, form=form) as unit:
            action(unit, parsed)
    except FormRefused as refused:
        with page_unit(request, form=form) as unit:
            return dossier_page(unit, parsed, forms=refused.forms, status=422)
    return RedirectResponse(f"/dossiers/{parsed}?fait={done.value}", status_code=303)


ATTACHERS = allow(holder=Scope.OWN_ORGANISATION, referent=Scope.FILED)


@router.post_form("/dossiers/{dossier_id}/pieces", policy=ATTACHERS)
@limits.body_limit(uploads.CEILING)
async def attach_form(request: Request, dossier_id: str) -> Response:
    """Attach a file to the dossier (holder: a piece, or in answer to a request; its
    référent): the API's upload, read as it streams; a refused file is shown again on the
    page, under the file field."""
    parsed = _id(dossier_id)
    request.state.reload_url = f"/dossiers/{parsed}"
    settings: Settings = request.app.state.settings
    bounds = Limits.of(settings)

    def allowance() -> int:
        with page_unit(request, body_unread=True) as unit:
            return upload_allowance(
                unit.session, dossier_id=parsed, user=unit.signed_in, limits=bounds
            )

    limit = await run_in_threadpool(allowance)
    # ``suite=brouillon``: sent from the filing form's last step, which the holder goes back to.
    fields = {"piece": 32, "information_request_id": 64, "suite": 16}
    async with uploads.receive(request, limit=limit, fields=fields, file_required=True) as upload:
        if upload.error is not None:
            refused = Forms("attach", {"file": upload.error.message}, dict(upload.typed))
            status = upload.error.status_code

            def again() -> Response:
                # Read-only: the page is shown again, nothing is done (the body may have
                # stopped before its token).
                with page_unit(request, body_unread=True) as unit:
                    if upload.typed.get("suite") == "brouillon":
                        from api.pages.filing import Step, filing_page

                        return filing_page(
                            unit, Step.PIECES, dossier_id=parsed, forms=refused, status=status
                        )
                    return dossier_page(unit, parsed, tab=Tab.PIECES, forms=refused, status=status)

            return await run_in_threadpool(again)
        piece = api_uploads.piece_code(upload.form.get("piece"))
        request_id = api_uploads.optional_id(
            upload.form.get("information_request_id"), "information_request_id"
        )

        def act(stored: StoredFile | None) -> None:
            assert stored is not None  # file_required
            with page_unit(request, form=upload.form) as unit:
                record_document(
                    unit.session,
                    dossier_id=parsed,
                    stored=stored,
                    piece=piece,
                    information_request_id=request_id,
                    consultation_id=None,
                    user=unit.signed_in,
                    limits=bounds,
                    now=unit.now,
                )

        await uploads.store_then(request, upload.file, parsed, act)
        if upload.form.get("suite") == "brouillon":
            return RedirectResponse(f"/dossiers/{parsed}/brouillon?etape=pieces", status_code=303)
    return RedirectResponse(f"/dossiers/{parsed}?fait={Done.ATTACHED.value}", status_code=303)


REFERENT = allow(referent=Scope.FILED)
HOLDER = allow(holder=Scope.OWN_ORGANISATION)


@router.post_form("/dossiers/{dossier_id}/depot", policy=HOLDER)
def file_form(request: Request, dossier_id: str, form: FormDep) -> Response:
    """File the draft (holder)."""

    def act(unit: Page, parsed: uuid.UUID) -> None:
        dossiers.file_dossier(unit.session, dossier_id=parsed, user=unit.signed_in, now=unit.now)

    return _act(request, dossier_id, form, Done.FILED, act)


@router.post_form("/dossiers/{dossier_id}/prise-en-charge", policy=REFERENT)
def take_charge_form(request: Request, dossier_id: str, form: FormDep) -> Response:
    """Take the dossier in charge (référent)."""

    def act(unit: Page, parsed: uuid.UUID) -> None:
        dossiers.take_charge(unit.session, dossier_id=parsed, user=unit.signed_in, now=unit.now)

    return _act(request, dossier_id, form, Done.TAKEN, act)


@router.post_form("/dossiers/{dossier_id}/consultations", policy=REFERENT)
def launch_form(request: Request, dossier_id: str, form: FormDep) -> Response:
    """Consult the chosen administrations in parallel (référent)."""

    def act(unit: Page, parsed: uuid.UUID) -> None:
        chosen = validated("launch", LaunchIn, {"administrations": form.all("administrations")})
        if not chosen.administrations:
            raise FormRefused(
                Forms("launch", {"administrations": t("pages.dossier.launch.none_chosen")})
            )
        consultations.launch_consultations(
            unit.session,
            dossier_id=parsed,
            administrations=chosen.administrations,
            user=unit.signed_in,
            now=unit.now,
        )

    return _act(request, dossier_id, form, Done.LAUNCHED, act)


@router.post_form("/dossiers/{dossier_id}/demandes", policy=REFERENT)
def request_form(request: Request, dossier_id: str, form: FormDep) -> Response:
    """Ask the holder for information, for the dossier or relaying a consultation (référent)."""

    def act(unit: Page, parsed: uuid.UUID) -> None:
        pieces = [line.strip() for line in (form.get("pieces") or "").splitlines() if line.strip()]
        data = validated(
            "request",
            InformationRequestIn,
            {
                "message": form.get("message") or "",
                "pieces": pieces,
                "consultation_id": form.get("consultation_id") or None,
            },
        )
        request_information(
            unit.session, dossier_id=parsed, data=data, user=unit.signed_in, now=unit.now
        )

    return _act(request, dossier_id, form, Done.REQUESTED, act)


@router.post_form("/dossiers/{dossier_id}/demandes/{request_id}/reponse", policy=HOLDER)
def answer_form(request: Request, dossier_id: str, request_id: str, form: FormDep) -> Response:
    """Answer a request (holder)."""
    parsed_request = parse_id(request_id, "Demande")

    def act(unit: Page, parsed: uuid.UUID) -> None:
        access_dossier(unit.session, unit.signed_in, parsed)
        data = validated(f"answer-{request_id}", AnswerIn, {"message": form.get("message") or ""})
        answered = answer_information(
            unit.session,
            request_id=parsed_request,
            message=data.message,
            user=unit.signed_in,
            now=unit.now,
        )
        if answered.dossier_id != parsed:
            raise NotFound(t("pages.dossier.request_not_found"))

    return _act(request, dossier_id, form, Done.ANSWERED, act)


@router.post_form(
    "/dossiers/{dossier_id}/messages",
    policy=allow(holder=Scope.OWN_ORGANISATION, referent=Scope.FILED),
)
def message_form(request: Request, dossier_id: str, form: FormDep) -> Response:
    """Write on the dossier's thread (holder, référent)."""

    def act(unit: Page, parsed: uuid.UUID) -> None:
        data = validated("message", MessageIn, {"body": form.get("body") or ""})
        messages.post_dossier_message(
            unit.session, dossier_id=parsed, data=data, user=unit.signed_in, now=unit.now
        )

    return _act(request, dossier_id, form, Done.WRITTEN, act)


@router.post_form(
    "/dossiers/{dossier_id}/consultations/{consultation_id}/messages", policy=REFERENT
)
def chase_form(request: Request, dossier_id: str, consultation_id: str, form: FormDep) -> Response:
    """Write to a consulted administration on its consultation's thread: a question relayed,
    or a reminder before its deadline (its référent); its agents are notified."""
    parsed_consultation = parse_id(consultation_id, "Consultation")

    def act(unit: Page, parsed: uuid.UUID) -> None:
        dossier = access_dossier(unit.session, unit.signed_in, parsed)
        view = build_views(unit.session, [dossier], viewer=unit.signed_in)[0]
        if not _is_referent(unit.signed_in, view) or str(parsed_consultation) not in {
            c.id for c in view.consultations
        }:
            raise NotFound(t("pages.dossier.consultation_not_found"))
        data = validated(f"chase-{consultation_id}", MessageIn, {"body": form.get("body") or ""})
        messages.post_consultation_message(
            unit.session,
            consultation_id=parsed_consultation,
            data=data,
            user=unit.signed_in,
            now=unit.now,
        )

    return _act(request, dossier_id, form, Done.CHASED, act)


@router.post_form("/dossiers/{dossier_id}/retrait", policy=HOLDER)
def withdraw_form(request: Request, dossier_id: str, form: FormDep) -> Response:
    """Withdraw the dossier (holder)."""

    def act(unit: Page, parsed: uuid.UUID) -> None:
        data = validated("withdraw", WithdrawIn, {"reason": form.get("reason") or ""})
        consultations.withdraw_dossier(
            unit.session, dossier_id=parsed, reason=data.reason, user=unit.signed_in, now=unit.now
        )

    return _act(request, dossier_id, form, Done.WITHDRAWN, act)


@router.post_form(
    "/dossiers/{dossier_id}/referent", policy=allow(referent=Scope.FILED, manager=Scope.FILED)
)
def hand_over_form(request: Request, dossier_id: str, form: FormDep) -> Response:
    """Hand the dossier over to another référent (its référent, a manager)."""

    def act(unit: Page, parsed: uuid.UUID) -> None:
        data = validated(
            "hand_over",
            ReferentIn,
            {"email": form.get("email") or "", "reason": form.get("reason") or ""},
        )
        assignment.hand_over(
            unit.session,
            dossier_id=parsed,
            email=data.email,
            reason=data.reason,
            user=unit.signed_in,
            now=unit.now,
        )

    return _act(request, dossier_id, form, Done.HANDED_OVER, act)


@router.post_form("/dossiers/{dossier_id}/cloture", policy=REFERENT)
def close_form(request: Request, dossier_id: str, form: FormDep) -> Response:
    """Send the final letter and close (référent)."""

    def act(unit: Page, parsed: uuid.UUID) -> None:
        data = validated("close", CloseIn, {"message": form.get("message") or ""})
        dossiers.close_dossier(
            unit.session, dossier_id=parsed, message=data.message, user=unit.signed_in, now=unit.now
        )

    return _act(request, dossier_id, form, Done.CLOSED, act)


@router.post_form("/dossiers/{dossier_id}/cycles", policy=REFERENT)
def cycle_form(request: Request, dossier_id: str, form: FormDep) -> Response:
    """Open a new review cycle (référent)."""

    def act(unit: Page, parsed: uuid.UUID) -> None:
        data = validated(
            "cycle",
            CycleIn,
            {"administrations": form.all("administrations"), "message": form.get("message") or ""},
        )
        consultations.open_cycle(
            unit.session,
            dossier_id=parsed,
            administrations=data.administrations,
            message=data.message,
            user=unit.signed_in,
            now=unit.now,
        )

    return _act(request, dossier_id, form, Done.CYCLE, act)
