"""One handler renders every error in French: domain errors, validation errors (every pydantic
error type has its French message), and the HTTP errors Starlette and FastAPI raise themselves
(unknown route, method not allowed, unreadable body).

Every error answer is ``{"detail": "<phrase française>"}``; a 422 adds ``errors``
(``[{"field", "message"}]``, the field as a path in the body or the parameter's name, never a
byte offset). ``api.contract`` documents exactly these shapes in the OpenAPI document.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic_core import core_schema
from starlette.exceptions import HTTPException

from accelerator.shared.errors import AcceleratorError, TooManyRequests

#: The field named when an error is about the body as a whole (its syntax, its absence).
BODY = "corps de la requête"

#: A French message for every error type of pydantic-core (``ErrorType``; a test checks that
#: none is missing). ``{...}`` are filled from the error's context.
FIELD_MESSAGES: dict[str, str] = {
    "no_such_attribute": "attribut inconnu",
    "json_invalid": "JSON invalide",
    "json_type": "JSON attendu (texte)",
    "needs_python_object": "valeur non admise",
    "recursion_loop": "référence circulaire",
    "recursion_depth_exceeded": "structure trop profonde",
    "missing": "champ obligatoire",
    "frozen_field": "champ non modifiable",
    "frozen_instance": "objet non modifiable",
    "extra_forbidden": "champ inconnu",
    "invalid_key": "les clés doivent être des textes",
    "get_attribute_error": "attribut illisible",
    "model_type": "objet JSON attendu",
    "model_attributes_type": "objet JSON attendu",
    "dataclass_type": "objet JSON attendu",
    "dataclass_exact_type": "objet JSON attendu",
    "named_tuple_type": "liste ou objet JSON attendu",
    "default_factory_not_called": "valeur par défaut impossible à calculer (autre erreur)",
    "none_required": "doit être null",
    "greater_than": "valeur trop petite (doit être supérieure à {gt})",
    "greater_than_equal": "valeur trop petite (au moins {ge})",
    "less_than": "valeur trop grande (doit être inférieure à {lt})",
    "less_than_equal": "valeur trop grande (au plus {le})",
    "multiple_of": "doit être un multiple de {multiple_of}",
    "finite_number": "nombre fini attendu",
    # Lists and strings alike (a constrained text raises these too).
    "too_short": "trop court (au moins {min_length})",
    "too_long": "trop long (au plus {max_length})",
    "iterable_type": "liste attendue",
    "iteration_error": "liste illisible",
    "string_type": "texte attendu",
    "string_unicode": "texte Unicode attendu",
    "string_too_short": "texte trop court (au moins {min_length} caractères)",
    "string_too_long": "texte trop long (au plus {max_length} caractères)",
    "string_pattern_mismatch": "format non admis",
    "string_not_ascii": "caractères ASCII attendus",
    "enum": "valeur non admise (attendu : {expected})",
    "dict_type": "objet JSON attendu",
    "frozen_dict_type": "objet JSON attendu",
    "ordered_dict_type": "objet JSON attendu",
    "counter_type": "objet JSON attendu",
    "mapping_type": "objet JSON attendu",
    "list_type": "liste attendue",
    "deque_type": "liste attendue",
    "tuple_type": "liste attendue",
    "set_type": "liste attendue",
    "set_item_not_hashable": "élément de liste non admis",
    "bool_type": "booléen attendu (true/false)",
    "bool_parsing": "booléen attendu (true/false)",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "int_parsing_size": "nombre entier trop grand",
    "int_from_float": "nombre entier attendu (sans partie décimale)",
    "float_type": "nombre attendu",
    "float_parsing": "nombre attendu",
    "bytes_type": "texte attendu",
    "bytes_too_short": "trop court (au moins {min_length} octets)",
    "bytes_too_long": "trop long (au plus {max_length} octets)",
    "bytes_invalid_encoding": "encodage invalide",
    "value_error": "valeur invalide",
    "assertion_error": "valeur invalide",
    "literal_error": "valeur non admise (attendu : {expected})",
    "missing_sentinel_error": "valeur non admise",
    "ellipsis_error": "valeur non admise",
    "date_type": "date attendue (AAAA-MM-JJ)",
    "date_parsing": "date invalide (AAAA-MM-JJ attendu)",
    "date_from_datetime_parsing": "date invalide (AAAA-MM-JJ attendu)",
    "date_from_datetime_inexact": "date sans heure attendue (AAAA-MM-JJ)",
    "date_past": "la date doit être passée",
    "date_future": "la date doit être à venir",
    "time_type": "heure attendue (HH:MM)",
    "time_parsing": "heure invalide (HH:MM attendu)",
    "datetime_type": "date et heure attendues (ISO 8601)",
    "datetime_parsing": "date et heure invalides (ISO 8601 attendu)",
    "datetime_object_invalid": "date et heure invalides",
    "datetime_from_date_parsing": "date et heure invalides (ISO 8601 attendu)",
    "datetime_past": "l'instant doit être passé",
    "datetime_future": "l'instant doit être à venir",
    "timezone_naive": "instant sans fuseau horaire attendu",
    "timezone_aware": "fuseau horaire obligatoire (ex. 2026-03-02T09:00:00+01:00)",
    "timezone_offset": "décalage horaire attendu : {tz_expected} secondes",
    "time_delta_type": "durée attendue",
    "time_delta_parsing": "durée invalide",
    "frozen_set_type": "liste attendue",
    "is_instance_of": "valeur non admise",
    "is_subclass_of": "valeur non admise",
    "callable_type": "valeur non admise",
    "union_tag_invalid": "type d'objet inconnu (attendu : {expected_tags})",
    "union_tag_not_found": "champ « {discriminator} » obligatoire",
    "arguments_type": "liste ou objet JSON attendu",
    "missing_argument": "champ obligatoire",
    "unexpected_keyword_argument": "champ inconnu",
    "missing_keyword_only_argument": "champ obligatoire",
    "unexpected_positional_argument": "valeur en trop",
    "missing_positional_only_argument": "valeur obligatoire",
    "multiple_argument_values": "valeur donnée deux fois",
    "url_type": "adresse web attendue",
    "url_parsing": "adresse web invalide",
    "url_syntax_violation": "adresse web invalide",
    "url_too_long": "adresse web trop longue (au plus {max_length} caractères)",
    "url_scheme": "schéma d'adresse non admis (attendu : {expected_schemes})",
    "uuid_type": "identifiant (UUID) attendu",
    "uuid_parsing": "identifiant (UUID) invalide",
    "uuid_version": "identifiant (UUID) de version {expected_version} attendu",
    "decimal_type": "nombre décimal attendu",
    "decimal_parsing": "nombre décimal attendu",
    "decimal_max_digits": "trop de chiffres (au plus {max_digits})",
    "decimal_max_places": "trop de décimales (au plus {decimal_places})",
    "decimal_whole_digits": "trop de chiffres avant la virgule (au plus {whole_digits})",
    "fraction_type": "fraction attendue",
    "fraction_parsing": "fraction invalide",
    "complex_type": "nombre complexe attendu",
    "complex_str_parsing": "nombre complexe invalide",
}

#: French messages for the HTTP errors the frameworks raise with English text.
HTTP_MESSAGES: dict[int, str] = {
    400: "Corps de la requête illisible : JSON encodé en UTF-8 attendu.",
    401: "Authentification requise (en-tête Authorization: Bearer <jeton>).",
    403: "Accès refusé.",
    404: "Adresse inconnue : aucune ressource à ce chemin.",
    405: "Méthode non admise à cette adresse.",
    406: "Format de réponse non disponible : application/json.",
    413: "Corps de la requête trop volumineux.",
    415: "Type de contenu non admis : application/json attendu.",
    429: "Trop de requêtes : réessayez plus tard.",
}

#: The labels pydantic-core puts in an error's location for the schema it was in (a union
#: member, a validator), which name no field.
_SCHEMA_LABELS = frozenset(typing.get_args(core_schema.CoreSchemaType))
_LABEL = re.compile(r"^[\w-]+\[.*\]$")


class FrenchHTTPException(HTTPException):
    """An HTTP error whose ``detail`` is already a French sentence for the user."""


class Error(BaseModel):
    """Every error answer: one French sentence."""

    detail: str


class FieldError(BaseModel):
    """What is wrong with one field."""

    field: str
    message: str


class InvalidRequest(BaseModel):
    """A 422: one French sentence, then each field's error."""

    detail: str
    errors: list[FieldError]


