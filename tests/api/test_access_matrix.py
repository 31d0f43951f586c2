"""The access matrix: every route, as every role, against objects each role must not reach.

Each route's declared policy (``api/policies.py``) must equal this file's own reading of the
"Actors" table of docs/domain.md (``EXPECTED``), and the app must answer accordingly:

- anonymous: 401 on every route that is not public;
- a caller who may not know the object exists: 403 or 404, and exactly the answer given for
  an id that does not exist (so the answer reveals nothing);
- a caller who sees the object but may not act on it: 403;
- a caller the policy allows: neither 401, 403, 404 nor a server error, and the answer holds
  no other party's object, no webhook secret, no password hash.

A refused call changes nothing: every table is compared before and after it. A route served
without a declared policy, or missing from ``EXPECTED``, fails the test.

``pytest tests/api/test_access_matrix.py -s`` prints the matrix (docs/security.md).
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from accelerator.consultations.models import Consultation
from accelerator.documents.models import Document
from accelerator.dossiers.models import Dossier
from accelerator.identity.models import User
from accelerator.information.models import InformationRequest
from accelerator.shared.db import Base, utcnow
from accelerator.sla.models import Clock
from accelerator.webhooks import targets
from accelerator.webhooks.actions import create_subscription
from accelerator.webhooks.models import WebhookDelivery, WebhookSubscription
from api import pages, policies
from api.policies import Policy, Scope
from tests import samples
from tests.api.conftest import HOTEL, PASSWORD, Api, file_and_launch
from tests.writes import writes

pytestmark = pytest.mark.usefixtures("prefect_engine", "public_hooks_host")


@pytest.fixture
def public_hooks_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """The subscribers' host resolves to a public address (no DNS here); nothing is sent to
    it: the matrix drains no webhook after the subscriptions exist."""
    import ipaddress

    def resolve(host: str, port: int) -> list[Any]:
        return [ipaddress.ip_address("8.8.8.8")] if host == "hooks.example.org" else []

    monkeypatch.setattr(targets, "resolve", resolve)


H, R, AG, M, AD = "holder", "referent", "agent", "manager", "admin"
PUBLIC = "public"

#: Who may call what, read from docs/domain.md ("Actors"), independently of the code's policies.
#: holder: its own organisation's dossiers; never talks to administrations directly.
#: referent: the platform works as a team (every filed dossier); the dossier's référent acts.
#: agent: its administration's consultations only; no dossier of its own.
#: manager: reads; edits no opinion.  admin: catalogue, calendars, platform subscriptions.
EXPECTED: dict[str, str | dict[str, Scope]] = {
    "GET /healthz": PUBLIC,
    "GET /openapi.json": PUBLIC,
    "GET /docs": PUBLIC,
    "GET /docs/assets/{name}": PUBLIC,
    "GET /redoc": PUBLIC,
    "GET /metrics": {AD: Scope.ANY},  # or a scraper's token (ACCELERATOR_METRICS_TOKEN), no role
    "POST /api/v1/auth/token": PUBLIC,
    "POST /api/v1/dossiers": {H: Scope.ANY},
    "GET /api/v1/dossiers": dict.fromkeys((H, R, AG, M, AD), Scope.VISIBLE),
    "GET /api/v1/dossiers/{dossier_id}": {
        H: Scope.OWN_ORGANISATION,
        R: Scope.FILED,
        M: Scope.FILED,
        AD: Scope.FILED,
    },
    "PATCH /api/v1/dossiers/{dossier_id}": {H: Scope.OWN_ORGANISATION},
    "POST /api/v1/dossiers/{dossier_id}/file": {H: Scope.OWN_ORGANISATION},
    "POST /api/v1/dossiers/{dossier_id}/take-charge": {R: Scope.FILED},
    "POST /api/v1/dossiers/{dossier_id}/consultations": {R: Scope.DOSSIER_REFERENT},
    "POST /api/v1/dossiers/{dossier_id}/close": {R: Scope.DOSSIER_REFERENT},
    "POST /api/v1/dossiers/{dossier_id}/cycles": {R: Scope.DOSSIER_REFERENT},
    "POST /api/v1/dossiers/{dossier_id}/referent": {R: Scope.DOSSIER_REFERENT, M: Scope.FILED},
    "POST /api/v1/dossiers/{dossier_id}/withdraw": {H: Scope.OWN_ORGANISATION},
    "POST /api/v1/dossiers/{dossier_id}/information-requests": {R: Scope.DOSSIER_REFERENT},
    "POST /api/v1/information-requests/{request_id}/answer": {H: Scope.OWN_ORGANISATION},
    "GET /api/v1/consultations": dict.fromkeys((R, AG, M, AD), Scope.VISIBLE),
    "GET /api/v1/consultations/{consultation_id}": {
        AG: Scope.CONSULTED_ADMINISTRATION,
        R: Scope.ANY,
        M: Scope.ANY,
        AD: Scope.ANY,
    },
    "POST /api/v1/consultations/{consultation_id}/acknowledge": {
        AG: Scope.CONSULTED_ADMINISTRATION
    },
    "POST /api/v1/consultations/{consultation_id}/opinion": {AG: Scope.CONSULTED_ADMINISTRATION},
    "GET /api/v1/clocks/{clock_id}": {
        H: Scope.OWN_ORGANISATION,
        R: Scope.FILED,
        AG: Scope.CONSULTED_ADMINISTRATION,
        M: Scope.FILED,
        AD: Scope.FILED,
    },
    "GET /api/v1/clocks/{clock_id}/timeline": {
        H: Scope.OWN_ORGANISATION,
        R: Scope.FILED,
        AG: Scope.CONSULTED_ADMINISTRATION,
        M: Scope.FILED,
        AD: Scope.FILED,
    },
    "GET /api/v1/deadline": dict.fromkeys((H, R, AG, M, AD), Scope.ANY),
    "GET /api/v1/between": dict.fromkeys((H, R, AG, M, AD), Scope.ANY),
    "GET /api/v1/calendars": dict.fromkeys((H, R, AG, M, AD), Scope.ANY),
    "POST /api/v1/calendars/{code}/overrides": {AD: Scope.ANY},
    "PUT /api/v1/calendars/{code}/week": {AD: Scope.ANY},
    "POST /api/v1/clocks/reproject": {AD: Scope.ANY},
    "POST /api/v1/catalogue/communes": {AD: Scope.ANY},
    "POST /api/v1/dossiers/{dossier_id}/documents": {
        H: Scope.OWN_ORGANISATION,
        R: Scope.DOSSIER_REFERENT,
    },
    "GET /api/v1/dossiers/{dossier_id}/documents": {
        H: Scope.OWN_ORGANISATION,
        R: Scope.FILED,
        M: Scope.FILED,
        AD: Scope.FILED,
    },
    "GET /api/v1/consultations/{consultation_id}/documents": {
        AG: Scope.CONSULTED_ADMINISTRATION,
        R: Scope.ANY,
        M: Scope.ANY,
        AD: Scope.ANY,
    },
    # Agents read the documents of the dossiers their administration is consulted on (and
    # those attached to their own consultation), never the dossier itself.
    "GET /api/v1/documents/{document_id}": {
        H: Scope.OWN_ORGANISATION,
        R: Scope.FILED,
        AG: Scope.CONSULTED_DOSSIER,
        M: Scope.FILED,
        AD: Scope.FILED,
    },
    "GET /api/v1/documents/{document_id}/content": {
        H: Scope.OWN_ORGANISATION,
        R: Scope.FILED,
        AG: Scope.CONSULTED_DOSSIER,
        M: Scope.FILED,
        AD: Scope.FILED,
    },
    "GET /api/v1/procedures": dict.fromkeys((H, R, AG, M, AD), Scope.ANY),
    # The single window: the holder talks to the platform, never to an administration.
    "POST /api/v1/dossiers/{dossier_id}/messages": {H: Scope.OWN_ORGANISATION, R: Scope.FILED},
    "GET /api/v1/dossiers/{dossier_id}/messages": {
        H: Scope.OWN_ORGANISATION,
        R: Scope.FILED,
        M: Scope.FILED,
        AD: Scope.FILED,
    },
    "POST /api/v1/consultations/{consultation_id}/messages": {
        AG: Scope.CONSULTED_ADMINISTRATION,
        R: Scope.ANY,
    },
    "GET /api/v1/consultations/{consultation_id}/messages": {
        AG: Scope.CONSULTED_ADMINISTRATION,
        R: Scope.ANY,
        M: Scope.ANY,
        AD: Scope.ANY,
    },
    "GET /api/v1/messages/unread": dict.fromkeys((H, R, AG, M, AD), Scope.VISIBLE),
    # The managers' figures: aggregates by administration, never by agent (issue 13).
    "GET /api/v1/metrics/summary": {M: Scope.ANY, AD: Scope.ANY},
    "GET /api/v1/metrics/forecast": {M: Scope.ANY, AD: Scope.ANY},
    "GET /api/v1/metrics/heatmap": {M: Scope.ANY, AD: Scope.ANY},
    "GET /api/v1/metrics/procedures": {M: Scope.ANY, AD: Scope.ANY},
    **{
        f"GET /api/v1/metrics/{name}.csv": {M: Scope.ANY, AD: Scope.ANY}
        for name in (
            "take-charge",
            "procedures",
            "administrations",
            "gating",
            "parallel-gain",
            "work-in-progress",
            "flow",
            "cohorts",
            "heatmap",
            "calibration",
            "forecast",
        )
    },
    # The weekly review pack (PDF, HTML): the same figures, the same readers.
    "GET /api/v1/metrics/packs/{week}.pdf": {M: Scope.ANY, AD: Scope.ANY},
    "GET /api/v1/metrics/packs/{week}.html": {M: Scope.ANY, AD: Scope.ANY},
    "POST /api/v1/webhooks": {AG: Scope.ANY, AD: Scope.ANY},
    "GET /api/v1/webhooks": {AG: Scope.VISIBLE, AD: Scope.VISIBLE},
    "PATCH /api/v1/webhooks/{subscription_id}": {AG: Scope.OWN_ADMINISTRATION, AD: Scope.ANY},
    "DELETE /api/v1/webhooks/{subscription_id}": {AG: Scope.OWN_ADMINISTRATION, AD: Scope.ANY},
    "GET /api/v1/webhooks/{subscription_id}/deliveries": {
        AG: Scope.OWN_ADMINISTRATION,
        AD: Scope.ANY,
    },
    "POST /api/v1/webhooks/{subscription_id}/deliveries/{delivery_id}/replay": {
        AG: Scope.OWN_ADMINISTRATION,
        AD: Scope.ANY,
    },
}

#: FastAPI's own pages: the OpenAPI document and its viewers, public and holding no data.
DOCUMENTATION = {"/openapi.json", "/docs", "/docs/assets/{name}", "/redoc"}

#: A valid request body or query per route, so a refusal is about access, never about input.
BODIES: dict[str, Any] = {
    "POST /api/v1/auth/token": {"email": "holder@test.fr", "password": PASSWORD},
    "POST /api/v1/dossiers": HOTEL,
    "POST /api/v1/dossiers/{dossier_id}/consultations": {"administrations": ["DDT-65"]},
    "POST /api/v1/dossiers/{dossier_id}/close": {"message": "Réponse consolidée : favorable."},
    "POST /api/v1/dossiers/{dossier_id}/cycles": {
        "administrations": ["DDT-65"],
        "message": "Le porteur a modifié son projet.",
    },
    "POST /api/v1/dossiers/{dossier_id}/referent": {
        "email": "referent2@test.fr",
        "reason": "Absence prolongée.",
    },
    "POST /api/v1/dossiers/{dossier_id}/withdraw": {"reason": "Projet abandonné."},
    "PATCH /api/v1/dossiers/{dossier_id}": {"title": "Extension de l'hôtel (version 2)"},
    "POST /api/v1/dossiers/{dossier_id}/information-requests": {
        "message": "Merci de joindre le plan de masse.",
        "pieces": ["PC2"],
    },
    "POST /api/v1/information-requests/{request_id}/answer": {"message": "Plan joint."},
    "POST /api/v1/consultations/{consultation_id}/opinion": {"nature": "favourable"},
    "POST /api/v1/dossiers/{dossier_id}/messages": {"body": "Bonjour.", "document_ids": []},
    "POST /api/v1/consultations/{consultation_id}/messages": {"body": "Bonjour."},
    "POST /api/v1/calendars/{code}/overrides": {
        "date": "2031-05-30",
        "name": "Pont de l'Ascension",
        "hours": [],
    },
    "PUT /api/v1/calendars/{code}/week": {
        "weekly": {"1": [["09:00", "17:00"]], "2": [["09:00", "17:00"]]},
    },
    "POST /api/v1/clocks/reproject": {},
    "PATCH /api/v1/webhooks/{subscription_id}": {"active": False},
    "POST /api/v1/webhooks": {
        "url": "https://hooks.example.org/accelerator",
        "events": ["consultation.created"],
    },
}
#: Bodies that are not JSON: (content type, content). The COG row is Cauterets as the
#: catalogue already has it, so an allowed load changes nothing for the next tests.
RAW_BODIES: dict[str, tuple[str, str | bytes]] = {
    "POST /api/v1/catalogue/communes": (
        "text/csv",
        "TYPECOM,COM,REG,DEP,CTCD,ARR,TNCC,NCC,NCCENR,LIBELLE,CAN,COMPARENT\n"
        "COM,65138,76,65,65D,651,0,CAUTERETS,Cauterets,Cauterets,6508,\n",
    ),
    "POST /api/v1/dossiers/{dossier_id}/documents": (
        samples.form(("plan.pdf", samples.PDF), boundary="matrix")[1]["Content-Type"],
        samples.form(("plan.pdf", samples.PDF), boundary="matrix")[0],
    ),
}
QUERIES: dict[str, dict[str, str]] = {
    "GET /api/v1/deadline": {"calendar": "FR", "start": "2026-03-02T09:00", "add": "2 months"},
    "GET /api/v1/between": {
        "calendar": "FR",
        "start": "2026-03-02T09:00",
        "end": "2026-03-20T09:00",
        "unit": "business_days",
    },
}

#: Who probes, as which account (``None``: no token).
PROBES: dict[str, str | None] = {
    "anonymous": None,
    "holder": "holder@test.fr",
    "other holder": "holder2@test.fr",
    "referent": "referent@test.fr",
    "other referent": "referent2@test.fr",
    "agent": "agent.udap-65@test.fr",
    "other agent": "agent.dreal-occ@test.fr",
    "manager": "manager@test.fr",
    "admin": "admin@test.fr",
}

#: Which kind of object a path parameter names.
KINDS = {
    "dossier_id": "dossier",
    "consultation_id": "consultation",
    "clock_id": "clock",
    "request_id": "request",
    "document_id": "document",
    "subscription_id": "subscription",
    "code": "calendar",
    "name": "asset",
    "week": "week",
}


def route_key(method: str, path: str) -> str:
    """``"GET /api/v1/dossiers/{dossier_id}"``."""
    return f"{method} {path}"


def declared(app: FastAPI) -> tuple[dict[str, Policy | str], list[str]]:
    """Every route the app serves with its declared policy, and those without one."""
    found: dict[str, Policy | str] = {}
    missing: list[str] = []
    for served in policies.served_routes(app):
        if pages.is_pages_route(served.route):
            # The pages (cookie sessions, HTML) and their static files have their own matrix:
            # tests/pages/test_page_access.py.
            continue
        if not isinstance(served.route, APIRoute):
            if served.path in DOCUMENTATION:
                found[route_key("GET", served.path)] = PUBLIC
            else:
                missing.append(f"{type(served.route).__name__} {served.path}")
            continue
        policy = policies.policy_of(served.route)
        for method in sorted(served.methods):
            if policy is None:
                missing.append(route_key(method, served.path))
            else:
                found[route_key(method, served.path)] = policy
    return found, missing


def as_expected(policy: Policy | str) -> str | dict[str, Scope]:
    """A declared policy in ``EXPECTED``'s form."""
    if isinstance(policy, str) or policy.public:
        return PUBLIC
    return {role.value: scope for role, scope in policy.scopes}


