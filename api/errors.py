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
from accelerator.shared.text import t, t_template

#: The field named when an error is about the body as a whole (its syntax, its absence).
BODY = t("field.body")

#: A French message for every error type of pydantic-core (``ErrorType``; a test checks that
#: none is missing). ``{...}`` are filled from the error's context.
FIELD_MESSAGES: dict[str, str] = {
    "no_such_attribute": t_template("field.no_such_attribute"),
    "json_invalid": t_template("field.json_invalid"),
    "json_type": t_template("field.json_type"),
    "needs_python_object": t_template("field.needs_python_object"),
    "recursion_loop": t_template("field.recursion_loop"),
    "recursion_depth_exceeded": t_template("field.recursion_depth_exceeded"),
    "missing": t_template("field.missing"),
    "frozen_field": t_template("field.frozen_field"),
    "frozen_instance": t_template("field.frozen_instance"),
    "extra_forbidden": t_template("field.extra_forbidden"),
    "invalid_key": t_template("field.invalid_key"),
    "get_attribute_error": t_template("field.get_attribute_error"),
    "model_type": t_template("field.model_type"),
    "model_attributes_type": t_template("field.model_attributes_type"),
    "dataclass_type": t_template("field.dataclass_type"),
    "dataclass_exact_type": t_template("field.dataclass_exact_type"),
    "named_tuple_type": t_template("field.named_tuple_type"),
    "default_factory_not_called": t_template("field.default_factory_not_called"),
    "none_required": t_template("field.none_required"),
    "greater_than": t_template("field.greater_than"),
    "greater_than_equal": t_template("field.greater_than_equal"),
    "less_than": t_template("field.less_than"),
    "less_than_equal": t_template("field.less_than_equal"),
    "multiple_of": t_template("field.multiple_of"),
    "finite_number": t_template("field.finite_number"),
    # Lists and strings alike (a constrained text raises these too).
    "too_short": t_template("field.too_short"),
    "too_long": t_template("field.too_long"),
    "iterable_type": t_template("field.iterable_type"),
    "iteration_error": t_template("field.iteration_error"),
    "string_type": t_template("field.string_type"),
    "string_unicode": t_template("field.string_unicode"),
    "string_too_short": t_template("field.string_too_short"),
    "string_too_long": t_template("field.string_too_long"),
    "string_pattern_mismatch": t_template("field.string_pattern_mismatch"),
    "string_not_ascii": t_template("field.string_not_ascii"),
    "enum": t_template("field.enum"),
    "dict_type": t_template("field.dict_type"),
    "frozen_dict_type": t_template("field.frozen_dict_type"),
    "ordered_dict_type": t_template("field.ordered_dict_type"),
    "counter_type": t_template("field.counter_type"),
    "mapping_type": t_template("field.mapping_type"),
    "list_type": t_template("field.list_type"),
    "deque_type": t_template("field.deque_type"),
    "tuple_type": t_template("field.tuple_type"),
    "set_type": t_template("field.set_type"),
    "set_item_not_hashable": t_template("field.set_item_not_hashable"),
    "bool_type": t_template("field.bool_type"),
    "bool_parsing": t_template("field.bool_parsing"),
    "int_type": t_template("field.int_type"),
    "int_parsing": t_template("field.int_parsing"),
    "int_parsing_size": t_template("field.int_parsing_size"),
    "int_from_float": t_template("field.int_from_float"),
    "float_type": t_template("field.float_type"),
    "float_parsing": t_template("field.float_parsing"),
    "bytes_type": t_template("field.bytes_type"),
    "bytes_too_short": t_template("field.bytes_too_short"),
    "bytes_too_long": t_template("field.bytes_too_long"),
    "bytes_invalid_encoding": t_template("field.bytes_invalid_encoding"),
    "value_error": t_template("field.value_error"),
    "assertion_error": t_template("field.assertion_error"),
    "literal_error": t_template("field.literal_error"),
    "missing_sentinel_error": t_template("field.missing_sentinel_error"),
    "ellipsis_error": t_template("field.ellipsis_error"),
    "date_type": t_template("field.date_type"),
    "date_parsing": t_template("field.date_parsing"),
    "date_from_datetime_parsing": t_template("field.date_from_datetime_parsing"),
    "date_from_datetime_inexact": t_template("field.date_from_datetime_inexact"),
    "date_past": t_template("field.date_past"),
    "date_future": t_template("field.date_future"),
    "time_type": t_template("field.time_type"),
    "time_parsing": t_template("field.time_parsing"),
    "datetime_type": t_template("field.datetime_type"),
    "datetime_parsing": t_template("field.datetime_parsing"),
    "datetime_object_invalid": t_template("field.datetime_object_invalid"),
    "datetime_from_date_parsing": t_template("field.datetime_from_date_parsing"),
    "datetime_past": t_template("field.datetime_past"),
    "datetime_future": t_template("field.datetime_future"),
    "timezone_naive": t_template("field.timezone_naive"),
    "timezone_aware": t_template("field.timezone_aware"),
    "timezone_offset": t_template("field.timezone_offset"),
    "time_delta_type": t_template("field.time_delta_type"),
    "time_delta_parsing": t_template("field.time_delta_parsing"),
    "frozen_set_type": t_template("field.frozen_set_type"),
    "is_instance_of": t_template("field.is_instance_of"),
    "is_subclass_of": t_template("field.is_subclass_of"),
    "callable_type": t_template("field.callable_type"),
    "union_tag_invalid": t_template("field.union_tag_invalid"),
    "union_tag_not_found": t_template("field.union_tag_not_found"),
    "arguments_type": t_template("field.arguments_type"),
    "missing_argument": t_template("field.missing_argument"),
    "unexpected_keyword_argument": t_template("field.unexpected_keyword_argument"),
    "missing_keyword_only_argument": t_template("field.missing_keyword_only_argument"),
    "unexpected_positional_argument": t_template("field.unexpected_positional_argument"),
    "missing_positional_only_argument": t_template("field.missing_positional_only_argument"),
    "multiple_argument_values": t_template("field.multiple_argument_values"),
    "url_type": t_template("field.url_type"),
    "url_parsing": t_template("field.url_parsing"),
    "url_syntax_violation": t_template("field.url_syntax_violation"),
    "url_too_long": t_template("field.url_too_long"),
    "url_scheme": t_template("field.url_scheme"),
    "uuid_type": t_template("field.uuid_type"),
    "uuid_parsing": t_template("field.uuid_parsing"),
    "uuid_version": t_template("field.uuid_version"),
    "decimal_type": t_template("field.decimal_type"),
    "decimal_parsing": t_template("field.decimal_parsing"),
    "decimal_max_digits": t_template("field.decimal_max_digits"),
    "decimal_max_places": t_template("field.decimal_max_places"),
    "decimal_whole_digits": t_template("field.decimal_whole_digits"),
    "fraction_type": t_template("field.fraction_type"),
    "fraction_parsing": t_template("field.fraction_parsing"),
    "complex_type": t_template("field.complex_type"),
    "complex_str_parsing": t_template("field.complex_str_parsing"),
}

#: French messages for the HTTP errors the frameworks raise with English text.
HTTP_MESSAGES: dict[int, str] = {
    400: t("http.status_400"),
    401: t("http.status_401"),
    403: t("http.status_403"),
    404: t("http.status_404"),
    405: t("http.status_405"),
    406: t("http.status_406"),
    413: t("http.status_413"),
    415: t("http.status_415"),
    429: t("http.status_429"),
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
        key: str(value).replace(" or ", t("field.joint_or")).replace(" and ", t("field.joint_and"))
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
        message = str(error.get("msg") or t("field.value_error"))
    # A syntax error's location is a byte offset, not a field.
    field = BODY if kind == "json_invalid" else _field(tuple(error.get("loc", ())))
    return {"field": field, "message": message}


def validation_response(errors: list[dict[str, str]]) -> JSONResponse:
    """The 422 answer for ``errors``."""
    detail = t("http.invalid_request") + " ; ".join(
        f"{e['field']} : {e['message']}" for e in errors
    )
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
        detail = HTTP_MESSAGES.get(error.status_code, t("http.refused", phrase=phrase))
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
