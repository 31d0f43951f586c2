"""Fault rounds: dossiers filed and consultations launched while an API process, a relay, a
worker and Prefect's server are each killed with SIGKILL at a random moment and restarted.
After convergence nothing may be lost or doubled. Used by tests/system/test_faults.py (a
few rounds) and bench/bench_faults.py (a hundred, for docs/benchmarks.md)."""

from __future__ import annotations

import collections
import random
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import select

from accelerator.dossiers.models import Dossier, ProposedAdministration
from tests.receivers import event_of, valid_signature
from tests.system.cluster import Client
from tests.system.conftest import HOLDERS, System
from tests.system.steps import (
    consultations_of,
    converge,
    file_one_resiliently,
    intake_done,
    launch_all,
    query,
    undelivered,
)

#: Each is killed once per round, at a random moment; the other process of each kind lives.
VICTIMS = ("api1", "relay1", "worker1", "prefect")

#: What the cluster of a fault round is tuned for: short leases and a frequent
#: reconciliation, so that a round converges in about a minute instead of five.
FAULT_SETTINGS = {
    "ACCELERATOR_OUTBOX_LEASE_SECONDS": "15",
    "ACCELERATOR_RECONCILE_INTERVAL_SECONDS": "5",
    "ACCELERATOR_RECONCILE_GRACE_SECONDS": "20",
    "ACCELERATOR_STUCK_RUN_SECONDS": "45",
}


@dataclass
class RoundResult:
    """What one round filed, and what it found after convergence."""

    dossiers: int = 0
    consultations: int = 0
    lost_dossiers: int = 0
    missing_consultations: int = 0
    doubled_consultations: int = 0
    lost_emails: int = 0
    duplicate_emails: int = 0
    lost_webhooks: int = 0
    bad_signatures: int = 0
    kills: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def clean(self) -> bool:
        return not (
            self.lost_dossiers
            or self.missing_consultations
            or self.doubled_consultations
            or self.lost_emails
            or self.lost_webhooks
            or self.bad_signatures
        )


def chaos(system: System, rng: random.Random, within: float, done: list[str]) -> threading.Thread:
    """Kill each victim once, at a random moment of the next ``within`` seconds, and restart
    it after a random pause."""
    plan = sorted((rng.uniform(0, within), victim) for victim in VICTIMS)

    def run() -> None:
        began = time.monotonic()
        for at, victim in plan:
            time.sleep(max(0.0, began + at - time.monotonic()))
            system.cluster.kill(victim)
            done.append(victim)
            time.sleep(rng.uniform(0.2, 3.0))
            system.cluster.restart(victim)

    thread = threading.Thread(target=run, name="chaos", daemon=True)
    thread.start()
    return thread


def fault_round(
    system: System, rng: random.Random, number: int, dossiers: int, secrets: dict[str, str]
) -> RoundResult:
    """File ``dossiers`` and launch their consultations under fire; check after convergence.
    ``secrets``: each administration's webhook secret (see ``steps.subscribe``)."""
    result = RoundResult(dossiers=dossiers)
    began = time.monotonic()
    inbox_before = len(system.inbox.snapshot())
    hooks_before = len(system.receiver.snapshot())
    holders = [[Client(url, h) for url in system.apis] for h in HOLDERS]
    thread = chaos(system, rng, within=20.0, done=result.kills)

    ids: list[str] = []
    for index in range(dossiers):  # spread over the chaos window
        ids.append(file_one_resiliently(holders[index % len(holders)], index, prefix=f"r{number}-"))
        time.sleep(rng.uniform(0.0, 0.6))
    converge(system, lambda: intake_done(system, ids), 300, f"round {number}: intake")
    launch_all(system, ids, resilient=True)
    thread.join(timeout=120)

    proposed = query(
        system,
        select(ProposedAdministration.dossier_id, ProposedAdministration.administration_code)
        .where(ProposedAdministration.dossier_id.in_(ids)),
    )  # fmt: skip
    expected = {(row.dossier_id, row.administration_code) for row in proposed}

    def converged() -> bool:
        found = {(row.dossier_id, row.administration_code) for row in consultations_of(system, ids)}
        return found >= expected and undelivered(system) == 0

    converge(system, converged, 300, f"round {number}: consultations and the outbox")
    time.sleep(1)  # the last SMTP and HTTP exchanges land

    known = {str(row.id) for row in query(system, select(Dossier.id).where(Dossier.id.in_(ids)))}
    result.lost_dossiers = len(set(ids) - known)
    created = consultations_of(system, ids)
    pairs = collections.Counter((row.dossier_id, row.administration_code) for row in created)
    result.consultations = len(created)
    result.missing_consultations = len(expected - set(pairs))
    result.doubled_consultations = sum(n - 1 for n in pairs.values() if n > 1)

    mails = system.inbox.snapshot()[inbox_before:]
    wanted = collections.Counter()
    references = dict(
        query(system, select(Dossier.id, Dossier.reference).where(Dossier.id.in_(ids)))
    )
    for reference in references.values():
        wanted[("receipt", reference)] = 1
    for row in created:
        wanted[("consultation", row.administration_code, references[row.dossier_id])] += 1
    got = collections.Counter()
    for message in mails:
        subject = message["Subject"]
        for reference in references.values():
            if reference in subject:
                if subject.endswith("déposé"):
                    got[("receipt", reference)] += 1
                elif message["To"].startswith("agent."):
                    code = _administration_of(message["To"])
                    got[("consultation", code, reference)] += 1
    result.lost_emails = sum(max(0, n - got[key]) for key, n in wanted.items())
    result.duplicate_emails = sum(max(0, got[key] - n) for key, n in wanted.items())

    hooks = system.receiver.snapshot()[hooks_before:]
    announced = {event_of(record)["data"]["consultation_id"] for record in hooks}
    result.bad_signatures = sum(
        not valid_signature(secrets[event_of(record)["administration"]], record) for record in hooks
    )
    result.lost_webhooks = len({str(row.id) for row in created} - announced)
    result.seconds = time.monotonic() - began
    return result


def _administration_of(address: str) -> str:
    """``agent.sdis-65@system.test`` → ``SDIS-65``."""
    return address.split("@")[0].removeprefix("agent.").upper()