# --- The world: two organisations' dossiers at several stages, and what hangs off them ---


@dataclass(frozen=True)
class Target:
    """An object a route's path names."""

    name: str
    kind: str
    id: str
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Facts:
    """What the rules need to know about an object, read from the database at probe time."""

    kind: str
    #: Deleted by an allowed call made earlier: nobody may learn it existed.
    gone: bool = False
    organisation_id: uuid.UUID | None = None
    draft: bool = False
    referent_id: uuid.UUID | None = None
    administration: str | None = None
    consulted: frozenset[str] = frozenset()
    #: An internal target of the platform (not law): never shown to holders (docs/domain.md).
    internal_target: bool = False


@dataclass(frozen=True)
class Caller:
    """A probing account."""

    name: str
    role: str | None
    user_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None
    administration: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def facts_of(session: Session, kind: str, object_id: str) -> Facts:
    """The facts of one object (of the world, or one an allowed call created)."""
    if kind in ("calendar", "asset", "week"):
        return Facts(kind)
    key = uuid.UUID(object_id)
    if kind == "subscription":
        subscription = session.get(WebhookSubscription, key)
        if subscription is None:
            return Facts(kind, gone=True)
        return Facts(kind, administration=subscription.administration_code)
    administration, internal_target = None, False
    if kind == "dossier":
        dossier_id = key
    elif kind == "consultation":
        consultation = session.get_one(Consultation, key)
        dossier_id, administration = consultation.dossier_id, consultation.administration_code
    elif kind == "clock":
        clock = session.get_one(Clock, key)
        dossier_id = clock.dossier_id
        internal_target = clock.kind == "consultation_target"
        if clock.consultation_id is not None:
            administration = session.get_one(
                Consultation, clock.consultation_id
            ).administration_code
    elif kind == "document":
        document = session.get_one(Document, key)
        dossier_id = document.dossier_id
        if document.consultation_id is not None:
            administration = session.get_one(
                Consultation, document.consultation_id
            ).administration_code
    elif kind == "request":
        request = session.get_one(InformationRequest, key)
        dossier_id = request.dossier_id
        if request.consultation_id is not None:
            administration = session.get_one(
                Consultation, request.consultation_id
            ).administration_code
    else:  # pragma: no cover - a new kind needs its facts
        raise AssertionError(f"Unknown object kind {kind}")
    dossier = session.get_one(Dossier, dossier_id)
    consulted = frozenset(
        session.scalars(
            select(Consultation.administration_code).where(Consultation.dossier_id == dossier.id)
        )
    )
    return Facts(
        kind,
        organisation_id=dossier.organisation_id,
        draft=dossier.status == "draft",
        referent_id=dossier.referent_id,
        administration=administration,
        consulted=consulted,
        internal_target=internal_target,
    )


