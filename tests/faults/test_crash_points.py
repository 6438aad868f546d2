"""A service dies at a fail point under load; restarted, the system loses and repeats nothing.

Each scenario starts intake, routing and casework (the services of the effect chain a diagnosis
causes) on a namespace of its own, with one of them armed to end its process at a fail point
(`carenet_kit.fail_points`), and registers and diagnoses patients over HTTP. When the armed
service dies (exit status `EXIT_STATUS`: it really reached the point), it is started again,
unarmed, as an orchestrator would, and the load goes on. Once the system is quiet, the
independent checker (`checker.py`) reads every topic. A scenario's negative control runs it
again with the guard that covers that crash turned off, and the checker must then find the
anomaly: a scenario whose control passes proves nothing, and fails.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from carenet_devtools import kafka
from carenet_devtools.issuer import DevIssuer
from carenet_devtools.kafka import run_sync
from carenet_devtools.services import SERVICES, ServiceProcess, service_processes
from carenet_kit.fail_points import EXIT_STATUS
from carenet_kit.topics import DEAD_LETTER_TOPIC, load_catalog
from tests.e2e.conftest import free_port
from tests.e2e.pathway import CLINICIAN, diagnosis, registration

from .checker import Anomalies, Consumer, check, wait_until_quiet

pytestmark = pytest.mark.timeout(600)

REPOSITORY = Path(__file__).parents[2]
CONSUMES = {
    "intake": ("routing", "casework"),
    "routing": ("intake", "casework"),
    "casework": ("routing", "intake"),
}
PATIENTS = 24


@dataclass
class Run:
    """One scenario's system and what its callers were told."""

    bootstrap: str
    namespace: str
    processes: dict[str, ServiceProcess]
    issuer: DevIssuer
    registered: set[str] = field(default_factory=set)
    acknowledged: set[str] = field(default_factory=set)
    crashes: list[int] = field(default_factory=list)
    """The exit status of each process found dead (and started again)."""
    seconds: dict[str, float] = field(default_factory=dict)
    """How long the load and the wait for quiet took."""

    def summary(self, anomalies: Anomalies) -> str:
        timings = ", ".join(f"{phase} {seconds:.0f} s" for phase, seconds in self.seconds.items())
        return f"{len(self.acknowledged)} diagnoses acknowledged ({timings})\n{anomalies.table()}"

    def topic(self, producer: str) -> str:
        return self.namespace + load_catalog().topic_of(producer).name

    def diagnose(self, patients: int) -> None:
        """Register and diagnose `patients`, restarting (unarmed) any service found dead."""
        started = time.monotonic()
        for serial in range(patients):
            self._restart_the_dead()
            try:
                with self._intake() as intake:
                    answer = intake.post("/v1/patients", json=registration(serial))
                    assert answer.status_code == 201, answer.text
                    patient = answer.json()["patient_id"]
                    self.registered.add(patient)
                    answer = intake.post(f"/v1/patients/{patient}/diagnoses", json=diagnosis())
                    assert answer.status_code == 201, answer.text
                    self.acknowledged.add(patient)
            except httpx.TransportError:  # intake died in the call: no answer, no promise
                self._wait_for_a_death()
        self.seconds["load"] = time.monotonic() - started

    def check(self) -> Anomalies:
        self._wait_for_a_death(timeout=0)
        self._restart_the_dead()
        producers, started = list(CONSUMES), time.monotonic()
        not_quiet = wait_until_quiet(
            self.bootstrap,
            [
                Consumer(f"{self.namespace}carenet-{name}", tuple(map(self.topic, consumes)))
                for name, consumes in CONSUMES.items()
            ],
            [process.url for process in self.processes.values()],
            [self.topic(p) for p in producers],
        )
        self.seconds["until quiet"] = time.monotonic() - started
        return check(
            self.bootstrap,
            {p: self.topic(p) for p in producers},
            self.namespace + DEAD_LETTER_TOPIC,
            self.acknowledged,
            self.registered,
            not_quiet,
        )

    def _intake(self) -> httpx.Client:
        token = self.issuer.token_of(CLINICIAN)
        return httpx.Client(
            base_url=self.processes["intake"].url,
            timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        )

    def _wait_for_a_death(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(p.process and p.process.poll() is not None for p in self.processes.values()):
            if time.monotonic() >= deadline:
                return
            time.sleep(0.1)

    def _restart_the_dead(self) -> None:
        for name, process in self.processes.items():
            if process.process is None or (status := process.process.poll()) is None:
                continue
            self.crashes.append(status)
            unarmed = {k: v for k, v in process.env.items() if k != "CARENET_FAIL_POINTS"}
            self.processes[name] = dataclasses.replace(process, env=unarmed)
            self.processes[name].start()
            self.processes[name].wait_ready()


Starter = Callable[[str, dict[str, str]], Run]
"""Starts a scenario's system: (the armed service, its extra settings)."""


@pytest.fixture
def start(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Starter]:
    runs: list[Run] = []

    def started(armed: str, env: dict[str, str]) -> Run:
        namespace = f"faults-{uuid4().hex[:8]}."
        run_sync(kafka.create_topics(kafka_bootstrap, namespace=namespace))
        run_dir = tmp_path / namespace.rstrip(".")
        processes = service_processes(
            run_dir,
            {
                "CARENET_KAFKA_BOOTSTRAP": kafka_bootstrap,
                "CARENET_TOPIC_NAMESPACE": namespace,
                "CARENET_REFERENCE_FILE": str(REPOSITORY / "reference" / "demo-directory.yaml"),
                "CARENET_RULE_SET_FILE": str(REPOSITORY / "rules" / "nhc-2018.yaml"),
            },
            ports={name: free_port() for name in SERVICES},
            env_of={armed: env},
        )
        run = Run(
            kafka_bootstrap,
            namespace,
            {name: processes[name] for name in CONSUMES},
            DevIssuer(run_dir / "keys"),
        )
        runs.append(run)
        for process in run.processes.values():
            process.start()
        for process in run.processes.values():
            process.wait_ready()
        return run

    yield started
    for run in runs:
        for process in run.processes.values():
            process.kill()  # a wedged consumer (a negative control) would not stop cleanly


@dataclass(frozen=True)
class Scenario:
    service: str
    fail_point: str
    """Where (and on which pass) the service dies: `CARENET_FAIL_POINTS`."""
    guard: str
    """What keeps that crash harmless, turned off in the negative control."""
    shows: str
    """The anomaly the checker finds without the guard."""


SCENARIOS = [
    Scenario("intake", "relay.acknowledged:3", "relay-skip", "duplicated"),
    Scenario("casework", "inbound.committed:3", "inbound-tracking", "stuck"),
]
"""The relay and the inbound consumer are the kit's, the same in every service: one service
each (the one at the head of the chain for the relay, the one at its end for the consumer)."""


def _id(scenario: Scenario) -> str:
    return f"{scenario.service}-{scenario.fail_point.partition(':')[0]}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=_id)
def test_a_crash_at_the_fail_point_loses_and_repeats_nothing(
    start: Starter, scenario: Scenario
) -> None:
    run = start(scenario.service, {"CARENET_FAIL_POINTS": scenario.fail_point})
    run.diagnose(PATIENTS)
    anomalies = run.check()
    print(f"\n{_id(scenario)}: {run.summary(anomalies)}")
    assert run.crashes == [EXIT_STATUS]
    assert len(run.acknowledged) >= PATIENTS - 1
    assert sum(anomalies.counts().values()) == 0, anomalies.table()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=_id)
def test_without_its_guard_the_same_crash_shows_in_the_checker(
    start: Starter, scenario: Scenario
) -> None:
    run = start(
        scenario.service,
        {"CARENET_FAIL_POINTS": scenario.fail_point, "CARENET_UNGUARDED": scenario.guard},
    )
    run.diagnose(PATIENTS)
    anomalies = run.check()
    print(f"\n{_id(scenario)} without {scenario.guard}: {run.summary(anomalies)}")
    assert run.crashes == [EXIT_STATUS]
    assert anomalies.counts()[scenario.shows] > 0, anomalies.table()
