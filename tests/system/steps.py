"""What the system tests do to a cluster, as a user would: file, launch, and look."""

from __future__ import annotations

import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from accelerator.consultations.models import Consultation
from accelerator.dossiers.models import Dossier
from accelerator.identity.models import User
from accelerator.outbox.models import OutboxMessage
from tests.api.conftest import HOTEL
from tests.system.cluster import Client, wait_for
from tests.system.conftest import ADMINISTRATIONS, HOLDERS, REFERENTS, System, agent


def dossier_payload(index: int) -> dict[str, Any]:
    """The hotel of the walking skeleton, numbered."""
    return {**HOTEL, "title": f"{HOTEL['title']} — lot {index:03d}"}


def subscribe(system: System) -> dict[str, str]:
    """Each administration's agent subscribes to its consultations; the secrets by code."""
    secrets = {}
    for index, code in enumerate(ADMINISTRATIONS):
        client = system.client(agent(code), api=index)
        subscription = client.post(
            "/api/v1/webhooks",
            201,
            json={"url": system.receiver.url, "events": ["consultation.created"]},
        )
        secrets[code] = subscription["secret"]
    return secrets


def file_dossiers(system: System, count: int) -> list[str]:
    """``count`` dossiers created and filed by five holders over both API processes."""
    clients = [system.client(h, api=i) for i, h in enumerate(HOLDERS)]

    def file_one(index: int) -> str:
        client = clients[index % len(clients)]
        created = client.post(
            "/api/v1/dossiers", 201, json=dossier_payload(index),
            headers={"Idempotency-Key": f"create-{index}"},
        )  # fmt: skip
        client.post(f"/api/v1/dossiers/{created['id']}/file")
        return str(created["id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(file_one, range(count)))


def query(system: System, statement: Any) -> list[Any]:
    engine = create_engine(system.app_url)
    try:
        with Session(engine) as session:
            return list(session.execute(statement).all())
    finally:
        engine.dispose()


def post_until_answered(
    clients: list[Client], path: str, *, key: str, expect: int, json: Any = None
) -> Any:
    """POST with an Idempotency-Key, on the next API process if one dies mid-request: the
    same key and body give the same answer, so retrying never does the work twice."""
    deadline = time.monotonic() + 120
    for client in itertools.cycle(clients):
        try:
            response = client.http.post(path, json=json, headers={"Idempotency-Key": key})
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
            continue
        if response.status_code >= 500 and time.monotonic() < deadline:
            time.sleep(0.5)
            continue
        assert response.status_code == expect, (
            f"POST {path}: {response.status_code} {response.text}"
        )
        return response.json()
    raise AssertionError("unreachable")


def file_one_resiliently(clients: list[Client], index: int, *, prefix: str) -> str:
    """Create and file dossier ``index`` with Idempotency-Keys, on the next API process when
    one dies mid-request."""
    created = post_until_answered(
        clients, "/api/v1/dossiers", key=f"{prefix}create-{index}", expect=201,
        json=dossier_payload(index),
    )  # fmt: skip
    post_until_answered(
        clients, f"/api/v1/dossiers/{created['id']}/file", key=f"{prefix}file-{index}",
        expect=200,
    )  # fmt: skip
    return str(created["id"])


def consultations_of(system: System, ids: list[str]) -> list[Any]:
    """(dossier, administration, id) of every consultation of the dossiers ``ids``."""
    return query(
        system,
        select(Consultation.dossier_id, Consultation.administration_code, Consultation.id)
        .where(Consultation.dossier_id.in_(ids)),
    )  # fmt: skip


def launch_all(system: System, ids: list[str], *, resilient: bool = False) -> None:
    """Each dossier's proposed référent takes it in charge and launches its consultations."""
    rows = query(system, select(Dossier.id, Dossier.referent_id).where(Dossier.id.in_(ids)))
    emails = dict(query(system, select(User.id, User.email)))
    clients = {
        address: [system.client(address, api=i) for i in range(len(system.apis))]
        for address in REFERENTS
    }
    counter = itertools.count()

    def launch(row: Any) -> None:
        mine = clients[emails[row.referent_id]]
        if resilient:
            post_until_answered(
                mine, f"/api/v1/dossiers/{row.id}/take-charge", key=f"take-{row.id}", expect=200
            )
            post_until_answered(
                mine, f"/api/v1/dossiers/{row.id}/consultations", key=f"launch-{row.id}",
                expect=202,
            )  # fmt: skip
            return
        client = mine[next(counter) % len(mine)]
        client.post(f"/api/v1/dossiers/{row.id}/take-charge")
        client.post(f"/api/v1/dossiers/{row.id}/consultations", 202)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(launch, rows))


def converge(system: System, check: Any, timeout: float, what: str) -> Any:
    """Wait for ``check``; on timeout, fail with the end of every process' output."""
    try:
        return wait_for(check, timeout, what, every=1)
    except AssertionError as error:
        raise AssertionError(f"{error}\n{system.cluster.logs()}") from None


def intake_done(system: System, ids: list[str]) -> bool:
    """Every dossier routed, with a référent proposed."""
    [(routed, proposed)] = query(
        system,
        select(func.count(Dossier.routed_at), func.count(Dossier.referent_id)).where(
            Dossier.id.in_(ids)
        ),
    )
    return bool(routed == len(ids) and proposed == len(ids))


def undelivered(system: System, topic: str | None = None) -> int:
    """Outbox messages not delivered yet (of ``topic``)."""
    statement = select(func.count(OutboxMessage.id)).where(OutboxMessage.delivered_at.is_(None))
    if topic is not None:
        statement = statement.where(OutboxMessage.topic == topic)
    [(count,)] = query(system, statement)
    return int(count)


def exchange_documents(system: System) -> None:
    """A holder attaches pieces through one API process; the other reads them back: both
    store in, and read from, the S3-compatible bucket."""
    from tests import samples

    writer, reader = system.client(HOLDERS[0], api=0), system.client(HOLDERS[0], api=1)
    draft = writer.post("/api/v1/dossiers", 201, json=dossier_payload(999))
    # Past the store's 5 MB part size: a multipart upload to the bucket.
    big = samples.PDF + b"%" + b"0" * (6 << 20) + b"\n"
    sent = {}
    for name, content in (("situation.pdf", samples.PDF), ("masse.pdf", big)):
        body, headers = samples.form((name, content), piece="PC1")
        document = writer.post(
            f"/api/v1/dossiers/{draft['id']}/documents", 201, content=body, headers=headers
        )
        sent[document["id"]] = content
    listed = reader.get(f"/api/v1/dossiers/{draft['id']}/documents")
    assert {d["id"] for d in listed} == set(sent)
    for document_id, content in sent.items():
        answer = reader.http.get(f"/api/v1/documents/{document_id}/content")
        assert answer.status_code == 200 and answer.content == content
