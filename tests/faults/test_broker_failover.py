"""Brokers die under load, on a three-node cluster: the leader of the intake topic's busiest
partitions SIGKILLed and started again, twice, while patients are diagnosed (for as long as
that takes, at least 16); and two of the three nodes down for 30 seconds while patients are
diagnosed, then started again.

Topics have three replicas and `min.insync.replicas=2`, the relays write with `acks=all` and an
idempotent producer, no leader is elected uncleanly: a diagnosis answered 201 must end in
exactly one case manager, and the independent checker (`checker.py`) must find nothing lost,
repeated or out of order on any topic. With two nodes down no write can reach two replicas (nor
can the one controller left elect a leader): intake still answers, its outbox holds what it
accepted, and once the nodes are back it all goes through.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from carenet_devtools import kafka_cluster
from carenet_devtools.kafka import run_sync
from carenet_devtools.kafka_cluster import Cluster

from .checker import outbox_backlog
from .conftest import PATIENTS, Run, Starter, starter

pytestmark = pytest.mark.timeout(600)

KILLS = int(os.environ.get("CARENET_FAULT_KILLS", "2"))
"""Leaders killed in the failover scenario; a longer run: `CARENET_FAULT_KILLS=5`."""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    nodes = kafka_cluster.cluster(tmp_path_factory.mktemp("cluster"))
    nodes.start()
    try:
        yield nodes
    finally:
        for node in nodes.nodes:  # its data is the test's: no clean shutdown to wait for
            nodes.kill(node.node_id)


@pytest.fixture
def on_cluster(cluster: Cluster, tmp_path: Path) -> Iterator[Starter]:
    yield from starter(cluster.bootstrap, tmp_path, profile="production")


async def leaders(bootstrap: str, topic: str) -> dict[int, int]:
    """Each partition's leader (node id), as the cluster's metadata says now."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        metadata = await consumer._client.fetch_all_metadata()  # the metadata, not a cache
        return {
            p: metadata.leader_for_partition(TopicPartition(topic, p))
            for p in metadata.partitions_for_topic(topic) or ()
        }
    finally:
        await consumer.stop()


def kill_leaders(run: Run, cluster: Cluster, killed: list[int], stop: threading.Event) -> None:
    """Every few seconds, the node leading most of intake's partitions: killed, and started
    again a few seconds later (as a machine that reboots)."""
    for _ in range(KILLS):
        if stop.wait(2):
            return
        led = list(run_sync(leaders(cluster.bootstrap, run.topic("intake"))).values())
        busiest = max(set(led), key=led.count)
        cluster.kill(busiest)
        killed.append(busiest)
        time.sleep(3)
        cluster.start(busiest)


def test_leaders_killed_under_load_lose_and_repeat_nothing(
    on_cluster: Starter, cluster: Cluster
) -> None:
    run = on_cluster("intake", {})
    killed: list[int] = []
    stop = threading.Event()
    killer = threading.Thread(target=kill_leaders, args=(run, cluster, killed, stop))
    killer.start()
    try:
        run.diagnose(PATIENTS, until=lambda: not killer.is_alive())
    finally:
        stop.set()
        killer.join()
    anomalies = run.check()
    print(f"\nleaders killed: nodes {killed}; {run.summary(anomalies)}")
    assert len(killed) == KILLS
    assert run.crashes == []
    assert len(run.acknowledged) >= PATIENTS
    assert sum(anomalies.counts().values()) == 0, anomalies.table()


OUTAGE_SECONDS = 30


def test_two_of_three_brokers_down_lose_nothing_that_was_answered(
    on_cluster: Starter, cluster: Cluster
) -> None:
    run = on_cluster("intake", {})
    run.diagnose(2)
    down = [node.node_id for node in cluster.nodes][1:]
    for node_id in down:
        cluster.kill(node_id)
    outage = time.monotonic()
    while time.monotonic() - outage < OUTAGE_SECONDS:
        run.diagnose(1)  # intake answers from its store; the outbox waits for the brokers
        time.sleep(2)
    during = len(run.acknowledged) - 2
    held = outbox_backlog([run.processes["intake"].url])
    cluster.start(*down)
    back = time.monotonic()
    anomalies = run.check(quiet_within=120)
    drained = time.monotonic() - back
    print(
        f"\nnodes {down} down {OUTAGE_SECONDS} s: {during} diagnoses answered meanwhile, "
        f"{held:.0f} messages held in intake's outbox at the end, "
        f"quiet {drained:.0f} s after the nodes were back; {run.summary(anomalies)}"
    )
    assert run.crashes == []
    assert during >= 5
    assert held > 0  # the outage was real: nothing could be published
    assert sum(anomalies.counts().values()) == 0, anomalies.table()
