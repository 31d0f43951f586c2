"""A real server and a real browser for the pages' tests and screenshots.

The app runs under uvicorn on a free loopback port, on a SQLite database seeded with the demo
world (``seed.py``); the browser is Debian's Chromium (``/usr/bin/chromium``, installed by
``.ci/run`` with apt) driven headless by Playwright: Playwright never downloads a browser.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from accelerator.migrations.commands import upgrade
from accelerator.shared.config import Settings
from accelerator.shared.db import get_database, utcnow
from api.app import create_app
from tests.pages.seed import seed_history, seed_world

CHROMIUM = Path("/usr/bin/chromium")
DEMO_PASSWORD = "demo"
#: Each role's demo account and where it lands.
LANDINGS = {
    "holder@demo.test": ("/mes-dossiers", "Mes dossiers"),
    "referent@demo.test": ("/file-de-travail", "Ma file de travail"),
    "agent.ddt-65@demo.test": ("/mes-consultations", "Consultations de mon administration"),
    "manager@demo.test": ("/pilotage", "Pilotage des délais"),
    "admin@demo.test": ("/gestion", "Administration de la plateforme"),
}


def seeded_database(
    directory: Path, *, now: dt.datetime | None = None, history: bool = False
) -> str:
    """A migrated SQLite database under ``directory`` holding the demo world (and, with
    ``history``, twelve weeks of past work for the managers' figures)."""
    url = f"sqlite:///{directory / 'pages.db'}"
    upgrade(url)
    now = now or utcnow()
    seed_world(get_database(url), now=now)
    if history:
        seed_history(get_database(url), now=now)
    return url


@contextmanager
def serve(url: str, *, configure: Callable[[str], dict[str, Any]] | None = None) -> Iterator[str]:
    """The product on ``url``'s database, served on a free loopback port: its base URL.
    ``configure(base)``: more settings, which may name the base URL (ProConnect's redirect)."""
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listening.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{listening.getsockname()[1]}"
    extra = configure(base) if configure else {}
    app = create_app(Settings(database_url=url, demo=True, **extra))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield base
    finally:
        server.should_exit = True
        thread.join(10)
        listening.close()


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless, through Playwright."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise RuntimeError(
            "Chromium is missing: apt-get install -y chromium (.ci/run does it); "
            "never `playwright install`."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()


def sign_in(page: Any, base_url: str, email: str, password: str = DEMO_PASSWORD) -> None:
    """Fill and send the sign-in form as a person would."""
    page.goto(f"{base_url}/login")
    page.get_by_label("Adresse électronique").fill(email)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def run_what_ifs(url: str) -> int:
    """Run every what-if queued on ``url``'s database, as the what-if flow's steps do (the
    served app has no relay): start, simulate on its history, store the answer. How many."""
    from sqlalchemy import select

    from accelerator.simulation.actions import run_what_if
    from accelerator.simulation.queries import held_times
    from accelerator.whatif.actions import finish_run, start_run
    from accelerator.whatif.models import SimulationRun

    database = get_database(url)
    with database.transaction() as session:
        queued = list(
            session.scalars(select(SimulationRun.id).where(SimulationRun.status == "queued"))
        )
        history = held_times(session)
    for run_id in queued:
        with database.transaction() as session:
            parameters = start_run(session, run_id=run_id, now=utcnow())
        assert parameters is not None
        answer = run_what_if(parameters, history=history)
        with database.transaction() as session:
            finish_run(session, run_id=run_id, result=answer, now=utcnow())
    return len(queued)