def sees(caller: Caller, facts: Facts | None) -> bool:
    """Whether ``caller`` may know the object exists (docs/domain.md, "Actors")."""
    if facts is None or facts.kind in ("calendar", "asset", "week"):
        return True
    if facts.gone:
        return False
    role = caller.role
    if facts.kind == "subscription":
        return role == AD or (role == AG and facts.administration == caller.administration)
    if facts.kind == "document":
        # A document of the dossier, or of one consultation (its administration's and the
        # platform's only).
        if role == H:
            return facts.administration is None and facts.organisation_id == caller.organisation_id
        if role == AG:
            return caller.administration in facts.consulted and facts.administration in (
                None,
                caller.administration,
            )
        return not facts.draft
    if role == H:
        # Holders never deal with administrations directly: no consultation of their own.
        # Nor do they see the platform's internal targets, only legal deadlines.
        return (
            facts.kind != "consultation"
            and not facts.internal_target
            and facts.organisation_id == caller.organisation_id
        )
    if role == AG:
        return (
            facts.kind in ("consultation", "clock")
            and facts.administration == caller.administration
        )
    # The platform's staff see every filed dossier and what hangs off it; drafts stay private.
    return not facts.draft


def reaches(caller: Caller, scope: Scope, facts: Facts | None) -> bool:
    """Whether ``scope`` covers this object for ``caller``."""
    if scope in (Scope.ANY, Scope.VISIBLE) or facts is None:
        return True
    if scope is Scope.OWN_ORGANISATION:
        return facts.organisation_id is not None and facts.organisation_id == caller.organisation_id
    if scope is Scope.FILED:
        return not facts.draft
    if scope is Scope.DOSSIER_REFERENT:
        return facts.referent_id is not None and facts.referent_id == caller.user_id
    if scope is Scope.CONSULTED_DOSSIER:
        return caller.administration in facts.consulted and facts.administration in (
            None,
            caller.administration,
        )
    if scope in (Scope.CONSULTED_ADMINISTRATION, Scope.OWN_ADMINISTRATION):
        return facts.administration is not None and facts.administration == caller.administration
    raise AssertionError(f"Scope {scope} has no rule in this test")  # pragma: no cover


