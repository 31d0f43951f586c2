"""Documents through HTTP: every accepted type stored with the type its content shows, hostile
files refused with nothing left behind, uploads refused while they stream past the limit, who
may attach when, who reads which document, versions of a piece, and an S3-compatible store."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from accelerator.documents.models import Document
from accelerator.documents.queries import pieces_for_dossiers
from accelerator.dossiers.models import Dossier
from accelerator.shared.config import Settings
from api.app import create_app
from tests import samples
from tests.api.conftest import HOTEL, Api, file_and_launch
from tests.s3 import s3_server, settings_fields

MB = 1 << 20
CHUNK = 64 * 1024


def upload(
    api: Api, dossier_id: str, name: str | bytes, content: bytes, expect: int = 201, **fields: str
) -> Any:
    """POST the file to the dossier as ``api``'s user; the answer's JSON."""
    body, headers = samples.form((name, content), **fields)
    return api.post(
        f"/api/v1/dossiers/{dossier_id}/documents", expect, content=body, headers=headers
    )


def store_of(client: TestClient) -> Any:
    return client.app.state.document_store  # type: ignore[attr-defined]


def staged_files() -> list[str]:
    return os.listdir(os.environ["ACCELERATOR_UPLOAD_STAGING_DIR"])


def stored_rows(db: Any) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count(Document.id))) or 0)


def assert_nothing_left(db: Any, client: TestClient, dossier_id: str) -> None:
    """No row, no stored file, no temporary file."""
    assert stored_rows(db) == 0
    assert store_of(client).list_keys(f"dossiers/{dossier_id}") == []
    assert staged_files() == []


@pytest.fixture
def draft(api: Callable[[str], Api]) -> dict[str, Any]:
    """The hotel as holder@'s draft."""
    result: dict[str, Any] = api("holder@test.fr").post("/api/v1/dossiers", 201, json=HOTEL)
    return result


@pytest.mark.parametrize(("name", "content", "expected"), samples.ACCEPTED)
def test_each_accepted_type_is_stored_with_the_type_its_content_shows(
    api: Callable[[str], Api],
    client: TestClient,
    draft: dict[str, Any],
    name: str,
    content: bytes,
    expected: str,
) -> None:
    holder = api("holder@test.fr")
    # The name says nothing of the type: each file is sent as "piece.bin".
    document = upload(
        holder, draft["id"], f"{Path(name).stem}.bin" if "csv" not in name else name, content
    )
    assert set(document) == {
        "id",
        "filename",
        "content_type",
        "size",
        "sha256",
        "piece",
        "uploaded_at",
    }
    assert document["content_type"] == expected
    assert document["size"] == len(content)
    assert document["sha256"] == hashlib.sha256(content).hexdigest()
    assert holder.get(f"/api/v1/documents/{document['id']}") == document
    downloaded = client.get(f"/api/v1/documents/{document['id']}/content", headers=holder.headers)
    assert downloaded.status_code == 200
    assert downloaded.content == content
    assert downloaded.headers["content-type"].split(";")[0] == expected
    assert downloaded.headers["content-disposition"].startswith("attachment;")
    assert downloaded.headers["x-content-type-options"] == "nosniff"
    assert staged_files() == []


def test_a_name_is_kept_for_display_only(
    api: Callable[[str], Api], client: TestClient, draft: dict[str, Any]
) -> None:
    holder = api("holder@test.fr")
    long = "Étude d'impact " + "x" * 300 + ".pdf"
    document = upload(holder, draft["id"], long, samples.PDF)
    assert len(document["filename"]) == 200 and document["filename"].endswith(".pdf")
    accented = upload(holder, draft["id"], "Plan de masse « v2 ».pdf", samples.PDF)
    assert accented["filename"] == "Plan de masse « v2 ».pdf"
    answer = client.get(f"/api/v1/documents/{accented['id']}/content", headers=holder.headers)
    disposition = answer.headers["content-disposition"]
    assert 'filename="Plan de masse _ v2 _.pdf"' in disposition
    assert "filename*=UTF-8''Plan%20de%20masse%20%C2%AB%20v2%20%C2%BB.pdf" in disposition
    assert disposition.isascii()
    # Stored under a key the server chose: the name appears in none.
    assert all("Plan" not in key for key in store_of(client).list_keys())


