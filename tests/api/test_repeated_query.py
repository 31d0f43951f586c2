"""A query parameter declared once and sent several times is refused (422), not read as its last
value: ``?offset=abc&offset=0`` used to answer as ``offset=0``, the invalid value silently
ignored (schemathesis' long budget found it: a list of junk ending in a valid offset).
Parameters a route declares as lists may repeat."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import pytest
from fastapi import Query
from fastapi.testclient import TestClient

from accelerator.shared.config import Settings
from api.app import create_app
from api.policies import PUBLIC
from api.unit_of_work import Router
from tests.api.conftest import Api


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/api/v1/dossiers", "offset=abc&offset=0", "offset"),
        ("/api/v1/dossiers", "offset=0&offset=abc", "offset"),
        ("/api/v1/dossiers", "offset=3.4e38&offset=%C2%AA&offset=0.0&status=draft", "offset"),
        ("/api/v1/dossiers", "status=draft&status=filed", "status"),
        ("/api/v1/consultations", "limit=2&limit=3", "limit"),
        ("/api/v1/consultations", "limit=2&limit=2", "limit"),
    ],
)
def test_a_scalar_parameter_sent_twice_is_refused(
    api: Callable[[str], Api], path: str, query: str, field: str
) -> None:
    referent = api("referent@test.fr")
    refused = referent.client.get(f"{path}?{query}", headers=referent.headers)
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"] == [{"field": field, "message": "paramètre répété"}]
    assert refused.json()["detail"] == f"Requête invalide : {field} : paramètre répété"


def test_unknown_and_repeated_parameters_are_named_together(
    client: TestClient, api: Callable[[str], Api]
) -> None:
    holder = api("holder@test.fr")
    refused = holder.client.get("/api/v1/dossiers?limit=2&limt=3&limit=3", headers=holder.headers)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "limt", "message": "paramètre inconnu"},
        {"field": "limit", "message": "paramètre répété"},
    ]
    # Each parameter once: answered.
    assert holder.client.get("/api/v1/dossiers?limit=2&offset=0", headers=holder.headers).is_success
    # Authentication still comes first.
    assert client.get("/api/v1/dossiers?limit=2&limit=3").status_code == 401


def test_a_parameter_declared_as_a_list_may_repeat(db: Any) -> None:
    router = Router()

    @router.get("/list-test", policy=PUBLIC)
    def listed(tag: Annotated[list[str] | None, Query()] = None, limit: int = 1) -> dict[str, Any]:
        return {"tag": tag or [], "limit": limit}

    app = create_app(Settings(database_url=db.url, demo=True))
    app.include_router(router)
    with TestClient(app) as client:
        answer = client.get("/list-test?tag=a&tag=b&limit=2")
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"tag": ["a", "b"], "limit": 2}
        refused = client.get("/list-test?tag=a&limit=2&limit=3")
        assert refused.json()["errors"] == [{"field": "limit", "message": "paramètre répété"}]