def foreign(caller: Caller, facts: Facts) -> bool:
    """Whether an object is another party's: its id must appear in none of ``caller``'s answers."""
    role = caller.role
    if role is None:
        return True
    if facts.kind in ("subscription", "document"):
        return not sees(caller, facts)
    if role == H:
        return facts.organisation_id != caller.organisation_id
    if role == AG:
        if facts.kind == "dossier":
            return caller.administration not in facts.consulted
        return facts.administration != caller.administration
    return facts.draft


@dataclass
class World:
    """The objects probed, by kind, and the callers."""

    targets: dict[str, list[Target]]
    callers: list[Caller]


def _sign_in(client: TestClient, email: str) -> dict[str, str]:
    return Api(client, email).headers


@pytest.fixture
def world(client: TestClient, api: Callable[[str], Api], db: Any) -> World:
    """Dossiers of two organisations at several stages, consultations of three
    administrations, clocks, information requests, webhook subscriptions and deliveries."""
    from workflows.relay import drain

    holder, holder2 = api("holder@test.fr"), api("holder2@test.fr")
    referent, referent2 = api("referent@test.fr"), api("referent2@test.fr")

    consulting = file_and_launch(api, ["UDAP-65", "SDIS-65"])
    draft = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    filed = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    taken = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    waiting = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    other = holder2.post("/api/v1/dossiers", 201, json={**HOTEL, "title": "Thermes de Lourdes"})
    for dossier in (filed, taken, waiting):
        holder.post(f"/api/v1/dossiers/{dossier['id']}/file")
    holder2.post(f"/api/v1/dossiers/{other['id']}/file")
    drain()
    for dossier in (taken, waiting):
        referent.post(f"/api/v1/dossiers/{dossier['id']}/take-charge")
    referent2.post(f"/api/v1/dossiers/{other['id']}/take-charge")
    referent2.post(
        f"/api/v1/dossiers/{other['id']}/consultations",
        202,
        json={"administrations": ["DREAL-OCC"]},
    )
    drain()
    ask = "Merci de joindre l'étude de sol."
    on_dossier = referent.post(
        f"/api/v1/dossiers/{waiting['id']}/information-requests", 201, json={"message": ask}
    )["information_requests"][0]
    sdis = next(c for c in consulting["consultations"] if c["administration"] == "SDIS-65")
    udap = next(c for c in consulting["consultations"] if c["administration"] == "UDAP-65")
    relayed = referent.post(
        f"/api/v1/dossiers/{consulting['id']}/information-requests",
        201,
        json={"message": ask, "consultation_id": sdis["id"]},
    )["information_requests"]
    on_consultation = next(r for r in relayed if r["consultation_id"] == sdis["id"])
    drain()

    def attach(who: Api, dossier: dict[str, Any], name: str, **fields: str) -> str:
        body, headers = samples.form((name, samples.PDF), **fields)
        path = f"/api/v1/dossiers/{dossier['id']}/documents"
        return str(who.post(path, 201, content=body, headers=headers)["id"])

    documents = [
        Target("A consulting: holder's piece", "document", attach(holder, consulting, "a.pdf")),
        Target(
            "A: référent's note for SDIS-65",
            "document",
            attach(referent, consulting, "sdis.pdf", consultation_id=sdis["id"]),
        ),
        Target("A draft: holder's piece", "document", attach(holder, draft, "draft.pdf")),
        Target("B consulting: référent's note", "document", attach(referent2, other, "b.pdf")),
    ]
    holder.post(f"/api/v1/dossiers/{consulting['id']}/messages", 201, json={"body": "Bonjour."})
    referent.post(
        f"/api/v1/consultations/{sdis['id']}/messages", 201, json={"body": "Note jointe."}
    )

    now = utcnow()
    with db.transaction() as session:
        users = {u.email: u for u in session.scalars(select(User))}
        subscriptions = {}
        for label, email in (
            ("UDAP-65", "agent.udap-65@test.fr"),
            ("DREAL-OCC", "agent.dreal-occ@test.fr"),
            ("plateforme", "admin@test.fr"),
        ):
            subscription = create_subscription(
                session,
                user=users[email],
                url="https://hooks.example.org/in",
                events=["consultation.created"],
                policy=targets.Policy(),
                now=now,
            )
            delivery = WebhookDelivery(
                subscription_id=subscription.id,
                event_id=uuid.uuid4(),
                event="consultation.created",
                payload={"event": "consultation.created"},
                attempts=1,
                last_status=500,
                created_at=now,
            )
            session.add(delivery)
            session.flush()
            subscriptions[label] = Target(
                f"subscription {label}",
                "subscription",
                str(subscription.id),
                {"delivery_id": str(delivery.id)},
            )
        dreal = session.scalar(
            select(Consultation).where(Consultation.dossier_id == uuid.UUID(other["id"]))
        )
        assert dreal is not None
        clocks = {
            (str(c.dossier_id), c.consultation_id, c.kind): c
            for c in session.scalars(select(Clock))
        }

        def clock(
            dossier: dict[str, Any], consultation: str | None, kind: str, name: str
        ) -> Target:
            key = (dossier["id"], uuid.UUID(consultation) if consultation else None, kind)
            return Target(name, "clock", str(clocks[key].id))

        clock_targets = [
            clock(consulting, None, "procedure_deadline", "A consulting: procedure clock"),
            clock(consulting, udap["id"], "consultation_deadline", "A: UDAP-65 deadline"),
            clock(consulting, sdis["id"], "consultation_target", "A: SDIS-65 target"),
            clock(filed, None, "take_charge", "A filed: take-charge clock"),
            clock(other, str(dreal.id), "consultation_deadline", "B: DREAL-OCC deadline"),
        ]
        accounts = {
            email: (a.role, a.id, a.organisation_id, a.administration_code)
            for email, a in users.items()
        }
    callers = [
        Caller(name, *accounts[email], _sign_in(client, email)) if email else Caller(name, None)
        for name, email in PROBES.items()
    ]
    dossier_targets = [
        Target("A draft", "dossier", draft["id"]),
        Target("A filed", "dossier", filed["id"]),
        Target("A taken in charge", "dossier", taken["id"]),
        Target("A consulting", "dossier", consulting["id"]),
        Target("A awaiting holder", "dossier", waiting["id"]),
        Target("B consulting", "dossier", other["id"]),
    ]
    return World(
        targets={
            "dossier": dossier_targets,
            "consultation": [
                Target("A: UDAP-65", "consultation", udap["id"]),
                Target("A: SDIS-65 awaiting information", "consultation", sdis["id"]),
                Target("B: DREAL-OCC", "consultation", str(dreal.id)),
            ],
            "clock": clock_targets,
            "request": [
                Target("A: request on the dossier", "request", on_dossier["id"]),
                Target("A: request relayed for SDIS-65", "request", on_consultation["id"]),
            ],
            "subscription": list(subscriptions.values()),
            "document": documents,
            "calendar": [Target("calendar FR", "calendar", "FR")],
            "asset": [Target("Swagger UI's style sheet", "asset", "swagger-ui.css")],
            "week": [Target("the weekly pack of 2026-W24", "week", "2026-W24")],
        },
        callers=callers,
    )