HOSTILE = [
    ("plan.pdf", samples.EXECUTABLE, 415, "exécutables"),
    ("notice.txt", samples.ELF, 415, "exécutables"),
    ("vide.pdf", b"", 422, "Fichier vide"),
    ("notice.docx", samples.zip_bomb_docx(), 415, "bombe de décompression"),
    ("notice.docx", samples.ooxml("docx", macros=True), 415, "macros"),
    ("archive.docx", b"PK\x03\x04" + bytes(100), 415, "Archive refusée"),
    ("script.txt", b"#!/bin/sh\nrm -rf /\n", 415, "scripts"),
    ("../../etc/passwd.pdf", samples.PDF, 422, "sans chemin"),
    ("..\\..\\boot.pdf", samples.PDF, 422, "sans chemin"),
    ("/etc/cron.d/plan.pdf", samples.PDF, 422, "sans chemin"),
    ("..", samples.PDF, 422, "sans chemin"),
    ("plan\x07.pdf", samples.PDF, 422, "caractère de contrôle"),
    ("plan\x00.pdf", samples.PDF, 422, "caractère de contrôle"),
    ("plan\u202efdp.exe", samples.PDF, 422, "caractère de contrôle"),
]


@pytest.mark.parametrize(("name", "content", "status", "says"), HOSTILE)
def test_hostile_files_are_refused_and_leave_nothing(
    api: Callable[[str], Api],
    client: TestClient,
    db: Any,
    draft: dict[str, Any],
    name: str,
    content: bytes,
    status: int,
    says: str,
) -> None:
    refused = upload(api("holder@test.fr"), draft["id"], name, content, status)
    assert says in refused["detail"]
    assert_nothing_left(db, client, draft["id"])


def test_control_characters_escaped_by_the_client_are_refused(
    api: Callable[[str], Api], client: TestClient, db: Any, draft: dict[str, Any]
) -> None:
    holder = api("holder@test.fr")
    path = f"/api/v1/dossiers/{draft['id']}/documents"
    for name in ("plan\x07.pdf", "plan\n.pdf", "plan\r\nContent-Type: text/html.pdf"):
        # httpx sends them as %07, %0A, %0D%0A (the HTML5 form encoding), as browsers do.
        answer = client.post(path, headers=holder.headers, files={"file": (name, samples.PDF)})
        assert answer.status_code == 422, (name, answer.text)
        assert "caractère de contrôle" in answer.json()["detail"]
    quoted = client.post(
        path, headers=holder.headers, files={"file": ('le "plan".pdf', samples.PDF)}
    )
    assert quoted.status_code == 201 and quoted.json()["filename"] == 'le "plan".pdf'
    assert stored_rows(db) == 1 and staged_files() == []


