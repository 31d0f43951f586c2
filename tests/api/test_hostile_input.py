"""Input that must be refused is refused: a 422 in French, nothing stored, never a 500.

Hand-made examples of each class (control characters, communes outside the catalogue, wrong
JSON types, unbounded sizes, huge offsets), then Hypothesis throwing random JSON at every field
of every input model, and a walk of the OpenAPI schema that fails on any unbounded input.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from accelerator.catalogue.models import Commune
from accelerator.dossiers.models import Dossier
from tests.api.conftest import HOTEL, Api
from tests.conftest import COG_EXTRACT

#: Words of English that pydantic and FastAPI put in their own messages.
ENGLISH = ("Input should", "Value error", "should have", "Field required", "a valid ", "String ")


def _french(answer: dict[str, Any]) -> None:
    assert answer["detail"], answer
    text = json.dumps(answer, ensure_ascii=False)
    assert not any(word in text for word in ENGLISH), text


def _stored_dossiers(db: Any) -> int:
    with db.transaction() as session:
        return len(session.scalars(select(Dossier.id)).all())


def _post_raw(api: Api, path: str, body: str) -> Any:
    return api.client.post(
        path, content=body, headers={**api.headers, "Content-Type": "application/json"}
    )


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"title": "Hôtel\x00 des Thermes"}, "title", "caractère de contrôle"),
        ({"title": "Hôtel\x1b[31m rouge"}, "title", "caractère de contrôle"),
        ({"title": "Hôtel\n des Thermes"}, "title", "caractère de contrôle"),
        ({"title": "Hôtel \u202eemrehT"}, "title", "caractère de contrôle"),
        ({"title": "Hôtel \ud800"}, "title", "caractère de contrôle"),
        ({"description": "Ligne\x00"}, "description", "caractère de contrôle"),
        ({"description": "Cloche\x07"}, "description", "caractère de contrôle"),
        ({"commune_insee": "６５１３８"}, "commune_insee", "5 caractères"),
        ({"commune_insee": "65 138"}, "commune_insee", "5 caractères"),
        ({"commune_insee": "2C004"}, "commune_insee", "5 caractères"),
        ({"commune_insee": 65138}, "commune_insee", "texte attendu"),
        ({"attributes": {"near_monument": 1}}, "attributes.near_monument", "booléen"),
        ({"attributes": {"near_monument": "yes"}}, "attributes.near_monument", "booléen"),
        ({"attributes": {"site_area_ha": "3"}}, "attributes.site_area_ha", "nombre"),
        ({"attributes": {"site_area_ha": True}}, "attributes.site_area_ha", "nombre"),
        ({"attributes": {"retail_area_m2": 10**30}}, "attributes.retail_area_m2", "trop grand"),
        ({"attributes": []}, "attributes", "objet"),
        ({"investment_eur": True}, "investment_eur", "entier"),
        ({"investment_eur": 1.5}, "investment_eur", "entier"),
        ({"investment_eur": 10**40}, "investment_eur", "trop grande"),
        ({"jobs_created": "12"}, "jobs_created", "entier"),
        ({"title": ["Hôtel"]}, "title", "texte attendu"),
        ({"title": "H" * 301}, "title", "trop long"),
        ({"title": "   "}, "title", "trop court"),
        ({"description": "x" * 20_001}, "description", "trop long"),
        ({"procedures": ["PC"] * 21}, "procedures", "trop long"),
        ({"procedures": ["P" * 33]}, "procedures.0", "trop long"),
        ({"procedures": ["ＰＣ"]}, "procedures.0", "code invalide"),
        ({"procedures": [1]}, "procedures.0", "texte attendu"),
    ],
)
def test_bad_dossier_fields_are_refused_in_french(
    api: Callable[[str], Api], db: Any, change: dict[str, Any], field: str, words: str
) -> None:
    # Sent as ASCII JSON, as a client may send a lone surrogate (``\ud800``).
    response = _post_raw(api("holder@test.fr"), "/api/v1/dossiers", json.dumps({**HOTEL, **change}))
    assert response.status_code == 422, response.text
    answer = response.json()
    _french(answer)
    messages = [e["message"] for e in answer["errors"] if e["field"] == field]
    assert messages and words in messages[0], answer
    assert _stored_dossiers(db) == 0


@pytest.mark.parametrize("number", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_non_finite_numbers_are_refused_not_stored_as_null(
    api: Callable[[str], Api], db: Any, number: str
) -> None:
    body = json.dumps({**HOTEL, "attributes": {"site_area_ha": 1.5}}).replace("1.5", number)
    response = _post_raw(api("holder@test.fr"), "/api/v1/dossiers", body)
    assert response.status_code == 422, response.text
    _french(response.json())
    assert response.json()["errors"][0]["field"] == "attributes.site_area_ha"
    assert _stored_dossiers(db) == 0


@pytest.mark.parametrize("code", ["00000", "2A004", "65999", "99999", "2B999"])
def test_a_commune_outside_the_catalogue_is_refused(
    api: Callable[[str], Api], db: Any, code: str
) -> None:
    answer = api("holder@test.fr").post(
        "/api/v1/dossiers", 422, json={**HOTEL, "commune_insee": code}
    )
    assert answer["detail"].startswith(f"Commune inconnue : {code} (code INSEE)")
    assert _stored_dossiers(db) == 0


@pytest.mark.usefixtures("cog_communes")
@pytest.mark.parametrize(
    ("code", "name", "calendar"),
    [("2a001", "Afa", "FR"), ("2B033", "Bastia", "FR"), ("68224", "Mulhouse", "FR-68"),
     ("97101", "Les Abymes", "FR-971"), ("97601", "Acoua", "FR-976")],
)  # fmt: skip
def test_communes_of_the_official_list_are_accepted_with_their_calendar(
    api: Callable[[str], Api], code: str, name: str, calendar: str
) -> None:
    dossier = api("holder@test.fr").post(
        "/api/v1/dossiers", 201, json={**HOTEL, "commune_insee": code}
    )
    assert (dossier["commune_insee"], dossier["commune_name"]) == (code.upper(), name)
    assert dossier["calendar"] == calendar


@pytest.mark.usefixtures("cog_communes")
@pytest.mark.parametrize("code", ["13201", "01080", "68135"])
def test_cog_rows_that_are_not_communes_are_not_loaded(
    api: Callable[[str], Api], code: str
) -> None:
    # A municipal arrondissement (ARM), a delegated (COMD) and an associated (COMA) commune.
    answer = api("holder@test.fr").post(
        "/api/v1/dossiers", 422, json={**HOTEL, "commune_insee": code}
    )
    assert "Commune inconnue" in answer["detail"]


def test_text_is_stored_in_nfc_and_stripped(api: Callable[[str], Api]) -> None:
    dossier = api("holder@test.fr").post(
        "/api/v1/dossiers",
        201,
        json={**HOTEL, "title": "  Ho\u0302tel du Pe\u0301rigord  ", "description": "a\r\nb\tc"},
    )
    assert dossier["title"] == "H\u00f4tel du P\u00e9rigord"
    assert dossier["description"] == "a\nb\tc"


@pytest.mark.parametrize("path", ["/api/v1/dossiers", "/api/v1/consultations"])
@pytest.mark.parametrize("offset", [2**64, 10_000_001, -1])
def test_offsets_are_bounded(api: Callable[[str], Api], path: str, offset: int) -> None:
    answer = api("referent@test.fr").get(f"{path}?offset={offset}", 422)
    _french(answer)
    assert answer["errors"][0]["field"] == "offset"


def test_information_requests_are_bounded_and_clean(api: Callable[[str], Api], db: Any) -> None:
    holder, referent = api("holder@test.fr"), api("referent@test.fr")
    dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    holder.post(f"/api/v1/dossiers/{dossier['id']}/file")
    referent.post(f"/api/v1/dossiers/{dossier['id']}/take-charge")
    path = f"/api/v1/dossiers/{dossier['id']}/information-requests"
    # Five pieces of 2 MB made every view of the dossier 10 MB.
    big = {"message": "Merci de compléter.", "pieces": ["x" * 2_000_000] * 5}
    _french(referent.post(path, 413, json=big))  # past the JSON body limit (1 Mo)
    within = {"message": "Merci de compléter.", "pieces": ["x" * 100_000] * 5}
    _french(referent.post(path, 422, json=within))  # each piece's name is bounded too
    _french(referent.post(path, 422, json={"message": "Pièce\x00", "pieces": []}))
    _french(referent.post(path, 422, json={"message": "Pièces", "pieces": ["PC2"] * 51}))
    _french(referent.post(path, 422, json={"message": "Pièces", "consultation_id": 12}))
    assert referent.get(f"/api/v1/dossiers/{dossier['id']}")["information_requests"] == []


def _admin(db: Any, client: Any) -> Api:
    """The administrator of the accounts fixture, signed in."""
    return Api(client, "admin@test.fr")


def test_an_admin_loads_the_official_commune_list(
    api: Callable[[str], Api], client: Any, db: Any
) -> None:
    admin, holder = _admin(db, client), api("holder@test.fr")
    csv_path = "/api/v1/catalogue/communes"
    extra = "COM,2B050,94,2B,20R,2B3,0,CALVI,Calvi,Calvi,2B05,\n"
    content = COG_EXTRACT.read_text(encoding="utf-8") + extra
    try:
        holder.post("/api/v1/dossiers", 422, json={**HOTEL, "commune_insee": "2B050"})
        # Anonymous: 401; not an admin: 403; both before the file is read.
        assert client.post(csv_path, content=content).status_code == 401
        holder.post(csv_path, 403, content=content, headers={"Content-Type": "text/csv"})
        loaded = admin.post(
            csv_path, content=content.encode("utf-8"), headers={"Content-Type": "text/csv"}
        )
        assert loaded["added"] + loaded["changed"] >= 1
        again = admin.post(csv_path, content=content, headers={"Content-Type": "text/csv"})
        assert again == {"added": 0, "changed": 0}
        dossier = holder.post("/api/v1/dossiers", 201, json={**HOTEL, "commune_insee": "2B050"})
        assert dossier["commune_name"] == "Calvi"
        # Not a COG file, a bad row, a file too big: refused, in French, nothing changed.
        for bad, words in [
            ("insee;nom\n65138;Cauterets\n", "colonnes manquantes"),
            (content + "COM,6513,76,65,65D,651,0,X,X,X,6501,\n", "ligne"),
            (content + "COM,65138,76,65,65D,651,0,X,X,Ca\x00uterets,6501,\n", "ligne"),
        ]:
            answer = admin.post(csv_path, 422, content=bad, headers={"Content-Type": "text/csv"})
            assert words in answer["detail"], answer
        too_big = "TYPECOM,COM,REG,DEP,CTCD,ARR,TNCC,NCC,NCCENR,LIBELLE,CAN,COMPARENT\n" + (
            "COM,65138,76,65,65D,651,0,X,X,Cauterets,6501,\n" * 200_000
        )
        response = client.post(
            csv_path, content=too_big, headers={**admin.headers, "Content-Type": "text/csv"}
        )
        assert response.status_code == 413
    finally:
        with db.transaction() as session:
            session.execute(delete(Commune).where(Commune.insee == "2B050"))


def test_the_cli_loads_the_official_commune_list(db: Any, database_url: str) -> None:
    from tests.cli.test_cli import accelerator

    done = accelerator(
        "catalogue", "communes", "--file", str(COG_EXTRACT), database_url=database_url
    )
    assert done.returncode == 0, done.stderr
    assert "Communes chargées" in done.stdout
    with db.transaction() as session:
        alata = session.get(Commune, "2A006")
        assert alata is not None and (alata.name, alata.department) == ("Alata", "2A")
        assert session.get(Commune, "2A004") is None
    missing = accelerator(
        "catalogue", "communes", "--file", "/nonexistent.csv", database_url=database_url
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith("Erreur : lecture impossible"), missing.stderr
    assert "Traceback" not in missing.stderr


# --- Hypothesis: random JSON at every field of every input model ------------------------------

_CONTROL = st.characters(categories=["Cc"]) | st.sampled_from(["\u202e", "\x00", "\ud800"])
_TEXT = st.text(st.characters(codec="utf-8") | _CONTROL, max_size=40)
_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | _TEXT
)
_JSON = st.recursive(
    _JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)


def _send(api: Api, method: str, path: str, body: dict[str, Any]) -> int:
    # ``allow_nan``: Python's json writes Infinity/NaN, as a careless client would.
    response = api.client.request(
        method,
        path,
        content=json.dumps(body, allow_nan=True),
        headers={**api.headers, "Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text
    if response.status_code == 422:
        _french(response.json())
    return response.status_code


_DOSSIER_FIELDS = [*HOTEL, "attributes.near_monument", "attributes.site_area_ha",
                   "attributes.icpe", "attributes.retail_area_m2"]  # fmt: skip


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(field=st.sampled_from(_DOSSIER_FIELDS), value=_JSON)
def test_random_json_in_any_dossier_field_is_refused_or_stored_clean(
    api: Callable[[str], Api], db: Any, field: str, value: Any
) -> None:
    holder = api("holder@test.fr")
    body: dict[str, Any] = json.loads(json.dumps(HOTEL))
    if field.startswith("attributes."):
        body["attributes"][field.split(".", 1)[1]] = value
    else:
        body[field] = value
    if _send(holder, "POST", "/api/v1/dossiers", body) == 201:
        with db.transaction() as session:
            for dossier in session.scalars(select(Dossier)):
                stored = [dossier.title, dossier.description, dossier.commune_insee]
                assert not any(ord(c) < 32 and c not in "\n\t" for text in stored for c in text), (
                    stored
                )
                assert all(
                    v is None or isinstance(v, (bool, str, int, float))
                    for v in dossier.attributes.values()
                )


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=st.text(st.characters(codec="utf-8") | _CONTROL, min_size=3, max_size=60))
def test_texts_with_control_characters_never_reach_the_database(
    api: Callable[[str], Api], db: Any, text: str
) -> None:
    status = _send(api("holder@test.fr"), "POST", "/api/v1/dossiers", {**HOTEL, "title": text})
    bad = any(
        ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c == "\u202e" or 0xD800 <= ord(c) < 0xE000
        for c in text
    )
    if bad:
        assert status == 422
    with db.transaction() as session:
        for title in session.scalars(select(Dossier.title)):
            assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in title), title


#: Every other input model: (method, path template, fields). Paths name objects that need not
#: exist: the body is validated first, so a bad body is a 422 and a good one a 404/403/409.
_MODELS = [
    ("POST", "/api/v1/auth/token", ["email", "password"]),
    ("POST", "/api/v1/dossiers/{id}/consultations", ["administrations"]),
    ("POST", "/api/v1/dossiers/{id}/close", ["message"]),
    ("POST", "/api/v1/dossiers/{id}/information-requests",
     ["message", "pieces", "consultation_id"]),
    ("POST", "/api/v1/information-requests/{id}/answer", ["message"]),
    ("POST", "/api/v1/consultations/{id}/opinion", ["nature", "text"]),
    ("POST", "/api/v1/webhooks", ["url", "events"]),
    ("POST", "/api/v1/calendars/FR/overrides", ["date", "name", "hours"]),
    ("PUT", "/api/v1/calendars/FR/week", ["weekly", "whit_monday_worked"]),
    ("POST", "/api/v1/clocks/reproject", ["calendar", "definition"]),
]  # fmt: skip


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(model=st.sampled_from(_MODELS), data=st.data())
def test_random_json_in_any_input_model_never_answers_500(
    api: Callable[[str], Api], model: tuple[str, str, list[str]], data: st.DataObject
) -> None:
    method, path, fields = model
    body = {field: data.draw(_JSON) for field in data.draw(st.sets(st.sampled_from(fields)))}
    path = path.format(id="00000000-0000-0000-0000-000000000000")
    status = _send(api("referent@test.fr"), method, path, body)
    assert status in (200, 201, 202, 401, 403, 404, 409, 422, 429), status


def test_every_input_in_the_openapi_schema_is_bounded(client: Any) -> None:
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    unbounded: list[str] = []

    def walk(node: Any, where: str, seen: frozenset[str]) -> None:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[1]
            if name not in seen:
                walk(components[name], name, seen | {name})
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for i, option in enumerate(node.get(key, [])):
                walk(option, f"{where}|{i}", seen)
        kind = node.get("type")
        if (
            kind == "string"
            and "maxLength" not in node
            and "enum" not in node
            and node.get("format") not in ("date", "uuid", "date-time", "binary")
        ):
            unbounded.append(where)
        if kind == "array":
            if "maxItems" not in node and "prefixItems" not in node:
                unbounded.append(where)
            for i, item in enumerate(node.get("prefixItems", [])):
                walk(item, f"{where}[{i}]", seen)
            if isinstance(node.get("items"), dict):
                walk(node["items"], f"{where}[]", seen)
        if kind == "object":
            extra = node.get("additionalProperties", True)
            if extra is True or (isinstance(extra, dict) and "maxProperties" not in node):
                unbounded.append(where)
            if isinstance(extra, dict):
                walk(extra, f"{where}{{}}", seen)
            for name, prop in node.get("properties", {}).items():
                walk(prop, f"{where}.{name}", seen)

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            # Path parameters are ids and codes looked up as such (a 404 at worst).
            for parameter in (p for p in operation.get("parameters", []) if p["in"] != "path"):
                walk(parameter["schema"], f"{method} {path} ?{parameter['name']}", frozenset())
                integer = parameter["schema"].get("type") == "integer"
                if integer and parameter["in"] == "query" and "maximum" not in parameter["schema"]:
                    unbounded.append(f"{method} {path} ?{parameter['name']}")
            for content in operation.get("requestBody", {}).get("content", {}).values():
                walk(content["schema"], f"{method} {path} body", frozenset())
    assert unbounded == []