# --- Probing ---

SNAPSHOT_SKIP = {"communes"}  # reference data no route writes (4 000+ rows)


def snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, to tell that the refusals, all told, changed nothing."""
    rows = {}
    for table in Base.metadata.sorted_tables:
        if table.name in SNAPSHOT_SKIP:
            continue
        order = ", ".join(f'"{c.name}"' for c in table.primary_key.columns)
        rows[table.name] = [
            tuple(r)
            for r in session.execute(text(f'SELECT * FROM "{table.name}" ORDER BY {order}'))
        ]
    return rows


#: The tables a refused call must not write; but ``idempotent_requests``, where a call with
#: an Idempotency-Key claims its key first and gives it back when refused (the snapshot taken
#: after all the refusals, compared with the one before them, tells that nothing stayed).
WATCHED = frozenset(Base.metadata.tables) - {"idempotent_requests"}


@dataclass
class Probe:
    """One call: a route as one caller on one object, and the outcome expected."""

    key: str
    method: str
    path: str
    target: Target | None
    caller: Caller
    expected: str = ""
    status: int = 0


def fill(path: str, target: Target | None, *, replace: str | None = None) -> str:
    """``path`` with the target's ids (the main one replaced by ``replace`` if given)."""
    if target is None:
        return path
    param = next(p for p, kind in KINDS.items() if kind == target.kind and "{" + p + "}" in path)
    filled = path.replace("{" + param + "}", replace or target.id)
    for name, value in target.extra.items():
        filled = filled.replace("{" + name + "}", value)
    return filled