def test_malformed_forms_are_refused_and_leave_nothing(
    api: Callable[[str], Api], client: TestClient, db: Any, draft: dict[str, Any]
) -> None:
    holder = api("holder@test.fr")
    path = f"/api/v1/dossiers/{draft['id']}/documents"
    json_body = holder.post(path, 415, json={"file": "plan.pdf"})
    assert "multipart/form-data" in json_body["detail"]
    no_file, headers = samples.form(None, piece="PC1")
    assert "manquant" in holder.post(path, 422, content=no_file, headers=headers)["detail"]
    unknown, headers = samples.form(("plan.pdf", samples.PDF), owner="someone")
    assert "Champ inconnu" in holder.post(path, 422, content=unknown, headers=headers)["detail"]
    cut, headers = samples.form(("plan.pdf", samples.PDF))
    holder.post(path, 400, content=cut[: len(cut) // 2], headers=headers)
    for fields in ({"piece": "PC 1"}, {"information_request_id": "x"}, {"piece": "ZZ9"}):
        upload(holder, draft["id"], "plan.pdf", samples.PDF, 422, **fields)
    assert_nothing_left(db, client, draft["id"])


class Stream:
    """A multipart body streamed in chunks, counting what the server consumed."""

    def __init__(self, total: int, boundary: str) -> None:
        self.total, self.boundary, self.consumed = total, boundary, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        head = (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="grand.txt"\r\n\r\n'
        ).encode()
        yield head
        chunk = b"x" * CHUNK
        while self.consumed < self.total:
            self.consumed += len(chunk)
            yield chunk
        yield f"\r\n--{self.boundary}--\r\n".encode()


def send(app: FastAPI, path: str, body: Stream, headers: dict[str, str]) -> httpx.Response:
    """POST ``body`` to ``app`` in-process, streamed as the app reads it."""

    async def main() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return await http.post(path, content=body, headers=headers)

    return anyio.run(main)


def test_a_1_gb_upload_is_refused_past_the_limit_and_little_is_read(
    api: Callable[[str], Api], client: TestClient, db: Any, draft: dict[str, Any]
) -> None:
    holder = api("holder@test.fr")
    body = Stream(1024 * MB, "limite")
    headers = {**holder.headers, "Content-Type": "multipart/form-data; boundary=limite"}
    path = f"/api/v1/dossiers/{draft['id']}/documents"
    answer = send(client.app, path, body, headers)  # type: ignore[arg-type]
    assert answer.status_code == 413, answer.text
    assert answer.json()["detail"].startswith("Fichier trop volumineux : au plus 50 Mo")
    assert answer.headers["connection"] == "close"
    # Refused at the chunk that crossed 50 MB: the rest of the gigabyte was never read.
    assert 50 * MB < body.consumed <= 50 * MB + 3 * CHUNK
    assert_nothing_left(db, client, draft["id"])


def test_a_declared_length_past_the_limit_is_refused_before_reading(
    api: Callable[[str], Api], client: TestClient, db: Any, draft: dict[str, Any]
) -> None:
    holder = api("holder@test.fr")
    body = Stream(100 * MB, "limite")
    headers = {
        **holder.headers,
        "Content-Type": "multipart/form-data; boundary=limite",
        "Content-Length": str(100 * MB),
    }
    answer = send(client.app, f"/api/v1/dossiers/{draft['id']}/documents", body, headers)  # type: ignore[arg-type]
    assert answer.status_code == 413 and "trop volumineux" in answer.json()["detail"]
    assert body.consumed == 0
    # Nor is anything read before the caller is known to be allowed: another organisation.
    other = api("holder2@test.fr")
    body = Stream(10 * MB, "limite")
    headers = {**other.headers, "Content-Type": "multipart/form-data; boundary=limite"}
    answer = send(client.app, f"/api/v1/dossiers/{draft['id']}/documents", body, headers)  # type: ignore[arg-type]
    assert answer.status_code == 404 and body.consumed == 0
    assert_nothing_left(db, client, draft["id"])


def test_the_limits_are_settings_and_the_dossier_quota_counts_every_version(
    db: Any, accounts: dict[str, str]
) -> None:
    settings = Settings(
        database_url=db.url, demo=True, max_document_bytes=4096, max_dossier_documents_bytes=6000
    )
    with TestClient(create_app(settings)) as small:
        holder = Api(small, "holder@test.fr")
        dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
        text = b"ligne de texte\n" * 200  # 3000 bytes
        upload(holder, dossier["id"], "a.txt", text * 2, 413)
        upload(holder, dossier["id"], "a.txt", text, piece="PC4")
        upload(holder, dossier["id"], "b.txt", text, piece="PC4")
        refused = upload(holder, dossier["id"], "c.txt", b"x\n", 413)
        assert "taille maximale" in refused["detail"]
        assert len(holder.get(f"/api/v1/dossiers/{dossier['id']}/documents")) == 2


@pytest.mark.usefixtures("prefect_engine")
def test_holders_attach_to_a_draft_or_in_answer_to_a_request(
    api: Callable[[str], Api], client: TestClient, db: Any
) -> None:
    from workflows.relay import drain

    holder, referent = api("holder@test.fr"), api("referent@test.fr")
    dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    other = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    holder.post(f"/api/v1/dossiers/{dossier['id']}/file")
    drain()
    refused = upload(holder, dossier["id"], "plan.pdf", samples.PDF, 409)
    assert "demande du référent" in refused["detail"]
    referent.post(f"/api/v1/dossiers/{dossier['id']}/take-charge")
    # Another référent sees the dossier but does not attach to it.
    upload(api("referent2@test.fr"), dossier["id"], "note.pdf", samples.PDF, 403)
    asked = referent.post(
        f"/api/v1/dossiers/{dossier['id']}/information-requests",
        201,
        json={"message": "Merci de joindre le plan de masse.", "pieces": ["PC2"]},
    )
    request_id = asked["information_requests"][0]["id"]
    assert asked["status"] == "awaiting_holder"
    upload(holder, other["id"], "plan.pdf", samples.PDF, 422, information_request_id=request_id)
    given = upload(
        holder,
        dossier["id"],
        "masse.pdf",
        samples.PDF,
        piece="PC2",
        information_request_id=request_id,
    )
    with db.transaction() as session:
        stored = session.get_one(Document, uuid.UUID(given["id"]))
        assert str(stored.information_request_id) == request_id
    answered = holder.post(
        f"/api/v1/information-requests/{request_id}/answer", json={"message": "Plan joint."}
    )
    assert answered["status"] == "taken_in_charge"
    upload(holder, dossier["id"], "encore.pdf", samples.PDF, 409)
    # The référent attaches any time.
    upload(referent, dossier["id"], "note.pdf", samples.PDF)


def test_a_new_version_of_a_piece_keeps_the_old_one(
    api: Callable[[str], Api], db: Any, draft: dict[str, Any]
) -> None:
    holder = api("holder@test.fr")
    first = upload(holder, draft["id"], "situation-v1.pdf", samples.PDF, piece="pc1")
    second = upload(holder, draft["id"], "situation-v2.pdf", samples.PDF + b"%v2\n", piece="PC1")
    upload(holder, draft["id"], "accessibilite.pdf", samples.PDF, piece="PC39")
    listed = holder.get(f"/api/v1/dossiers/{draft['id']}/documents")
    assert [d["id"] for d in listed] == [first["id"], second["id"], listed[2]["id"]]
    assert first["piece"] == "PC1"
    with db.transaction() as session:
        dossier = session.get_one(Dossier, uuid.UUID(draft["id"]))
        pieces = pieces_for_dossiers(session, [dossier])[dossier.id]
    expected = [p.code for p in pieces.expected]
    # The hotel is a public-access building: PC39 and PC40 are expected too.
    assert expected == [f"PC{i}" for i in range(1, 9)] + ["PC39", "PC40"]
    supplied = {p.code: p for p in pieces.supplied}
    assert set(supplied) == {"PC1", "PC39"}
    assert supplied["PC1"].document_id == second["id"] and supplied["PC1"].versions == 2
    assert [p.code for p in pieces.missing] == [f"PC{i}" for i in range(2, 9)] + ["PC40"]


@pytest.mark.usefixtures("prefect_engine")
def test_who_reads_which_document(api: Callable[[str], Api], client: TestClient) -> None:
    dossier = file_and_launch(api, ["UDAP-65", "SDIS-65"])
    holder, referent = api("holder@test.fr"), api("referent@test.fr")
    sdis = next(c for c in dossier["consultations"] if c["administration"] == "SDIS-65")
    udap = next(c for c in dossier["consultations"] if c["administration"] == "UDAP-65")
    referent.post(
        f"/api/v1/dossiers/{dossier['id']}/information-requests",
        201,
        json={"message": "Le SDIS demande la notice de sécurité.", "consultation_id": sdis["id"]},
    )
    piece = upload(holder, dossier["id"], "securite.pdf", samples.PDF, piece="PC40")
    for_sdis = upload(
        referent, dossier["id"], "note-sdis.pdf", samples.PDF, consultation_id=sdis["id"]
    )
    refused = upload(holder, dossier["id"], "x.pdf", samples.PDF, 422, consultation_id=sdis["id"])
    assert "consultation" in refused["detail"]

    def reads(who: Api, document: dict[str, Any]) -> bool:
        described = who.client.get(f"/api/v1/documents/{document['id']}", headers=who.headers)
        content = who.client.get(f"/api/v1/documents/{document['id']}/content", headers=who.headers)
        assert described.status_code == content.status_code, (described.text, content.text)
        assert described.status_code in (200, 404)
        if described.status_code == 404:
            assert described.json() == {"detail": "Document introuvable."}
        return described.status_code == 200

    agent_sdis, agent_udap = api("agent.sdis-65@test.fr"), api("agent.udap-65@test.fr")
    outsider, other_holder = api("agent.dreal-occ@test.fr"), api("holder2@test.fr")
    staff = [referent, api("referent2@test.fr"), api("manager@test.fr"), api("admin@test.fr")]
    for who in [holder, agent_sdis, agent_udap, *staff]:
        assert reads(who, piece), who.email
    for who in [agent_sdis, *staff]:
        assert reads(who, for_sdis), who.email
    for who in [holder, agent_udap, outsider, other_holder]:
        assert not reads(who, for_sdis), who.email
    for who in [outsider, other_holder]:
        assert not reads(who, piece), who.email
    # Lists: the holder's dossier list holds the piece only; each consultation its own.
    assert [d["id"] for d in holder.get(f"/api/v1/dossiers/{dossier['id']}/documents")] == [
        piece["id"]
    ]
    listed = referent.get(f"/api/v1/dossiers/{dossier['id']}/documents")
    assert {d["id"] for d in listed} == {piece["id"], for_sdis["id"]}
    assert {d["id"] for d in agent_sdis.get(f"/api/v1/consultations/{sdis['id']}/documents")} == {
        piece["id"],
        for_sdis["id"],
    }
    assert [d["id"] for d in agent_udap.get(f"/api/v1/consultations/{udap['id']}/documents")] == [
        piece["id"]
    ]
    # The dossier's history, as the holder reads it: their piece, not the consultation's note.
    history = holder.get(f"/api/v1/dossiers/{dossier['id']}")["history"]
    added = [h["message"] for h in history if h["event"] == "document_added"]
    assert added == [f"Pièce PC40 ajoutée : « securite.pdf » ({len(samples.PDF)} octets)."], added
    staff_history = referent.get(f"/api/v1/dossiers/{dossier['id']}")["history"]
    assert sum(h["event"] == "document_added" for h in staff_history) == 2
    not_found = {"detail": "Dossier introuvable."}
    for who in (other_holder, agent_sdis, outsider):
        assert who.get(f"/api/v1/dossiers/{dossier['id']}/documents", 404) == not_found
    for who, consultation in ((holder, sdis), (agent_udap, sdis), (outsider, udap)):
        who.get(f"/api/v1/consultations/{consultation['id']}/documents", 404)


@pytest.mark.usefixtures("prefect_engine")
def test_documents_for_dossiers_reads_each_viewers_share_in_one_query(
    api: Callable[[str], Api], db: Any
) -> None:
    from sqlalchemy import event

    from accelerator.documents.queries import documents_for_dossiers
    from accelerator.identity.models import User

    dossier = file_and_launch(api, ["SDIS-65"])
    holder, referent = api("holder@test.fr"), api("referent@test.fr")
    draft = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    in_draft = upload(holder, draft["id"], "brouillon.pdf", samples.PDF)
    sdis = dossier["consultations"][0]["id"]
    note = upload(referent, dossier["id"], "note.pdf", samples.PDF, consultation_id=sdis)
    ids = [uuid.UUID(dossier["id"]), uuid.UUID(draft["id"]), uuid.uuid4()]
    with db.transaction() as session:
        users = {u.email: u for u in session.scalars(select(User))}
        statements: list[str] = []
        listen = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listen)
        try:
            seen = documents_for_dossiers(session, ids, users["holder@test.fr"])
        finally:
            event.remove(db.engine, "before_cursor_execute", listen)
        assert len(statements) == 1
        assert {k: [d.id for d in v] for k, v in seen.items()} == {
            ids[0]: [],
            ids[1]: [in_draft["id"]],
            ids[2]: [],
        }
        staff = documents_for_dossiers(session, ids, users["manager@test.fr"])
        assert [d.id for d in staff[ids[0]]] == [note["id"]] and staff[ids[1]] == []
        agent = documents_for_dossiers(session, ids, users["agent.sdis-65@test.fr"])
        assert [d.id for d in agent[ids[0]]] == [note["id"]]
        assert documents_for_dossiers(session, ids, users["agent.udap-65@test.fr"])[ids[0]] == []


@pytest.fixture
def s3_client(db: Any, accounts: dict[str, str]) -> Iterator[TestClient]:
    """The app storing its documents in a bucket of an S3-compatible server on loopback."""
    with s3_server() as environment:
        settings = Settings(database_url=db.url, demo=True, **settings_fields(environment))  # type: ignore[arg-type]
        with TestClient(create_app(settings)) as client:
            yield client


def test_documents_through_an_s3_compatible_server(s3_client: TestClient, db: Any) -> None:
    holder = Api(s3_client, "holder@test.fr")
    dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    store = store_of(s3_client)
    assert store.description.startswith("s3://documents-")
    big = samples.PDF + b"%" + b"0" * (12 * MB) + b"\n"  # several parts of a multipart upload
    for name, content, _ in [*samples.ACCEPTED[:3], ("gros.pdf", big, "")]:
        document = upload(holder, dossier["id"], name, content)
        answer = s3_client.get(
            f"/api/v1/documents/{document['id']}/content", headers=holder.headers
        )
        assert answer.status_code == 200 and answer.content == content
    assert len(store.list_keys(f"dossiers/{dossier['id']}")) == 4
    # Refused once stored (the piece is checked with the dossier): the object is removed.
    upload(holder, dossier["id"], "plan.pdf", samples.PDF, 422, piece="ZZ9")
    upload(holder, dossier["id"], "plan.pdf", samples.EXECUTABLE, 415)
    assert len(store.list_keys(f"dossiers/{dossier['id']}")) == 4
    assert stored_rows(db) == 4


def test_procedures_list_their_pieces(api: Callable[[str], Api]) -> None:
    procedures = {p["code"]: p for p in api("agent.udap-65@test.fr").get("/api/v1/procedures")}
    assert {"PC", "DP", "PCMI", "AE", "GRANT"} <= set(procedures)
    pc = procedures["PC"]
    assert pc["duration"] == "3 months"
    codes = [p["code"] for p in pc["pieces"]]
    assert codes[:8] == [f"PC{i}" for i in range(1, 9)]
    assert pc["pieces"][0] == {
        "code": "PC1",
        "label": "Plan de situation du terrain",
        "mandatory": True,
        "condition": None,
    }
    assert {p["code"]: p["condition"] for p in pc["pieces"]}["PC39"] == "public_access_building"
    assert not next(p for p in procedures["DP"]["pieces"] if p["code"] == "DP2")["mandatory"]


def test_the_dossier_view_shows_its_documents_and_completeness(
    api: Callable[[str], Api], draft: dict[str, Any]
) -> None:
    holder, dossier = api("holder@test.fr"), draft
    view = holder.get(f"/api/v1/dossiers/{dossier['id']}")
    assert view["documents"] == [] and view["cycle"] == 1
    mandatory = [p["code"] for p in view["pieces"]["expected"] if p["mandatory"]]
    assert mandatory and [p["code"] for p in view["pieces"]["missing"]] == mandatory
    stored = upload(holder, dossier["id"], "plan.pdf", samples.PDF, piece=mandatory[0])
    view = holder.get(f"/api/v1/dossiers/{dossier['id']}")
    assert [d["id"] for d in view["documents"]] == [stored["id"]]
    assert mandatory[0] in [p["code"] for p in view["pieces"]["supplied"]]
    assert mandatory[0] not in [p["code"] for p in view["pieces"]["missing"]]
    # Another organisation's holder sees none of it.
    api("holder2@test.fr").get(f"/api/v1/dossiers/{dossier['id']}", 404)
