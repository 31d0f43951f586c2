"""A consultation's page: what the administration consulted reads and does.

``GET /consultations/{id}``: the dossier's essentials, the deadline with its badge and how it
was computed, the pieces, the thread with the platform, and the agent's actions as forms:
acknowledge, write to the référent (a question, or pieces to ask the holder for: only the
référent asks the holder, ``information.actions.request_information``), give the opinion with
an optional file. Who reads and who acts mirror ``api/routers/consultations.py``,
``messages.py`` and ``documents.py``; every post calls the same domain action as the API and
answers 303 back to the page with a success alert (``?fait=``). A refusal of the domain is
the French error page (409 with « Recharger la page »); a field the user must correct (a text
too short, a file too large or of a refused type) is shown on the page next to that field.

``GET /documents/{id}/contenu``: a document's file for a signed-in page user, through the
same ``access_document`` and with the same headers as the API's content route.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Any

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from accelerator.catalogue.models import Administration, Procedure
from accelerator.consultations import actions
from accelerator.consultations.access import access_consultation
from accelerator.consultations.queries import build_views
from accelerator.consultations.schemas import ConsultationOut, OpinionIn
from accelerator.consultations.status import (
    NATURE_LABELS,
    ConsultationStatus,
    OpinionNature,
    can_transition,
)
from accelerator.documents.actions import (
    Limits,
    StoredFile,
    give_opinion_with_file,
    opinion_allowance,
)
from accelerator.documents.filetypes import ACCEPTED_LABEL
from accelerator.documents.queries import access_document, consultation_documents
from accelerator.documents.schemas import DocumentOut
from accelerator.dossiers.models import Dossier
from accelerator.identity.models import Organisation, User
from accelerator.identity.roles import Role
from accelerator.messages import actions as messages
from accelerator.messages.models import MessageKind
from accelerator.messages.queries import consultation_thread, latest_messages
from accelerator.messages.schemas import MessageIn
from accelerator.shared.config import Settings
from accelerator.shared.errors import InvalidInput
from accelerator.shared.text import t
from accelerator.sla.definitions import ClockState
from accelerator.sla.models import Calendar, Clock
from accelerator.sla.queries import clock_timeline
from accelerator.sla.schemas import BudgetLeftOut
from api import limits
from api.deps import parse_id
from api.downloads import READERS as DOCUMENT_READERS
from api.downloads import document_answer
from api.pages import display, uploads
from api.pages.forms import FormRefused, Forms, field_errors
from api.pages.rendering import render
from api.pages.spaces import CONSULTATION_LEVELS, status_badge, target_badge
from api.pages.web import FormDep, Page, PageRouter, page_unit
from api.policies import Scope, allow
from api.unit_of_work import mark_thread_read

router = PageRouter(tags=["pages"])

#: As the API: ``GET /api/v1/consultations/{id}`` and its thread.
READERS = allow(
    agent=Scope.CONSULTED_ADMINISTRATION, referent=Scope.ANY, manager=Scope.ANY, admin=Scope.ANY
)
#: As the API: acknowledging and giving the opinion.
AGENTS = allow(agent=Scope.CONSULTED_ADMINISTRATION)
#: As the API: ``POST /api/v1/consultations/{id}/messages``.
WRITERS = allow(agent=Scope.CONSULTED_ADMINISTRATION, referent=Scope.ANY)

#: The latest messages of the thread the page shows.
THREAD_SHOWN = 50
#: The opinion's text: the API's bound (characters), in UTF-8 bytes.
OPINION_FIELDS = {"nature": 64, "text": 50_000 * 4}


class Done(StrEnum):
    """What the post before the page did (the success alert it shows)."""

    ACKNOWLEDGED = "accuse-reception"
    OPINION = "avis"
    MESSAGE = "message"


DONE_KEYS = {
    Done.ACKNOWLEDGED: "pages.consultation.done.acknowledged",
    Done.OPINION: "pages.consultation.done.opinion",
    Done.MESSAGE: "pages.consultation.done.message",
}


class Topic(StrEnum):
    """What an agent writes to the référent about (the first words of the message)."""

    QUESTION = "question"
    PIECES = "pieces"
    OTHER = "autre"


KIND_KEYS = {
    Topic.QUESTION: "pages.consultation.message.kind.question",
    Topic.PIECES: "pages.consultation.message.kind.pieces",
    Topic.OTHER: "pages.consultation.message.kind.other",
}
#: The words a message of each kind starts with, so that the référent reads what is asked.
KIND_PREFIXES = {
    Topic.QUESTION: "pages.consultation.message.prefix.question",
    Topic.PIECES: "pages.consultation.message.prefix.pieces",
}


#: How a message the platform relayed is marked in the thread.
RELAY_KEYS = {
    MessageKind.INFORMATION_REQUEST: "pages.consultation.thread.relayed_request",
    MessageKind.INFORMATION_ANSWER: "pages.consultation.thread.relayed_answer",
}


def _here(consultation_id: uuid.UUID) -> str:
    return f"/consultations/{consultation_id}"


def _zone(page: Page, code: str) -> str:
    zone = page.session.scalar(
        select(Calendar.timezone)
        .join(Administration, Administration.calendar_code == Calendar.code)
        .where(Administration.code == code)
    )
    return zone or "Europe/Paris"


def _running_target(view: ConsultationOut) -> dt.datetime | None:
    """The internal target's deadline while it runs."""
    if view.target is None or view.target.state != ClockState.RUNNING:
        return None
    return _parse(view.target.due_at)


