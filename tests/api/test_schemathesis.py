"""schemathesis, in-process, against the OpenAPI document as every role: no server error, every
answer conforms to the document (status documented, body and headers as described), data that
does not fit the document refused.

A short budget (``SCHEMATHESIS_EXAMPLES`` per operation, role and generation mode);
``bench/bench_schemathesis.py`` runs the long one. The harness is tests/api/schemathesis_run.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.conftest import Api
from tests.api.schemathesis_run import failures, run

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "4"))

#: The account each role signs in with (``None``: anonymous).
ROLES: dict[str, str | None] = {
    "anonymous": None,
    "holder": "holder@test.fr",
    "referent": "referent@test.fr",
    "agent": "agent.sdis-65@test.fr",
    "manager": "manager@test.fr",
    "admin": "admin@test.fr",
}


def test_the_api_keeps_its_contract_as_every_role(
    client: TestClient, api: Callable[[str], Api]
) -> None:
    headers = {role: ({} if email is None else api(email).headers) for role, email in ROLES.items()}
    outcomes = run(client.app, headers, examples=EXAMPLES)
    assert len({o.operation for o in outcomes}) > 20
    positive = [o for o in outcomes if o.mode == "positive"]
    assert all(o.examples > 0 for o in positive), [o for o in positive if not o.examples]
    found = failures(outcomes)
    assert not found, f"{len(found)} failures:\n" + "\n".join(found)
