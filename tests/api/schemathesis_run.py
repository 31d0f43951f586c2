"""schemathesis as every role, in-process: the harness of tests/api/test_schemathesis.py (short
budget) and bench/bench_schemathesis.py (long budget).

For each role, operation and generation mode (data that fits the document, and data that does
not), schemathesis generates requests with Hypothesis and sends them through its ASGI
transport (no network); every answer is checked and every failure recorded (not raised, so
that one run lists them all):

- ``not_a_server_error``: no 5xx;
- ``status_code_conformance``: the status is documented for the operation;
- ``content_type_conformance``, ``response_headers_conformance``,
  ``response_schema_conformance``: the answer is what the document describes;
- ``negative_data_rejection``: data that does not fit the document is refused (4xx).

``positive_data_acceptance`` is not run: valid-looking data is often refused by the product's
rules (an unknown commune, an id that names nothing), which the document cannot express.

One class of report is an artefact of the tool and the harness, not of the API (a query value
sent as nothing, see tests/api/schemathesis_artefacts.py): it is counted apart
(``Outcome.excluded``), never among the failures.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Mapping
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.schemathesis_artefacts import unsent_query_value

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@dataclasses.dataclass
class Outcome:
    """What one role met on one operation in one generation mode."""

    role: str
    operation: str
    mode: str
    examples: int = 0
    statuses: dict[int, int] = dataclasses.field(default_factory=dict)
    #: Distinct failures: title → one reproduction (method, path, status, body excerpt).
    failures: dict[str, str] = dataclasses.field(default_factory=dict)
    #: Failing examples by kind of failure (``ServerError``, ``UndefinedStatusCode``...).
    kinds: dict[str, int] = dataclasses.field(default_factory=dict)
    #: Reports excluded as the tool's artefact (schemathesis_artefacts), and one reproduction.
    excluded: int = 0
    excluded_example: str = ""
    seconds: float = 0.0


def _reproduction(case: schemathesis.Case, response: Any) -> str:
    body = case.body if not isinstance(case.body, bytes) else case.body[:200]
    body = "—" if isinstance(body, NotSet) else body
    text = getattr(response, "text", "")[:300] if response is not None else ""
    return (
        f"{case.method} {case.formatted_path} query={case.query!r} body={str(body)[:300]} "
        f"→ {getattr(response, 'status_code', '?')} {text}"
    )


def run(
    app: Any,
    headers_by_role: Mapping[str, Mapping[str, str]],
    *,
    examples: int,
    modes: tuple[GenerationMode, ...] = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE),
    only: str = "",
) -> list[Outcome]:
    """Run schemathesis against ``app`` as each role; one ``Outcome`` per role, operation, mode
    (``only``: the operations whose path starts with it)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [
        operation
        for operation in (result.ok() for result in schema.get_all_operations())
        if operation.path.startswith(only)
    ]
    outcomes: list[Outcome] = []
    for role, headers in headers_by_role.items():
        for operation in operations:
            for mode in modes:
                outcome = Outcome(role, f"{operation.method.upper()} {operation.path}", mode.value)
                outcomes.append(outcome)
                _probe(operation, mode, headers, outcome, examples)
    return outcomes


def _probe(
    operation: Any,
    mode: GenerationMode,
    headers: Mapping[str, str],
    outcome: Outcome,
    examples: int,
) -> None:
    started = time.perf_counter()

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def probe(case: schemathesis.Case) -> None:
        outcome.examples += 1
        response = None
        try:
            response = case.call(headers=dict(headers))
            outcome.statuses[response.status_code] = (
                outcome.statuses.get(response.status_code, 0) + 1
            )
            case.validate_response(response, checks=CHECKS, headers=dict(headers))
        except schemathesis.errors.SchemathesisError as error:
            outcome.failures.setdefault(f"schemathesis: {type(error).__name__}", str(error)[:300])
        except (Exception, FailureGroup) as error:  # the checks' failures, or the app raising
            failures = getattr(error, "exceptions", None) or [error]
            for failure in failures:
                if response is not None and unsent_query_value(case, response, failure, headers):
                    outcome.excluded += 1
                    outcome.excluded_example = outcome.excluded_example or _reproduction(
                        case, response
                    )
                    continue
                kind = type(failure).__name__
                outcome.kinds[kind] = outcome.kinds.get(kind, 0) + 1
                title = getattr(failure, "title", None) or kind
                outcome.failures.setdefault(str(title), _reproduction(case, response))

    # Negative mode on an operation without inputs: nothing to make invalid.
    with contextlib.suppress(Unsatisfiable):
        probe()
    outcome.seconds = time.perf_counter() - started


def failures(outcomes: list[Outcome]) -> list[str]:
    """Every failure as one line: role, operation, mode, what failed, how to reproduce."""
    return [
        f"[{o.role}] {o.operation} ({o.mode}): {title}\n    {reproduction}"
        for o in outcomes
        for title, reproduction in o.failures.items()
    ]
