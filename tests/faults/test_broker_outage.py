"""A broker that goes away and comes back is told once each way: the gauge and one log line.

The broker here is one of the test's own (the suite's shared broker must stay up): started,
SIGTERMed and started again on the same data, while a `BrokerWatch` looks every 0.2 s.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from carenet_devtools import kafka
from carenet_kit.broker_watch import BrokerWatch

pytestmark = pytest.mark.timeout(240)


def free_ports() -> tuple[int, int]:
    with socket.socket() as broker, socket.socket() as controller:
        broker.bind(("127.0.0.1", 0))
        controller.bind(("127.0.0.1", 0))
        return broker.getsockname()[1], controller.getsockname()[1]


async def until(found: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not found():
        assert time.monotonic() < deadline, "not within the timeout"
        await asyncio.sleep(0.1)


def reachable() -> float | None:
    return REGISTRY.get_sample_value("carenet_broker_reachable")


async def test_the_brokers_going_and_coming_back_is_said_once_each(tmp_path: Path) -> None:
    ports = free_ports()
    bootstrap = await asyncio.to_thread(kafka.start, tmp_path, *ports)
    watch = BrokerWatch(bootstrap, every_seconds=0.2, timeout_seconds=2)
    with capture_logs() as lines:
        looking = asyncio.create_task(watch.run())
        try:
            await until(lambda: reachable() == 1)
            await asyncio.to_thread(kafka.stop, tmp_path)
            await until(lambda: reachable() == 0)
            await asyncio.sleep(2)  # ten more looks at a broker that is away
            await asyncio.to_thread(kafka.start, tmp_path, *ports)
            await until(lambda: reachable() == 1)
            await asyncio.sleep(1)
        finally:
            looking.cancel()
            await asyncio.gather(looking, return_exceptions=True)
            await asyncio.to_thread(kafka.stop, tmp_path)
    said = [line["event"] for line in lines if line["event"].startswith("brokers")]
    assert said == ["brokers reachable", "brokers unreachable", "brokers reachable"]