def _field(location: tuple[Any, ...]) -> str:
    """The user's name for where an error lies: ``pieces.2.name``, a parameter, the body."""
    parts = list(location)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    names = [
        str(part)
        for part in parts
        if isinstance(part, int) or not (part in _SCHEMA_LABELS or _LABEL.match(str(part)))
    ]
    return ".".join(names) or BODY


def _format(template: str, context: Mapping[str, Any]) -> str:
    """``template`` filled from the error context (English list joints made French)."""
    values = {
        key: str(value).replace(" or ", " ou ").replace(" and ", " et ")
        for key, value in context.items()
    }
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return template.split(" (")[0]


def describe(error: Mapping[str, Any]) -> dict[str, str]:
    """One validation error as ``{"field", "message"}`` in French."""
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind == "value_error":
        # Raised by the product's own validators, in French.
        message = str(error.get("msg", "")).removeprefix("Value error, ")
    elif kind in FIELD_MESSAGES:
        message = _format(FIELD_MESSAGES[kind], context)
    else:
        # A PydanticCustomError: its type is the product's own, its message French.
        message = str(error.get("msg") or "valeur invalide")
    # A syntax error's location is a byte offset, not a field.
    field = BODY if kind == "json_invalid" else _field(tuple(error.get("loc", ())))
    return {"field": field, "message": message}


