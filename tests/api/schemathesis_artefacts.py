"""The one class of schemathesis report that is about neither the API nor its document: a
query value that is sent as nothing.

In negative mode schemathesis may make a query value an empty list, or a list of empty
containers: ``status: []`` (a declared, optional parameter given the wrong type) or an
undeclared parameter ``'': []`` (to violate ``additionalProperties``). A query string cannot
carry an empty list: it is serialised as no parameter at all, so the request that reaches the
API is ``GET /api/v1/dossiers?limit=38``, the valid request without that parameter, which the
API rightly answers 200. ``negative_data_rejection`` then reports "Schema-violating request
accepted" for a violation that never left the tool. (Checked by hand: ``?limit=38`` answers
200; ``?limit=38&status=`` and ``?limit=38&=`` answer 422, ``status=[]`` has no other form on
the wire.)

schemathesis' own guards drop most such cases (an optional parameter that was not sent, a
negation made only of additional properties), but not when the same case also negated the
headers, by removing or spoiling ``Authorization``. This harness sends each role's own
credentials over the generated headers (``case.call(headers=...)``: that is how a role is
tested), so that negation never reaches the API either, yet the check still counts it.

A report is excluded only when every negation the case made is one of these two, judged on the
request actually sent (its URL and headers): each query negation is a value sent as nothing,
what was sent is exactly the rest of the generated query (each parameter once, declared, valid
for its schema), each header negation is a header the harness replaced, and nothing else (body,
path, cookies) was negated. Anything else stays a failure. In particular a list that *is* sent
(``offset: [junk, 0.0]`` → ``?offset=junk&offset=0.0``) is not this artefact: the API used to
read the last value, and now refuses a repeated parameter (``tests/api/test_repeated_query.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import schemathesis
from schemathesis.core.failures import AcceptedNegativeData
from schemathesis.core.parameters import ParameterLocation

#: How the artefact is named in the figures.
UNSENT_QUERY_VALUE = "query value sent as nothing (empty list), credentials replaced by the harness"


def sent_as_nothing(value: object) -> bool:
    """Whether a generated query value is serialised as no parameter at all: an empty list or
    object, or a list holding only such values (an object's keys would be sent)."""
    if isinstance(value, list):
        return all(sent_as_nothing(item) for item in value)
    return isinstance(value, dict) and not value


def unsent_query_value(
    case: schemathesis.Case, response: Any, failure: BaseException, headers: Mapping[str, str]
) -> bool:
    """Whether ``failure`` is the artefact described above (``headers``: the harness's)."""
    meta = case.meta
    if not isinstance(failure, AcceptedNegativeData) or meta is None:
        return False
    if not meta.generation.mode.is_negative or any(
        meta.is_negative_at(location)
        for location in (ParameterLocation.BODY, ParameterLocation.PATH, ParameterLocation.COOKIE)
    ):
        return False
    mutations = getattr(meta.phase.data, "mutations", None) or ()
    query: Mapping[str, Any] = case.query if isinstance(case.query, Mapping) else {}
    request = response.request
    sent = parse_qs(urlsplit(request.url).query, keep_blank_values=True)
    declared = case.operation.query
    unsent = {name for name, value in query.items() if sent_as_nothing(value) and name not in sent}
    if not unsent or not any(m.parameter_location == ParameterLocation.QUERY for m in mutations):
        return False
    # What reached the API is the rest of the generated query, each parameter once and valid.
    rest = {name: value for name, value in query.items() if name not in unsent}
    if set(sent) != {name for name, value in rest.items() if value is not None}:
        return False
    for name, value in rest.items():
        parameter = declared.get(name)
        if parameter is None or len(sent.get(name, [None])) != 1:
            return False
        if not parameter.get_validator().is_valid(value):
            return False
    undeclared = {name for name in query if declared.get(name) is None}
    replaced = {name.lower(): value for name, value in headers.items()}
    sent_headers = {name.lower(): value for name, value in request.headers.items()}
    for mutation in mutations:
        location, name = mutation.parameter_location, mutation.parameter
        if location == ParameterLocation.QUERY:
            if name is not None:
                never_sent = name in unsent
            else:  # an additionalProperties negation: every undeclared parameter sent as nothing
                never_sent = (
                    "additionalProperties" in mutation.keywords
                    and bool(undeclared)
                    and undeclared <= unsent
                )
        elif location == ParameterLocation.HEADER and name is not None:
            key = name.lower()
            never_sent = key in replaced and sent_headers.get(key) == replaced[key]
        else:
            never_sent = False
        if not never_sent:
            return False
    return True
