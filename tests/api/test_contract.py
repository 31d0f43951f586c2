"""The OpenAPI document says what the API does; no English library message reaches a user."""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any

import jsonschema
from fastapi.testclient import TestClient
from pydantic_core.core_schema import ErrorType

from api import errors
from tests.api.conftest import HOTEL, Api

#: What the English libraries say; none of it may reach a user.
ENGLISH = (
    "Input should",
    "Field required",
    "There was an error",
    "JSON decode error",
    "Not Found",
    "Method Not Allowed",
    "Extra inputs",
    "Value error",
    "Unprocessable",
    "valid integer",
    "Expecting",
)


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    reference = schema.get("$ref")
    if reference is None:
        return schema
    resolved: dict[str, Any] = document
    for part in reference.removeprefix("#/").split("/"):
        resolved = resolved[part]
    return resolved


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_every_operation_documents_the_errors_it_can_answer(client: TestClient) -> None:
    document = client.app.openapi()  # type: ignore[attr-defined]
    operations = _operations(document)
    assert len(operations) > 20
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for method, path, operation in operations:
        documented = {int(s) for s in operation["responses"] if s.isdigit()}
        expected = {422}  # an undeclared query parameter is refused everywhere
        if "requestBody" in operation:
            expected |= {400, 413, 422}
        if operation.get("security"):
            expected |= {401, 403}
            if method != "GET":
                expected |= {409, 422}
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            expected |= {404, 422}
        if operation.get("parameters"):
            expected.add(422)
        assert expected <= documented, (method, path, sorted(expected - documented))
        for status in documented - set(range(200, 300)):
            schema = operation["responses"][str(status)]["content"]["application/json"]["schema"]
            name = "InvalidRequest" if status == 422 else "Error"
            assert schema == {"$ref": f"#/components/schemas/{name}"}, (method, path, status)
            assert operation["responses"][str(status)]["description"], (method, path, status)
    token = document["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert "429" in token, "sign-in is rate-limited: 429 documented"
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["detail"] and error["properties"]["detail"]["type"] == "string"


def test_error_bodies_are_what_the_document_says(
    client: TestClient, api: Callable[[str], Api]
) -> None:
    document = client.app.openapi()  # type: ignore[attr-defined]
    holder = api("holder@test.fr")
    schemas = document["components"]["schemas"]
    resolver_document = {"components": document["components"]}

    def conforms(body: Any, name: str) -> None:
        jsonschema.validate(body, {**schemas[name], **resolver_document})

    empty = holder.post("/api/v1/dossiers", 201, json={**HOTEL, "procedures": []})
    invalid = [
        holder.client.post("/api/v1/dossiers", json={"title": 3}, headers=holder.headers),
        holder.client.get("/api/v1/dossiers?limit=abc", headers=holder.headers),
        holder.client.post(
            "/api/v1/dossiers",
            content=b'{"title": ',
            headers={**holder.headers, "Content-Type": "application/json"},
        ),
        # A domain refusal (422 from the action, not from validation) has the same shape.
        holder.client.post(
            f"/api/v1/dossiers/{empty['id']}/file",
            headers=holder.headers,
        ),
    ]
    for response in invalid:
        assert response.status_code == 422, response.text
        conforms(response.json(), "InvalidRequest")
    for response in (
        holder.client.get("/api/v1/dossiers"),
        holder.client.get("/api/v1/dossiers/nope", headers=holder.headers),
        holder.client.get("/nowhere"),
    ):
        assert response.status_code in (401, 404)
        conforms(response.json(), "Error")


def test_every_pydantic_error_type_has_a_french_message() -> None:
    types = set(typing.get_args(ErrorType))
    assert len(types) > 100
    assert types <= set(errors.FIELD_MESSAGES), sorted(types - set(errors.FIELD_MESSAGES))
    context = {
        "gt": 1, "ge": 1, "lt": 9, "le": 9, "multiple_of": 2, "min_length": 2, "max_length": 5,
        "expected": "'PC', 'PA' or 'DP'", "pattern": "^x$", "tz_expected": 3600,
        "expected_tags": "'a', 'b'", "discriminator": "'kind'", "expected_schemes": "'https'",
        "expected_version": 4, "max_digits": 3, "decimal_places": 2, "whole_digits": 1,
        "error": "English detail", "field_type": "List", "class_name": "Model",
        "attribute": "x", "method_name": "x", "class": "X", "tag": "x", "encoding": "utf-8",
    }  # fmt: skip
    for kind in sorted(types - {"value_error", "json_invalid"}):
        error = {"type": kind, "loc": ("body", "title"), "msg": "Input should be", "ctx": context}
        described = errors.describe(error)
        assert described["field"] == "title"
        assert not any(word in described["message"] for word in ("English", "Input", " or ")), (
            kind,
            described,
        )
        assert "{" not in described["message"], (kind, described)


def test_fields_are_paths_never_offsets_or_schema_labels() -> None:
    assert errors.describe({"type": "json_invalid", "loc": ("body", 17), "ctx": {}})["field"] == (
        "corps de la requête"
    )
    assert errors.describe({"type": "missing", "loc": ("body",)})["field"] == "corps de la requête"
    union = ("body", "attributes", "function-after[check(), str]", "int")
    assert errors.describe({"type": "int_type", "loc": union})["field"] == "attributes"
    assert errors.describe({"type": "missing", "loc": ("body", "pieces", 2, "name")})["field"] == (
        "pieces.2.name"
    )
    assert errors.describe({"type": "int_parsing", "loc": ("query", "limit")})["field"] == "limit"


def test_no_english_reaches_a_user(client: TestClient, api: Callable[[str], Api]) -> None:
    holder = api("holder@test.fr")
    json_headers = {**holder.headers, "Content-Type": "application/json"}
    answers = [
        holder.client.post("/api/v1/dossiers", content=b'{"title": ', headers=json_headers),
        holder.client.post("/api/v1/dossiers", content=b'{"title": "\xff"}', headers=json_headers),
        holder.client.post("/api/v1/dossiers", content=b"[1, 2]", headers=json_headers),
        holder.client.post("/api/v1/dossiers", content=b"", headers=json_headers),
        holder.client.post("/api/v1/dossiers", json={**HOTEL, "extra": 1}, headers=holder.headers),
        holder.client.post(
            "/api/v1/dossiers", json={**HOTEL, "jobs_created": "many"}, headers=holder.headers
        ),
        holder.client.get("/api/v1/dossiers?limit=abc&offset=-1", headers=holder.headers),
        holder.client.get("/api/v1/dossiers?status=nope", headers=holder.headers),
        client.get("/nowhere"),
        client.delete("/api/v1/dossiers"),
        client.put("/healthz"),
        client.post("/api/v1/auth/token", content=b"x=1", headers={"Content-Type": "text/plain"}),
    ]
    for response in answers:
        assert response.status_code in (400, 404, 405, 422), response.text
        body = response.json()
        assert set(body) <= {"detail", "errors"}
        assert not any(word in response.text for word in ENGLISH), response.text
        for error in body.get("errors", []):
            assert not error["field"].isdigit(), response.text
    assert "JSON" in answers[0].json()["detail"]
    assert answers[0].json()["errors"][0]["field"] == "corps de la requête"
    assert answers[1].status_code == 400
    assert answers[9].status_code == 405 and answers[9].headers["Allow"]


def test_an_undeclared_query_parameter_is_refused(
    client: TestClient, api: Callable[[str], Api]
) -> None:
    holder = api("holder@test.fr")
    misspelt = holder.client.get("/api/v1/dossiers?limt=5", headers=holder.headers)
    assert misspelt.status_code == 422
    assert misspelt.json()["errors"] == [{"field": "limt", "message": "paramètre inconnu"}]
    assert holder.client.get("/api/v1/dossiers?limit=5", headers=holder.headers).status_code == 200
    assert client.get("/healthz?=null").status_code == 422
    # Authentication still comes first.
    assert client.get("/api/v1/dossiers?limt=5").status_code == 401