def _left(view: ConsultationOut) -> BudgetLeftOut | None:
    """What the consultation's deadline will count from the holder's answer, while paused."""
    return view.clock.left_on_resume if view.clock else None


def _parse(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _deadline(page: Page, view: ConsultationOut, zone: str) -> dict[str, Any]:
    """The deadline, its badge, the internal target and how the deadline was computed."""
    paused = view.status == ConsultationStatus.AWAITING_INFORMATION or (
        view.clock is not None and view.clock.state == ClockState.PAUSED
    )
    open_ = view.clock is not None and view.clock.state != ClockState.STOPPED
    due = _parse(view.due_at)
    explanation: list[str] = []
    plain = ""
    if view.clock is not None:
        clock = page.session.get_one(Clock, uuid.UUID(view.clock.id))
        timeline = clock_timeline(page.session, clock, now=page.now)
        plain, explanation = timeline.for_holder, timeline.explanation
    return {
        "due": "" if paused else display.deadline(due, zone),
        "badge": display.deadline_badge(
            due, now=page.now, zone=zone, paused=paused, left=_left(view)
        )
        if open_
        else None,
        "budget": view.clock.budget if view.clock else "",
        "silence": view.silence_outcome,
        "target": target_badge(_running_target(view), zone, page.now) if open_ else None,
        "plain": plain,
        "steps": explanation,
    }


def _document_row(document: DocumentOut) -> dict[str, str]:
    return {
        "href": f"/documents/{document.id}/contenu",
        "name": document.filename,
        "piece": document.piece or "",
        "size": _size(document.size),
        "at": display.instant(_parse(document.uploaded_at)),
    }


def _size(size: int) -> str:
    if size >= 1 << 20:
        return f"{size / (1 << 20):.1f} Mo".replace(".", ",")
    if size >= 1 << 10:
        return f"{size / (1 << 10):.0f} Ko"
    return f"{size} o"


def _page(
    request: Request,
    page: Page,
    consultation_id: uuid.UUID,
    *,
    done: Done | None = None,
    forms: Forms | None = None,
) -> tuple[Response, int]:
    """The page, and the thread's latest message number if the reader had not read it."""
    forms = forms or Forms()
    session, user = page.session, page.signed_in
    consultation = access_consultation(session, user, consultation_id)
    view = build_views(session, [consultation])[0]
    # In the identity map since build_views: no query.
    dossier = session.get_one(Dossier, consultation.dossier_id)
    zone = _zone(page, consultation.administration_code)
    organisation = session.get(Organisation, dossier.organisation_id)
    procedures = dict(
        session.execute(
            select(Procedure.code, Procedure.label).where(Procedure.code.in_(dossier.procedures))
        ).all()
    )
    documents = consultation_documents(session, user, consultation)
    thread = consultation_thread(consultation.id)
    seen = latest_messages(session, user, dossier=dossier, thread=thread, shown=THREAD_SHOWN)
    role = Role(user.role)
    status = ConsultationStatus(consultation.status)
    agent = role is Role.AGENT
    context = {
        "consultation": view,
        "here": _here(consultation.id),
        "status": status_badge(view.status_label, CONSULTATION_LEVELS.get(view.status)),
        "dossier": {
            "reference": view.dossier.reference or "",
            "title": view.dossier.title,
            "description": view.dossier.description,
            "commune": view.dossier.commune_name or view.dossier.commune_insee,
            "organisation": organisation.name if organisation else "",
            "procedures": [
                {"code": code, "label": procedures.get(code, code)}
                for code in view.dossier.procedures
            ],
            "referent": view.dossier.referent,
        },
        "sent_at": display.instant(_parse(view.sent_at)),
        "acknowledged_at": display.instant(_parse(view.acknowledged_at)),
        "answered_at": display.instant(_parse(view.answered_at)),
        "deadline": _deadline(page, view, zone),
        "opinion": {
            "nature": NATURE_LABELS[OpinionNature(view.opinion.nature)],
            "tacit": view.opinion.tacit,
            "text": view.opinion.text or "",
        }
        if view.opinion
        else None,
        "pieces": [_document_row(d) for d in documents.pieces],
        "from_platform": [_document_row(d) for d in documents.from_platform],
        "opinion_documents": [_document_row(d) for d in documents.opinion],
        "messages": [
            {
                "author": m.author.name,
                "body": m.body,
                "at": display.instant(_parse(m.sent_at)),
                "mine": m.author.email == user.email,
                "relay": t(RELAY_KEYS[m.kind]) if m.kind in RELAY_KEYS else "",
                "documents": [_document_row(d) for d in m.documents],
            }
            for m in seen.messages
        ],
        "earlier_messages": max(0, seen.latest - THREAD_SHOWN),
        "can_acknowledge": agent and can_transition(status, ConsultationStatus.ACKNOWLEDGED),
        "can_give_opinion": agent and can_transition(status, ConsultationStatus.ANSWERED),
        "can_write": role in (Role.AGENT, Role.REFERENT),
        "natures": [{"value": n.value, "label": NATURE_LABELS[n]} for n in OpinionNature],
        "kinds": [{"value": k.value, "label": t(KIND_KEYS[k])} for k in Topic],
        "accepted": ACCEPTED_LABEL,
        "max_size": limits.describe(page.settings.max_document_bytes),
        "done": t(DONE_KEYS[done]) if done else "",
        "errors": forms.errors,
        "typed": forms.values,
    }
    return render(
        request, "consultation.html", context, status=forms.status if forms.name else 200
    ), seen.unread


def _mark_read(request: Request, user: User, consultation_id: uuid.UUID, seq: int) -> None:
    """The reader's marker moved to the latest message shown, in a short write of its own
    (the page's transaction is read-only), as the API's thread does."""
    mark_thread_read(
        request.app.state.database,
        user_id=user.id,
        thread=consultation_thread(consultation_id),
        seq=seq,
    )


def _show(
    request: Request, consultation_id: uuid.UUID, *, done: Done | None, forms: Forms | None
) -> Response:
    with page_unit(request, body_unread=True) as unit:
        response, unread = _page(request, unit, consultation_id, done=done, forms=forms)
        user = unit.signed_in
    if unread:
        _mark_read(request, user, consultation_id, unread)
    return response


@router.get_page("/consultations/{consultation_id}", policy=READERS)
def consultation_page(request: Request, consultation_id: str, fait: Done | None = None) -> Response:
    """The consultation: the dossier, the deadline and its computation, the pieces, the
    thread, and what the agent may do."""
    return _show(request, parse_id(consultation_id, "Consultation"), done=fait, forms=None)


def _done(consultation_id: uuid.UUID, done: Done) -> RedirectResponse:
    return RedirectResponse(f"{_here(consultation_id)}?fait={done.value}", status_code=303)


@router.post_form("/consultations/{consultation_id}/accuse-reception", policy=AGENTS)
def acknowledge(request: Request, consultation_id: str, form: FormDep) -> Response:
    """Acknowledge receipt (``consultations.actions.acknowledge``)."""
    parsed = parse_id(consultation_id, "Consultation")
    request.state.reload_url = _here(parsed)
    with page_unit(request, form=form) as unit:
        actions.acknowledge(unit.session, consultation_id=parsed, user=unit.signed_in, now=unit.now)
    return _done(parsed, Done.ACKNOWLEDGED)


@router.post_form("/consultations/{consultation_id}/messages", policy=WRITERS)
def write(request: Request, consultation_id: str, form: FormDep) -> Response:
    """Write to the platform on the consultation's thread
    (``messages.actions.post_consultation_message``)."""
    parsed = parse_id(consultation_id, "Consultation")
    request.state.reload_url = _here(parsed)
    typed = {"kind": form.get("kind") or "", "body": form.get("body") or ""}
    with page_unit(request, form=form) as unit:
        try:
            kind = Topic(typed["kind"] or Topic.OTHER)
        except ValueError:
            kind = None
        try:
            if kind is None:
                raise InvalidInput(t("pages.consultation.message.kind_unknown"))
            body = typed["body"].strip()
            prefix = t(KIND_PREFIXES[kind]) if kind in KIND_PREFIXES and body else ""
            data = MessageIn.model_validate({"body": prefix + body})
        except ValidationError as error:
            forms = Forms("message", field_errors(error, general="body"), typed)
        except InvalidInput as error:
            forms = Forms("message", {"kind": error.message}, typed)
        else:
            messages.post_consultation_message(
                unit.session, consultation_id=parsed, data=data, user=unit.signed_in, now=unit.now
            )
            return _done(parsed, Done.MESSAGE)
    return _show(request, parsed, done=None, forms=forms)


@router.post_form("/consultations/{consultation_id}/avis", policy=AGENTS)
@limits.body_limit(uploads.CEILING)
async def give_opinion(request: Request, consultation_id: str) -> Response:
    """Give the administration's opinion, with an optional file
    (``documents.actions.give_opinion_with_file``: ``consultations.actions.give_opinion``
    and the file recorded as the opinion's)."""
    parsed = parse_id(consultation_id, "Consultation")
    request.state.reload_url = _here(parsed)
    settings: Settings = request.app.state.settings
    bounds = Limits.of(settings)

    def allowance() -> tuple[int, uuid.UUID]:
        with page_unit(request, body_unread=True) as unit:
            limit = opinion_allowance(
                unit.session, consultation_id=parsed, user=unit.signed_in, limits=bounds
            )
            consultation = access_consultation(unit.session, unit.signed_in, parsed)
            return limit, consultation.dossier_id

    # Who posts, whether they may, and how much the file may weigh: before the body is read.
    limit, dossier_id = await run_in_threadpool(allowance)
    async with uploads.receive(request, limit=limit, fields=OPINION_FIELDS) as upload:
        typed = {k: upload.typed.get(k, "") for k in ("nature", "text")}
        if upload.error is not None:
            forms = Forms(
                "opinion", {"file": upload.error.message}, typed, upload.error.status_code
            )
            return await run_in_threadpool(_show, request, parsed, done=None, forms=forms)
        try:
            data = OpinionIn.model_validate({"nature": typed["nature"], "text": typed["text"]})
        except ValidationError as error:
            forms = Forms("opinion", field_errors(error, general="nature"), typed)
            return await run_in_threadpool(_show, request, parsed, done=None, forms=forms)

        def record(stored: StoredFile | None) -> None:
            with page_unit(request, form=upload.form) as unit:
                try:
                    give_opinion_with_file(
                        unit.session,
                        consultation_id=parsed,
                        nature=data.nature,
                        text=data.text,
                        stored=stored,
                        user=unit.signed_in,
                        limits=bounds,
                        now=unit.now,
                    )
                except InvalidInput as error:
                    # The domain's own check of the text (an unfavourable opinion explained):
                    # raised on, so that the transaction and the stored file are undone.
                    raise FormRefused(Forms("opinion", {"text": error.message}, typed)) from None

        try:
            await uploads.store_then(request, upload.file, dossier_id, record)
        except FormRefused as refused:
            return await run_in_threadpool(_show, request, parsed, done=None, forms=refused.forms)
    return _done(parsed, Done.OPINION)


@router.get_page("/documents/{document_id}/contenu", policy=DOCUMENT_READERS)
def document_content(request: Request, document_id: str) -> Response:
    """A document's file, as the API's content route serves it (attachment, stored type,
    ``nosniff``), for whoever may read it (``documents.queries.access_document``)."""
    parsed = parse_id(document_id, "Document")
    with page_unit(request) as unit:
        document = access_document(unit.session, unit.signed_in, parsed)
        return document_answer(request, document)
