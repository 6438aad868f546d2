"""A service dies at a fail point under load; restarted, the system loses and repeats nothing.

Each scenario starts intake, routing and casework (the services of the effect chain a diagnosis
causes; `conftest.py`) on a namespace of its own, with one of them armed to end its process at
a fail point (`carenet_kit.fail_points`), and registers and diagnoses patients over HTTP: at
least `patients`, and on until the armed service has died (at most `LOAD_SECONDS`), since when
a point is reached depends on how the relay's reads fall (`relay.partly-acknowledged` needs a
read that spans partitions). When the armed service dies (exit status `EXIT_STATUS`: it really
reached the point), it is started again, unarmed, as an orchestrator would, and the load goes
on. Once the system is quiet, the independent checker (`checker.py`) reads every topic. A
scenario's negative control runs it again with the guard that covers that crash turned off, and
the checker must then find the anomaly: a scenario whose control passes proves nothing, and fails.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from carenet_kit.fail_points import EXIT_STATUS

from .conftest import PATIENTS, Run, Starter

pytestmark = pytest.mark.timeout(600)


@dataclass(frozen=True)
class Scenario:
    service: str
    fail_point: str
    """Where (and on which pass) the service dies: `CARENET_FAIL_POINTS`."""
    guard: str
    """What keeps that crash harmless, turned off in the negative control."""
    shows: str
    """The anomaly the checker finds without the guard."""
    unsigned: int = 0
    """Messages no consumer may act on, sent before the load (to be dead-lettered)."""
    patients: int = PATIENTS
    """The load: patients registered and diagnosed."""
    standby: bool = False
    """Whether intake has a standby replica, whose relay takes the lease when the armed one
    dies."""


SCENARIOS = [
    Scenario("intake", "relay.acknowledged:3", "relay-skip", "duplicated"),
    Scenario("intake", "relay.partly-acknowledged:2", "relay-lease", "duplicated", standby=True),
    Scenario("casework", "inbound.committed:3", "inbound-tracking", "stuck"),
    Scenario("casework", "inbound.dead-lettered:1", "dead-letter-first", "lost", 3, patients=4),
]
"""The relay and the inbound consumer are the kit's, the same in every service: one service
each (the one at the head of the chain for the relay, the one at its end for the consumer).
The relay dies twice: after a whole read was acknowledged, restarted on its own; and in the
middle of a read, a standby replica on the same store taking over its lease (without the
lease, both replicas publish what they read before either records it)."""


LOAD_SECONDS = 180
"""How long the load goes on, at most, for the armed service to reach its point."""


def died_or_after(run: Run, seconds: float) -> Callable[[], bool]:
    """Whether a process has died (and was started again), or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    return lambda: bool(run.crashes) or time.monotonic() > deadline


def _id(scenario: Scenario) -> str:
    return f"{scenario.service}-{scenario.fail_point.partition(':')[0]}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=_id)
def test_a_crash_at_the_fail_point_loses_and_repeats_nothing(
    start: Starter, scenario: Scenario
) -> None:
    run = start(scenario.service, {"CARENET_FAIL_POINTS": scenario.fail_point}, scenario.standby)
    run.send_unsigned(scenario.unsigned)
    run.diagnose(scenario.patients, until=died_or_after(run, LOAD_SECONDS))
    handed_over = run.standby is not None and run.lease_held(run.standby)
    anomalies = run.check()
    print(f"\n{_id(scenario)}: {run.summary(anomalies)}")
    assert run.crashes == [EXIT_STATUS]
    assert handed_over == scenario.standby  # the standby's relay publishes since the crash
    assert len(run.acknowledged) >= scenario.patients - 1
    assert sum(anomalies.counts().values()) == 0, anomalies.table()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=_id)
def test_without_its_guard_the_same_crash_shows_in_the_checker(
    start: Starter, scenario: Scenario
) -> None:
    run = start(
        scenario.service,
        {"CARENET_FAIL_POINTS": scenario.fail_point, "CARENET_UNGUARDED": scenario.guard},
        scenario.standby,
    )
    run.send_unsigned(scenario.unsigned)
    run.diagnose(scenario.patients, until=died_or_after(run, LOAD_SECONDS))
    anomalies = run.check()
    print(f"\n{_id(scenario)} without {scenario.guard}: {run.summary(anomalies)}")
    assert run.crashes == [EXIT_STATUS]
    assert anomalies.counts()[scenario.shows] > 0, anomalies.table()
