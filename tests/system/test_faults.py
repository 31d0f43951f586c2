"""kill -9 of an API process, a relay, a worker and Prefect's server at random moments, then
restart: after convergence no dossier lost, no consultation missing or doubled, no
notification lost. CI runs one round (each of the four kinds of process killed once, at its own
random moment; ACCELERATOR_FAULT_ROUNDS for more); bench/bench_faults.py runs a hundred."""

from __future__ import annotations

import os
import random
import time
from typing import Any

import pytest

from tests.system.faults import FAULT_SETTINGS, VICTIMS, fault_round
from tests.system.steps import subscribe

ROUNDS = int(os.environ.get("ACCELERATOR_FAULT_ROUNDS", "1"))
#: A cluster's start, then rounds of kills and convergence: the time allowed grows with them.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600 + 600 * ROUNDS)]
DOSSIERS_PER_ROUND = 8


def test_nothing_is_lost_when_processes_are_killed(system_factory: Any) -> None:
    seed = int(os.environ.get("ACCELERATOR_FAULT_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    system = system_factory(**FAULT_SETTINGS)
    secrets = subscribe(system)
    for number in range(ROUNDS):
        result = fault_round(system, rng, number, DOSSIERS_PER_ROUND, secrets)
        assert sorted(result.kills) == sorted(VICTIMS), result
        assert result.clean, f"seed {seed}, round {number}: {result}"
        assert result.consultations >= 3 * DOSSIERS_PER_ROUND
