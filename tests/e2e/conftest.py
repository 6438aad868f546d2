"""The whole system for end-to-end tests: five service processes on loopback, one real broker.

Most modules only add patients of their own, and share one system (started once: five
processes take a quarter of a minute to be ready). A module that restarts, stops, rewinds or
fuzzes services, or gives them settings of its own, is marked `own_system` and gets a system
of its own, on a topic namespace of its own, so that no other module sees its events or meets
what it did to the services.
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from uuid import uuid4

import httpx
import pytest

from carenet_access import Role
from carenet_contracts import Envelope
from carenet_devtools import kafka
from carenet_devtools.issuer import DevIssuer
from carenet_devtools.kafka import run_sync
from carenet_devtools.services import SERVICES, ServiceProcess, service_processes
from carenet_devtools.topics import consumer_lag, read_topic, rewind_consumer_group
from carenet_kit.topics import load_catalog

T = TypeVar("T")
Caller = tuple[str, str, str]
"""(user, organisation, role) of a token."""


def reader_of(recipient: str) -> Caller:
    """Someone who may act for a notification recipient: the person, or the organisation's."""
    kind, _, name = recipient.partition(":")
    if kind == "staff":
        return (name, "CHC-STAFF", "social_worker")
    if kind == "family":
        return (name, "family", "family_member")
    if kind == "center":
        return (f"desk-{name}", name, "social_worker")
    organisation, _, role = name.partition("/")
    if organisation == "network":
        return (f"{role}-on-duty", organisation, Role.OPERATOR)
    return (f"{role}-on-duty", organisation, role if role in set(Role) else Role.SOCIAL_WORKER)


def free_port() -> int:
    """A free port for a service to listen on, below the kernel's ephemeral range (32768 up).

    A port the kernel hands out with `bind(0)` is ephemeral: between this check and the
    service's own bind, any client connection of the machine (a Kafka client, say) may take it.
    """
    while True:
        port = random.randint(20_000, 32_000)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


@dataclass
class System:
    bootstrap: str
    namespace: str
    processes: dict[str, ServiceProcess]
    issuer: DevIssuer

    def client(self, service: str, user: str | Caller | None) -> httpx.Client:
        """A client of the service, calling as a demo user (`reference/demo-users.yaml`), as
        (user, organisation, role), or anonymously (None)."""
        if user is None:
            token = None
        elif isinstance(user, str):
            token = self.issuer.token_of(user)
        else:
            token = self.issuer.token(*user)
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        return httpx.Client(base_url=self.processes[service].url, timeout=30, headers=headers)

    def inbox_reader(self, recipient: str) -> httpx.Client:
        """A notifications client calling as someone who may read `recipient`'s inbox."""
        return self.client("notifications", reader_of(recipient))

    def topic(self, producer: str) -> str:
        return self.namespace + load_catalog().topic_of(producer).name

    def messages(self, producer: str, access_log: bool = False) -> list[Envelope[Any]]:
        """The producer's messages; without the `RecordAccessed` of the access log (which
        every read adds) unless `access_log`."""
        messages = run_sync(read_topic(self.bootstrap, self.topic(producer)))
        return [m for m in messages if access_log or m.event_type != "RecordAccessed"]

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()

    def restart(self, service: str) -> None:
        process = self.processes[service]
        process.stop()
        process.start()
        process.wait_ready()

    def rewind(self, service: str, producers: list[str]) -> None:
        """Replay: rewind the service's consumer group to offset 0 (the service is stopped)."""
        group = f"{self.namespace}carenet-{service}"
        run_sync(rewind_consumer_group(self.bootstrap, group, [self.topic(p) for p in producers]))

    def wait_until_consumed(self, service: str, producers: list[str], timeout: float = 60) -> None:
        group = f"{self.namespace}carenet-{service}"
        topics = [self.topic(p) for p in producers]
        eventually(
            lambda: run_sync(consumer_lag(self.bootstrap, group, topics)) == 0 or None, timeout
        )


def eventually(probe: Callable[[], T | None], timeout: float = 30.0, every: float = 0.25) -> T:
    """Poll an asynchronous outcome until it is there, or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {probe}")
        time.sleep(every)


@pytest.fixture(scope="module")
def system_env() -> dict[str, str]:
    """Extra settings for the module's services; a module overrides it (an SMTP port, retries)."""
    return {}


SHARED = pytest.StashKey[System]()


@contextmanager
def started_system(
    bootstrap: str, settings: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[System]:
    """The five services on a topic namespace of their own, with `settings` added."""
    namespace = f"e2e-{uuid4().hex[:8]}."
    run_sync(kafka.create_topics(bootstrap, namespace=namespace))
    run_dir: Path = tmp_path_factory.mktemp("system")
    processes = service_processes(
        run_dir,
        {
            "CARENET_KAFKA_BOOTSTRAP": bootstrap,
            "CARENET_TOPIC_NAMESPACE": namespace,
            "CARENET_REFERENCE_FILE": str(
                Path(__file__).parents[2] / "reference" / "demo-directory.yaml"
            ),
            "CARENET_RULE_SET_FILE": str(Path(__file__).parents[2] / "rules" / "nhc-2018.yaml"),
            # a killed consumer's partitions wait out its session before they move
            "CARENET_CONSUMER_SESSION_TIMEOUT_SECONDS": "10",
            **settings,
        },
        ports={name: free_port() for name in SERVICES},
    )
    system = System(bootstrap, namespace, processes, DevIssuer(run_dir / "keys"))
    try:
        for process in processes.values():
            process.start()
        for process in processes.values():
            process.wait_ready()
        yield system
    finally:
        system.stop()


@pytest.fixture(scope="session")
def shared_system(
    request: pytest.FixtureRequest,
    kafka_bootstrap: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[System]:
    """The system of the modules that only add patients of their own (each with serials of
    its own): started when the first of them needs it, stopped after the last e2e test."""
    with started_system(kafka_bootstrap, {}, tmp_path_factory) as system:
        request.config.stash[SHARED] = system
        yield system


@pytest.fixture(scope="module")
def system(
    request: pytest.FixtureRequest,
    kafka_bootstrap: str,
    system_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[System]:
    """The module's system: the shared one, or one of its own for a module marked
    `own_system` (one that restarts, stops, rewinds or fuzzes services, or gives them
    settings)."""
    if request.node.get_closest_marker("own_system") is None:
        assert not system_env, "a module that gives the services settings is `own_system`"
        yield request.getfixturevalue("shared_system")
        return
    with started_system(kafka_bootstrap, system_env, tmp_path_factory) as system:
        yield system


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """The shared system stops after the last e2e test, so that the suites after it do not
    share the machine with its five services."""
    last = nextitem is None or Path(__file__).parent not in nextitem.path.parents
    if last and (shared := item.config.stash.get(SHARED, None)) is not None:
        shared.stop()