def targets_for(path: str, world: World) -> list[Target | None]:
    """The objects to probe ``path`` with (``[None]``: the route takes no object)."""
    params = [p.split("}")[0] for p in path.split("{")[1:]]
    main = [p for p in params if p in KINDS]
    unknown = [p for p in params if p not in KINDS and p != "delivery_id"]
    assert not unknown, f"{path}: add the object kind of {unknown} to KINDS and the world"
    if not main:
        return [None]
    return list(world.targets[KINDS[main[0]]])


def expectation(policy: str | dict[str, Scope], caller: Caller, facts: Facts | None) -> str:
    """``allowed``, ``401``, ``403`` (sees, may not act) or ``hidden`` (may not know)."""
    if policy == PUBLIC:
        return "allowed"
    assert isinstance(policy, dict)
    if caller.role is None:
        return "401"
    if not sees(caller, facts):
        return "hidden"
    scope = policy.get(caller.role)
    if scope is not None and reaches(caller, scope, facts):
        return "allowed"
    return "403"


def call(client: TestClient, probe: Probe, path: str, **extra: str) -> Any:
    """Send the probe's request to ``path`` (a fresh Idempotency-Key on every POST)."""
    headers = {**probe.caller.headers, **extra}
    if probe.method == "POST":
        headers["Idempotency-Key"] = uuid.uuid4().hex
    if probe.key in RAW_BODIES:
        headers["Content-Type"], content = RAW_BODIES[probe.key]
        return client.request(probe.method, path, headers=headers, content=content)
    return client.request(
        probe.method,
        path,
        headers=headers,
        json=BODIES.get(probe.key),
        params=QUERIES.get(probe.key),
    )


