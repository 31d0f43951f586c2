"""A page form that carries a file (``api.pages.uploads``), on a route of the test's own:
the CSRF token read from the multipart fields with ``page_unit``'s rule, the file bounded
(413) and typed from its content (415), refusals given back to the page, not thrown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient

from accelerator.shared.config import Settings
from api import limits
from api.app import create_app
from api.pages import uploads
from api.pages.web import PageRouter, page_unit
from api.policies import Scope, allow
from tests.pages.conftest import HTML, csrf_of, sign_in

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
LIMIT = 4096


def _router(seen: list[dict[str, Any]]) -> PageRouter:
    router = PageRouter()

    @router.post_form("/essai-envoi", policy=allow(agent=Scope.ANY))
    @limits.body_limit(uploads.CEILING)
    async def upload(request: Request) -> Response:
        """A page form with a note and an optional file."""
        with page_unit(request, body_unread=True):
            pass
        async with uploads.receive(request, limit=LIMIT, fields={"note": 1000}) as upload:
            if upload.error is not None:
                seen.append({"error": upload.error.status_code, "typed": upload.typed})
                return JSONResponse({"error": upload.error.message}, upload.error.status_code)
            with page_unit(request, form=upload.form):
                file = upload.file
                seen.append(
                    {
                        "note": upload.form.get("note"),
                        "type": file.detected.content_type if file else None,
                        "size": file.upload.size if file else None,
                        "name": file.filename if file else None,
                    }
                )
            return JSONResponse({"ok": True})

    return router


@pytest.fixture
def seen() -> list[dict[str, Any]]:
    """What the test route received."""
    return []


@pytest.fixture
def app(db: Any, seen: list[dict[str, Any]], tmp_path: Path) -> Any:
    """The app with the test route (its staging directory watched for leftovers)."""
    application = create_app(Settings(database_url=db.url, demo=True, upload_staging_dir=tmp_path))
    application.include_router(_router(seen))
    return application


def _token(client: TestClient) -> str:
    return csrf_of(client.get("/mes-consultations", headers=HTML).text, "/logout")


def test_a_file_comes_with_its_fields_once_the_token_is_the_sessions(
    signed_in: Callable[[str], TestClient], seen: list[dict[str, Any]], tmp_path: Path
) -> None:
    client = signed_in("agent@pages.test")
    token = _token(client)
    answer = client.post(
        "/essai-envoi",
        data={"csrf_token": token, "note": "Voir l'étude jointe."},
        files={"file": ("étude.pdf", PDF, "application/octet-stream")},
        headers=HTML,
    )
    assert answer.status_code == 200, answer.text
    assert seen == [
        {"note": "Voir l'étude jointe.", "type": "application/pdf", "size": len(PDF),
         "name": "étude.pdf"}
    ]  # fmt: skip
    # An empty file input (what a browser sends when no file is chosen) is no file.
    seen.clear()
    empty = client.post(
        "/essai-envoi",
        data={"csrf_token": token, "note": "Sans pièce."},
        files={"file": ("", b"", "application/octet-stream")},
        headers=HTML,
    )
    assert empty.status_code == 200 and seen == [
        {"note": "Sans pièce.", "type": None, "size": None, "name": None}
    ]
    assert list(tmp_path.iterdir()) == []


def test_without_the_token_nothing_is_done(
    signed_in: Callable[[str], TestClient],
    browser_client: Callable[[], TestClient],
    seen: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    client = signed_in("agent@pages.test")
    for data in ({}, {"csrf_token": "pas-le-bon"}):
        refused = client.post(
            "/essai-envoi", data=data, files={"file": ("a.pdf", PDF, "application/pdf")},
            headers=HTML,
        )  # fmt: skip
        assert refused.status_code == 403 and "Accès refusé" in refused.text
    # Another session's token is not this one's.
    other = browser_client()
    assert sign_in(other, "agent@pages.test").status_code == 303
    stolen = client.post(
        "/essai-envoi", data={"csrf_token": _token(other)},
        files={"file": ("a.pdf", PDF, "application/pdf")}, headers=HTML,
    )  # fmt: skip
    assert stolen.status_code == 403
    # Nobody signed in, another role: refused before the body is read.
    anonymous = browser_client().post(
        "/essai-envoi", files={"file": ("a.pdf", PDF, "application/pdf")}, headers=HTML,
        follow_redirects=False,
    )  # fmt: skip
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login"
    holder = signed_in("holder@pages.test").post(
        "/essai-envoi", files={"file": ("a.pdf", PDF, "application/pdf")}, headers=HTML
    )
    assert holder.status_code == 403
    assert seen == [] and list(tmp_path.iterdir()) == []


def test_a_file_too_large_or_of_a_refused_type_is_given_back_to_the_page(
    signed_in: Callable[[str], TestClient], seen: list[dict[str, Any]], tmp_path: Path
) -> None:
    client = signed_in("agent@pages.test")
    token = _token(client)
    large = client.post(
        "/essai-envoi",
        data={"csrf_token": token, "note": "Trop gros."},
        files={"file": ("gros.pdf", PDF + b"0" * LIMIT, "application/pdf")},
        headers=HTML,
    )
    assert large.status_code == 413 and "Fichier trop volumineux" in large.json()["error"]
    program = client.post(
        "/essai-envoi",
        data={"csrf_token": token, "note": "Un programme."},
        files={"file": ("outil.pdf", b"MZ\x90\x00" + b"\x00" * 200, "application/pdf")},
        headers=HTML,
    )
    assert program.status_code == 415 and "exécutables" in program.json()["error"]
    assert seen == [
        {"error": 413, "typed": {"note": "Trop gros."}},
        {"error": 415, "typed": {"note": "Un programme."}},
    ]
    # Without the session's token, what was typed is not given back.
    seen.clear()
    forged = client.post(
        "/essai-envoi",
        data={"csrf_token": "autre", "note": "<b>ailleurs</b>"},
        files={"file": ("gros.pdf", PDF + b"0" * LIMIT, "application/pdf")},
        headers=HTML,
    )
    assert forged.status_code == 413 and seen == [{"error": 413, "typed": {}}]
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_field_or_a_text_past_its_bound_is_refused(
    signed_in: Callable[[str], TestClient], seen: list[dict[str, Any]]
) -> None:
    client = signed_in("agent@pages.test")
    token = _token(client)
    unknown = client.post(
        "/essai-envoi", data={"csrf_token": token, "autre": "x"},
        files={"file": ("a.pdf", PDF, "application/pdf")}, headers=HTML,
    )  # fmt: skip
    assert unknown.status_code == 422 and "Champ inconnu" in unknown.text
    long = client.post(
        "/essai-envoi", data={"csrf_token": token, "note": "x" * 1001},
        files={"file": ("a.pdf", PDF, "application/pdf")}, headers=HTML,
    )  # fmt: skip
    assert long.status_code == 422 and "trop long" in long.text
    not_multipart = client.post(
        "/essai-envoi", data={"csrf_token": token, "note": "x"}, headers=HTML
    )
    assert not_multipart.status_code == 415
    assert all("note" not in s for s in seen)
