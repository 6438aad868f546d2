"""The system a fault scenario runs: intake, routing and casework, and what callers were told."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypeVar
from uuid import uuid4

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from carenet_devtools import kafka
from carenet_devtools.issuer import DevIssuer
from carenet_devtools.kafka import run_sync
from carenet_devtools.rebuilds import read_model_diverges
from carenet_devtools.services import SERVICES, ServiceProcess, service_processes
from carenet_kit.topics import DEAD_LETTER_TOPIC, Profile, load_catalog
from tests.e2e.conftest import free_port
from tests.e2e.pathway import CLINICIAN, diagnosis, registration

from .checker import Anomalies, Consumer, Refusable, check, wait_until_quiet

REPOSITORY = Path(__file__).parents[2]
CONSUMES = {
    "intake": ("routing", "casework"),
    "routing": ("intake", "casework"),
    "casework": ("routing", "intake"),
}
PATIENTS = 16
LEASE_HELD = re.compile(r"^carenet_relay_lease_held\{[^}]*\} 1\.0$", re.MULTILINE)
T = TypeVar("T")


@dataclass
class Run:
    """One scenario's system and what its callers were told."""

    bootstrap: str
    namespace: str
    processes: dict[str, ServiceProcess]
    issuer: DevIssuer
    standby: ServiceProcess | None = None
    """A second intake replica on the same store, whose relay waits for the lease."""
    registered: set[str] = field(default_factory=set)
    acknowledged: set[str] = field(default_factory=set)
    crashes: list[int] = field(default_factory=list)
    """The exit status of each process found dead (and started again)."""
    unanswered: int = 0
    """Registrations whose answer never came (each patient gets a serial of its own)."""
    unavailable: int = 0
    """Registrations or diagnoses answered 503: the store was away, nothing promised."""
    calls: list[tuple[float, float]] = field(default_factory=list)
    """When each call to intake (a registration, a diagnosis) began and ended (monotonic)."""
    seconds: dict[str, float] = field(default_factory=dict)
    """How long the load and the wait for quiet took."""
    refusable: set[str] = field(default_factory=set)
    """Where the messages sent to be refused lie ("topic:partition:offset")."""

    def summary(self, anomalies: Anomalies) -> str:
        timings = ", ".join(f"{phase} {seconds:.0f} s" for phase, seconds in self.seconds.items())
        return f"{len(self.acknowledged)} diagnoses acknowledged ({timings})\n{anomalies.table()}"

    def topic(self, producer: str) -> str:
        return self.namespace + load_catalog().topic_of(producer).name

    def send_unsigned(self, count: int) -> None:
        """`count` messages on routing's topic that no consumer may act on (unsigned, not a
        contract): each consumer of the topic must dead-letter them."""
        self.refusable |= run_sync(_send_unsigned(self.bootstrap, self.topic("routing"), count))

    def diagnose(self, patients: int, until: Callable[[], bool] = lambda: True) -> None:
        """Register and diagnose `patients` (and more, until `until()`), restarting (unarmed)
        any service found dead."""
        started, done = time.monotonic(), 0
        while done < patients or not until():
            done += 1
            patient = self._call(self._register)
            if patient is not None:
                self.diagnose_registered([patient])
        self.seconds["load"] = self.seconds.get("load", 0) + time.monotonic() - started

    def register(self, patients: int) -> list[str]:
        """Register `patients` without diagnosing them: the ids of those registered."""
        registered = (self._call(self._register) for _ in range(patients))
        return [patient for patient in registered if patient is not None]

    def diagnose_registered(self, patients: Iterable[str]) -> None:
        for patient in patients:
            self._call(lambda intake, p=patient: self._diagnose(intake, p))

    def _call(self, call: Callable[[httpx.Client], T]) -> T | None:
        """One call to intake, after restarting (unarmed) any service found dead; None if
        intake died in it (no answer, no promise)."""
        self._restart_the_dead()
        began = time.monotonic()
        try:
            with self._intake() as intake:
                return call(intake)
        except httpx.TransportError:
            self.unanswered += 1
            self._wait_for_a_death()
            return None
        finally:
            self.calls.append((began, time.monotonic()))

    def _register(self, intake: httpx.Client) -> str | None:
        """A new patient (each with a serial of their own), or None if intake could not."""
        answer = intake.post(
            "/v1/patients", json=registration(len(self.registered) + self.unanswered)
        )
        if not self._available(answer):
            return None
        patient: str = answer.json()["patient_id"]
        self.registered.add(patient)
        return patient

    def _diagnose(self, intake: httpx.Client, patient: str) -> None:
        if self._available(intake.post(f"/v1/patients/{patient}/diagnoses", json=diagnosis())):
            self.acknowledged.add(patient)

    def check(self, quiet_within: float = 30) -> Anomalies:
        """The checker's findings once the system is quiet (or after `quiet_within` seconds)."""
        self._wait_for_a_death(timeout=0)
        self._restart_the_dead()
        started = time.monotonic()
        not_quiet = self.quiet(quiet_within)
        self.seconds["until quiet"] = time.monotonic() - started
        producers = list(CONSUMES)
        anomalies = check(
            self.bootstrap,
            {p: self.topic(p) for p in producers},
            self.namespace + DEAD_LETTER_TOPIC,
            self.acknowledged,
            self.registered,
            not_quiet,
            Refusable(frozenset(self.refusable), f"{self.namespace}carenet-casework"),
        )
        for service, tables in self.diverging_read_models().items():
            anomalies.add("diverged", f"{service}: {', '.join(tables)}")
        return anomalies

    def quiet(self, within: float = 30) -> list[str]:
        """Wait until every consumer's lag and every outbox's backlog is 0 (measured): what is
        still not quiet after `within` seconds."""
        return wait_until_quiet(
            self.bootstrap,
            [
                Consumer(f"{self.namespace}carenet-{name}", tuple(map(self.topic, consumes)))
                for name, consumes in CONSUMES.items()
            ],
            [process.url for process in self.every_process()],
            [self.topic(p) for p in CONSUMES],
            timeout=within,
        )

    def every_process(self) -> list[ServiceProcess]:
        return [*self.processes.values(), *([self.standby] if self.standby else [])]

    def lease_held(self, process: ServiceProcess) -> bool:
        """Whether the process' relay holds its lease, as its metrics say now."""
        metrics = httpx.get(f"{process.url}/metrics", timeout=10).text
        return bool(LEASE_HELD.search(metrics))

    def diverging_read_models(self) -> dict[str, list[str]]:
        """Each service's read model tables that differ from a rebuild from its store, once
        the services are stopped (SIGTERM, all at once)."""
        with ThreadPoolExecutor(len(self.every_process())) as pool:
            list(pool.map(lambda process: process.stop(timeout=10), self.every_process()))
        return {
            name: diverging
            for name, process in self.processes.items()
            if (diverging := read_model_diverges(name, process.env))
        }

    def deaths(self, within: float) -> list[int]:
        """The exit status of every process found dead so far, waiting up to `within` seconds
        for one (the dead are started again)."""
        self._wait_for_a_death(timeout=within)
        self._restart_the_dead()
        return self.crashes

    def _available(self, answer: httpx.Response) -> bool:
        """201, or False for a 503 (the store away: no promise); anything else fails."""
        if answer.status_code == 503:
            self.unavailable += 1
            self.unanswered += 1  # the patient's serial is not to be used again
            return False
        assert answer.status_code == 201, answer.text
        return True

    def _intake(self) -> httpx.Client:
        token = self.issuer.token_of(CLINICIAN)
        return httpx.Client(
            base_url=self.processes["intake"].url,
            timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        )

    def _wait_for_a_death(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not any(p.process and p.process.poll() is not None for p in self.every_process()):
            if time.monotonic() >= deadline:
                return
            time.sleep(0.1)

    def _restart_the_dead(self) -> None:
        for name, process in self.processes.items():
            self.processes[name] = self._restarted(process)
        if self.standby is not None:
            self.standby = self._restarted(self.standby)

    def _restarted(self, process: ServiceProcess) -> ServiceProcess:
        """The process itself if it runs; else, started again unarmed, as an orchestrator would."""
        if process.process is None or (status := process.process.poll()) is None:
            return process
        self.crashes.append(status)
        unarmed = {k: v for k, v in process.env.items() if k != "CARENET_FAIL_POINTS"}
        again = dataclasses.replace(process, env=unarmed)
        again.start()
        again.wait_ready()
        return again


async def _send_unsigned(bootstrap: str, topic: str, count: int) -> set[str]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sent = [
            await producer.send_and_wait(topic, b'{"not": "a CareNet message"}', key=b"nobody")
            for _ in range(count)
        ]
        return {f"{topic}:{r.partition}:{r.offset}" for r in sent}
    finally:
        await producer.stop()


class Starter(Protocol):
    def __call__(self, armed: str, env: dict[str, str], standby: bool = False) -> Run:
        """Starts a scenario's system: the armed service, its extra settings, and whether
        intake has a standby replica (unarmed, the same extra settings)."""


def starter(
    bootstrap: str,
    directory: Path,
    profile: Profile = "local",
    settings: Mapping[str, str] | None = None,
) -> Iterator[Starter]:
    """Systems of intake, routing and casework on `bootstrap`, each on a namespace of its own
    (topics of the given profile), with `settings` added to every service's; every process
    killed at the end."""
    runs: list[Run] = []

    def started(armed: str, env: dict[str, str], standby: bool = False) -> Run:
        namespace = f"faults-{uuid4().hex[:8]}."
        run_sync(kafka.create_topics(bootstrap, profile, namespace=namespace))
        run_dir = directory / namespace.rstrip(".")
        processes = service_processes(
            run_dir,
            {
                "CARENET_KAFKA_BOOTSTRAP": bootstrap,
                "CARENET_TOPIC_NAMESPACE": namespace,
                "CARENET_REFERENCE_FILE": str(REPOSITORY / "reference" / "demo-directory.yaml"),
                "CARENET_RULE_SET_FILE": str(REPOSITORY / "rules" / "nhc-2018.yaml"),
                # a killed consumer's partitions wait out its session before they move
                "CARENET_CONSUMER_SESSION_TIMEOUT_SECONDS": "10",
                **(settings or {}),
            },
            ports={name: free_port() for name in SERVICES},
            env_of={armed: env},
        )
        run = Run(
            bootstrap,
            namespace,
            {name: processes[name] for name in CONSUMES},
            DevIssuer(run_dir / "keys"),
        )
        if standby:
            intake = processes["intake"]
            run.standby = dataclasses.replace(
                intake,
                port=free_port(),
                env={k: v for k, v in intake.env.items() if k != "CARENET_FAIL_POINTS"},
                log_path=intake.log_path.with_name("intake-standby.log"),
            )
        runs.append(run)
        for process in run.processes.values():
            process.start()
        for process in run.processes.values():
            process.wait_ready()
        if run.standby is not None:  # after intake, whose relay takes the lease first
            run.standby.start()
            run.standby.wait_ready()
        return run

    yield started
    for run in runs:
        for process in run.every_process():
            process.kill()  # a wedged consumer (a negative control) would not stop cleanly


@pytest.fixture
def start(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Starter]:
    yield from starter(kafka_bootstrap, tmp_path)