def takes_if_match(app: FastAPI) -> set[str]:
    """The routes whose OpenAPI operation takes an ``If-Match`` header (optimistic locking)."""
    return {
        route_key(method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
        if any(
            p.get("in") == "header" and p.get("name", "").lower() == "if-match"
            for p in operation.get("parameters", [])
        )
    }


def answer_of(response: Any) -> tuple[int, Any]:
    """Status and body of an answer."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    return response.status_code, body


def probes_of(app: FastAPI, world: World) -> Iterator[Probe]:
    """Every route × object × caller; reads first, then writes in the lifecycle's order."""
    found, _ = declared(app)

    def order(key: str) -> tuple[int, str]:
        # Deletions last: the other routes still find the objects they probe.
        return ({"GET": 0, "DELETE": 2}.get(key.split(" ")[0], 1), key)

    for key in sorted(found, key=order):
        method, path = key.split(" ", 1)
        for target in targets_for(path, world):
            for caller in world.callers:
                yield Probe(key, method, path, target, caller)


def test_every_route_declares_the_policy_of_the_domain(client: TestClient) -> None:
    """No route without a policy; each policy is the one docs/domain.md gives (EXPECTED)."""
    app: FastAPI = client.app  # type: ignore[assignment]
    found, missing = declared(app)
    assert not missing, f"Routes without an access policy (api/policies.py): {missing}"
    assert set(found) - set(EXPECTED) == set(), "Add these routes to EXPECTED"
    assert set(EXPECTED) - set(found) == set(), "EXPECTED names routes the app does not serve"
    differ = {k: as_expected(p) for k, p in found.items() if as_expected(p) != EXPECTED[k]}
    assert not differ, f"Declared policies differ from docs/domain.md's reading: {differ}"
    documented = app.openapi()["paths"]
    for key, policy in found.items():
        method, path = key.split(" ", 1)
        operation = documented.get(path, {}).get(method.lower())
        if operation is not None and isinstance(policy, Policy):
            assert operation[policies.OPENAPI_KEY] == policy.openapi(), key


def test_a_route_without_a_policy_fails(client: TestClient) -> None:
    """A route registered without a policy: the Router refuses it, the app refuses to start,
    and this test's enumeration reports it."""
    from api.unit_of_work import Router

    router = Router()
    with pytest.raises(TypeError):
        router.get("/x")  # type: ignore[call-arg]
    app: FastAPI = client.app  # type: ignore[assignment]
    policies.check(app)

    def sneaky() -> dict[str, str]:
        return {}

    app.add_api_route("/api/v1/sneaky", sneaky, methods=["GET"])
    try:
        with pytest.raises(RuntimeError, match="GET /api/v1/sneaky"):
            policies.check(app)
        assert "GET /api/v1/sneaky" in declared(app)[1]
    finally:
        app.router.routes.pop()


def test_access_matrix(client: TestClient, world: World, db: Any) -> None:
    """Every route × every role × objects it may and may not reach: answered as declared,
    refusals change nothing, allowed answers hold no other party's data."""
    app: FastAPI = client.app  # type: ignore[assignment]
    failures: list[str] = []
    matrix: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    probes = list(probes_of(app, world))
    versioned = takes_if_match(app)
    assert versioned, "no route takes If-Match: the stale-version probes would test nothing"

    def read(query: Callable[[Session], Any]) -> Any:
        # A short transaction of its own: on SQLite each one holds the write lock (BEGIN
        # IMMEDIATE), so none may stay open while the app answers.
        with db.transaction() as session:
            return query(session)

    def expect(probe: Probe) -> str:
        target = probe.target
        facts = read(lambda s: facts_of(s, target.kind, target.id)) if target else None
        return expectation(EXPECTED[probe.key], probe.caller, facts)

    def judge(probe: Probe) -> None:
        """Run one probe; a refused one must write nothing (the app runs in this process, on
        this engine: each statement it runs is seen)."""
        with writes(db.engine, WATCHED) as changed:
            check(probe, changed)

    def check(probe: Probe, changed: set[str]) -> None:
        probe.expected = expect(probe)
        # Secrets that exist before the call: a subscription's creation answers its own.
        secrets = set(read(lambda s: list(s.scalars(select(WebhookSubscription.secret)))))
        response = call(client, probe, fill(probe.path, probe.target))
        probe.status = response.status_code
        on = probe.target.name if probe.target else "-"
        where = f"{probe.key} as {probe.caller.name} on {on}"
        outcome = probe.expected
        if probe.expected == "allowed":
            if probe.status in (401, 403, 404) or probe.status >= 500:
                failures.append(f"{where}: allowed, answered {probe.status} {response.text[:200]}")
            else:
                leak = read(lambda s: leaked(s, probe.caller, response.text, secrets))
                if leak:
                    failures.append(f"{where}: the answer holds {leak}")
            matrix[probe.key][probe.caller.name][outcome] += 1
            return
        if probe.expected == "hidden":
            assert probe.target is not None
            unknown = call(client, probe, fill(probe.path, probe.target, replace=str(uuid.uuid4())))
            if probe.status not in (403, 404) or answer_of(response) != answer_of(unknown):
                failures.append(
                    f"{where}: must not learn it exists; answered {answer_of(response)}, "
                    f"and for an unknown id {answer_of(unknown)}"
                )
            outcome = f"hidden {probe.status}"
        elif probe.status != int(probe.expected):
            failures.append(
                f"{where}: expected {probe.expected}, got {probe.status} {response.text[:200]}"
            )
        if probe.key in versioned:
            # A stale If-Match changes nothing: authorisation is decided first, so a refused
            # caller learns nothing of the version and takes no lock on the row.
            stale = call(client, probe, fill(probe.path, probe.target), **{"If-Match": "999999"})
            if answer_of(stale) != answer_of(response):
                failures.append(
                    f"{where}: with a stale If-Match answered {answer_of(stale)}, "
                    f"without {answer_of(response)}"
                )
        if changed:
            failures.append(f"{where}: refused ({probe.status}) but changed {sorted(changed)}")
        matrix[probe.key][probe.caller.name][outcome] += 1

    # Refusals first, on the world as built; then the allowed calls, which change it.
    refused = [probe for probe in probes if expect(probe) != "allowed"]
    first = {id(probe) for probe in refused}
    before = read(snapshot)
    for probe in refused:
        judge(probe)
    assert read(snapshot) == before, "the refusals changed the world"
    lists_show_only_ones_own(client, world, failures)
    for probe in probes:
        if id(probe) not in first:
            judge(probe)

    report(matrix, len(probes))
    assert not failures, f"{len(failures)} access failures:\n" + "\n".join(failures[:60])


def leaked(session: Session, caller: Caller, body: str, secrets: set[str]) -> str | None:
    """What of another party an answer holds (ids, webhook ``secrets``, password hashes)."""
    if "$argon2" in body:
        return "a password hash"
    if any(secret in body for secret in secrets):
        return "a webhook secret"
    kinds = (
        ("dossier", Dossier.id),
        ("consultation", Consultation.id),
        ("clock", Clock.id),
        ("request", InformationRequest.id),
        ("document", Document.id),
        ("subscription", WebhookSubscription.id),
    )
    for kind, column in kinds:
        for object_id in session.scalars(select(column)):
            if str(object_id) in body and foreign(caller, facts_of(session, kind, str(object_id))):
                return f"another party's {kind} {object_id}"
    for delivery in session.scalars(select(WebhookDelivery)):
        subscription = facts_of(session, "subscription", str(delivery.subscription_id))
        if str(delivery.id) in body and foreign(caller, subscription):
            return f"another party's webhook delivery {delivery.id}"
    return None


def lists_show_only_ones_own(client: TestClient, world: World, failures: list[str]) -> None:
    """The lists hold exactly what each caller may see (not only "nothing foreign")."""
    callers = {c.name: c for c in world.callers}
    dossiers = {t.name: t.id for t in world.targets["dossier"]}
    consultations = {t.name: t.id for t in world.targets["consultation"]}
    subscriptions = {t.name: t.id for t in world.targets["subscription"]}
    a_dossiers = {i for n, i in dossiers.items() if n.startswith("A ")}
    filed = {i for n, i in dossiers.items() if n != "A draft"}
    expected = {
        ("/api/v1/dossiers", "holder"): a_dossiers,
        ("/api/v1/dossiers", "other holder"): {dossiers["B consulting"]},
        ("/api/v1/dossiers", "agent"): set(),
        ("/api/v1/dossiers", "referent"): filed,
        ("/api/v1/dossiers", "manager"): filed,
        ("/api/v1/consultations", "agent"): {consultations["A: UDAP-65"]},
        ("/api/v1/consultations", "other agent"): {consultations["B: DREAL-OCC"]},
        ("/api/v1/consultations", "referent"): {
            consultations["A: UDAP-65"],
            consultations["A: SDIS-65 awaiting information"],
        },
        ("/api/v1/consultations", "other referent"): {consultations["B: DREAL-OCC"]},
        ("/api/v1/consultations", "manager"): set(consultations.values()),
        ("/api/v1/webhooks", "agent"): {subscriptions["subscription UDAP-65"]},
        ("/api/v1/webhooks", "other agent"): {subscriptions["subscription DREAL-OCC"]},
        ("/api/v1/webhooks", "admin"): set(subscriptions.values()),
    }
    documents = {t.name: t.id for t in world.targets["document"]}
    piece, note = (
        documents["A consulting: holder's piece"],
        documents["A: référent's note for SDIS-65"],
    )
    a_documents = f"/api/v1/dossiers/{dossiers['A consulting']}/documents"
    expected[(a_documents, "holder")] = {piece}
    expected[(a_documents, "referent")] = {piece, note}
    expected[(a_documents, "other referent")] = {piece, note}
    expected[(f"/api/v1/consultations/{consultations['A: UDAP-65']}/documents", "agent")] = {piece}
    # Filters narrow what the caller sees, never widen it: staff never list drafts.
    for name in ("referent", "manager", "admin", "other holder", "agent"):
        expected[("/api/v1/dossiers?status=draft", name)] = set()
    expected[("/api/v1/dossiers?status=draft", "holder")] = {dossiers["A draft"]}
    expected[("/api/v1/consultations?status=sent", "other agent")] = {consultations["B: DREAL-OCC"]}
    expected[("/api/v1/dossiers?limit=500&offset=0", "other holder")] = {dossiers["B consulting"]}
    for (path, name), ids in expected.items():
        response = client.get(path, headers=callers[name].headers)
        got = {item["id"] for item in response.json()} if response.status_code == 200 else None
        if got != ids:
            failures.append(f"GET {path} as {name}: listed {got}, expected {ids}")


def report(matrix: dict[str, dict[str, Counter[str]]], probes: int) -> None:
    """Print routes × roles × outcomes (docs/security.md quotes it)."""
    names = list(PROBES)
    totals: Counter[str] = Counter()
    print(f"\nAccess matrix: {len(matrix)} routes x {len(names)} callers, {probes} calls")
    print("route | " + " | ".join(names))
    for key in sorted(matrix):
        cells = []
        for name in names:
            counts = matrix[key][name]
            totals.update(counts)
            cells.append(" ".join(f"{o}x{n}" for o, n in sorted(counts.items())) or "-")
        print(f"{key} | " + " | ".join(cells))
    print("outcomes: " + ", ".join(f"{o}: {n}" for o, n in sorted(totals.items())))
