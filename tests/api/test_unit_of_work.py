"""A route's unit of work (transaction, user, route, commit) runs in one worker thread."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import anyio.to_thread
import pytest
from sqlalchemy import event

from tests.api.conftest import HOTEL, Api


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The threads of every hop to the thread pool (starlette and FastAPI hop through anyio)."""
    seen: list[int] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        def observed(*inner: Any) -> Any:
            seen.append(threading.get_ident())
            return function(*inner)

        return await run_sync(observed, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    yield seen


def test_filing_takes_one_hop_to_the_thread_pool(
    api: Callable[[str], Api], hops: list[int]
) -> None:
    holder = api("holder@test.fr")
    dossier = holder.post("/api/v1/dossiers", 201, json=HOTEL)
    statements: list[int] = []
    engine = holder.client.app.state.database.engine  # type: ignore[attr-defined]
    listener = lambda *_args: statements.append(threading.get_ident())  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    hops.clear()
    try:
        filed = holder.post(
            f"/api/v1/dossiers/{dossier['id']}/file", headers={"If-Match": str(dossier["version"])}
        )
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert filed["status"] == "filed" and filed["reference"].startswith("ACC-")
    # Token check, lock, reference, history, outbox, view and commit: all in that one thread.
    assert len(hops) == 1
    assert statements and set(statements) == set(hops)


def test_a_refused_action_leaves_nothing_behind(api: Callable[[str], Api], hops: list[int]) -> None:
    holder = api("holder@test.fr")
    dossier = holder.post("/api/v1/dossiers", 201, json={**HOTEL, "procedures": []})
    hops.clear()
    refused = holder.post(f"/api/v1/dossiers/{dossier['id']}/file", 422)
    assert "au moins une procédure" in refused["detail"] and len(hops) == 1
    again = holder.get(f"/api/v1/dossiers/{dossier['id']}")
    assert (again["status"], again["reference"], again["version"]) == ("draft", None, 1)
    assert [h["event"] for h in again["history"]] == ["created"]
    holder.client.headers.clear()
    anonymous = holder.client.post(f"/api/v1/dossiers/{dossier['id']}/file")
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"] == "Bearer"