def validation_response(errors: list[dict[str, str]]) -> JSONResponse:
    """The 422 answer for ``errors``."""
    detail = "Requête invalide : " + " ; ".join(f"{e['field']} : {e['message']}" for e in errors)
    return JSONResponse({"detail": detail, "errors": errors}, status_code=422)


def http_error_response(error: HTTPException) -> JSONResponse:
    """A framework's HTTP error as French JSON, its headers (``Allow``...) kept."""
    if isinstance(error, FrenchHTTPException):
        detail = str(error.detail)
    else:
        try:
            phrase = HTTPStatus(error.status_code).phrase
        except ValueError:
            phrase = str(error.status_code)
        detail = HTTP_MESSAGES.get(error.status_code, f"Requête refusée ({phrase}).")
    return JSONResponse(
        {"detail": detail}, status_code=error.status_code, headers=dict(error.headers or {})
    )


def install(app: FastAPI) -> None:
    """Register the error handlers on ``app``."""

    @app.exception_handler(AcceleratorError)
    async def _domain_error(_request: Request, error: AcceleratorError) -> JSONResponse:
        if error.status_code == 422:
            # The same shape as a validation error: the message names no single field.
            return JSONResponse({"detail": error.message, "errors": []}, status_code=422)
        headers = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else None
        if isinstance(error, TooManyRequests):
            headers = {"Retry-After": str(error.retry_after)}
        return JSONResponse(
            {"detail": error.message}, status_code=error.status_code, headers=headers
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        return validation_response([describe(e) for e in error.errors()])

    @app.exception_handler(HTTPException)
    async def _http_error(_request: Request, error: HTTPException) -> JSONResponse:
        return http_error_response(error)
