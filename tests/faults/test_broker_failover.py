"""Brokers die under load, on a three-node cluster: the leader of the intake topic's busiest
partitions SIGKILLed and started again, twice, while patients are diagnosed (for as long as
that takes, at least 16); a leader cut off from its followers, then killed; and two of the
three nodes down for 30 seconds while patients are diagnosed, then started again.

Topics have three replicas and `min.insync.replicas=2`, the relays write with `acks=all` and an
idempotent producer, no leader is elected uncleanly: a diagnosis answered 201 must end in
exactly one case manager, and the independent checker (`checker.py`) must find nothing lost,
repeated or out of order on any topic. With two nodes down no write can reach two replicas (nor
can the one controller left elect a leader): intake still answers, its outbox holds what it
accepted, and once the nodes are back it all goes through.

The cut-off leader is the negative control of `acks=all`, and it fails for sure: the two
followers are frozen (SIGSTOP: they fetch nothing, and without them no controller can shrink
the leader's in-sync replicas), patients whose partitions that leader leads are diagnosed, the
leader is killed and the followers thawed, and they elect one of themselves, cleanly, which
never had those diagnoses. A write acknowledged by the leader alone (`acks=1`, the
`relay-acks-all` guard off) is lost; with `acks=all` it was never acknowledged, and the relay
sends it again to the new leader.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from tenacity import Retrying, stop_after_attempt

from carenet_devtools import kafka_cluster
from carenet_devtools.kafka import BrokerError, run_sync
from carenet_devtools.kafka_cluster import Cluster

from .checker import outbox_backlog
from .conftest import PATIENTS, Run, Starter, starter

KILLS = int(os.environ.get("CARENET_FAULT_KILLS", "2"))
KILL_EVERY = float(os.environ.get("CARENET_FAULT_KILL_EVERY", "2"))
LOAD = int(os.environ.get("CARENET_FAULT_PATIENTS", str(PATIENTS)))
"""The failover scenario: leaders killed, seconds between kills, patients diagnosed at least.
The full-size run, the kills spread over its load: `CARENET_FAULT_KILLS=5
CARENET_FAULT_KILL_EVERY=330 CARENET_FAULT_PATIENTS=10000 uv run pytest
tests/faults/test_broker_failover.py -k leaders -s`."""

pytestmark = pytest.mark.timeout(600 + LOAD)  # a diagnosis: 0.1 s alone, 0.45 s on a busy machine


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
    cluster.start()  # each scenario on the whole cluster, whatever the last one left down
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
        if stop.wait(KILL_EVERY):
            return
        led = list(run_sync(leaders(cluster.bootstrap, run.topic("intake"))).values())
        busiest = max(set(led), key=led.count)
        cluster.kill(busiest)
        killed.append(busiest)
        time.sleep(3)
        restart(cluster, busiest)


def restart(cluster: Cluster, *node_ids: int) -> None:
    """Start killed nodes again as their supervisor would: once more if one does not come up
    (a JVM starting on a machine busy with the rest of the suite may miss its deadline). A
    node that fails twice fails the scenario, quoting its log."""
    for attempt in Retrying(stop=stop_after_attempt(2), reraise=True):
        with attempt:
            try:
                cluster.start(*node_ids)
            except BrokerError as error:
                print(f"\nnodes {node_ids} did not all come back ({error}); starting them again")
                raise


def test_leaders_killed_under_load_lose_and_repeat_nothing(
    on_cluster: Starter, cluster: Cluster
) -> None:
    run = on_cluster("intake", {})
    killed: list[int] = []
    stop = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        killing = pool.submit(kill_leaders, run, cluster, killed, stop)
        try:
            run.diagnose(LOAD, until=killing.done)
        finally:
            stop.set()
        killing.result()  # a node that did not come back: why, in the broker's own words
    anomalies = run.check(quiet_within=30 + LOAD / 100)
    print(f"\nleaders killed: nodes {killed}; {run.summary(anomalies)}")
    assert len(killed) == KILLS
    assert run.crashes == []
    assert len(run.acknowledged) >= LOAD
    assert sum(anomalies.counts().values()) == 0, anomalies.table()


def cut_off_and_killed(run: Run, cluster: Cluster) -> int:
    """Patients on the partitions one node leads, diagnosed while its followers are frozen;
    then that node killed, the followers thawed, and the node started again: which it was."""
    led = run_sync(leaders(cluster.bootstrap, run.topic("intake")))
    leader = max(set(led.values()), key=list(led.values()).count)
    partitions = sorted(led)
    on_leader: list[str] = []
    while len(on_leader) < CUT_OFF_PATIENTS:  # a patient's messages go to one partition
        [patient] = run.register(1)
        if led[DefaultPartitioner()(patient.encode(), partitions, partitions)] == leader:
            on_leader.append(patient)
    assert not run.quiet()  # every registration is on the followers too
    followers = [node.node_id for node in cluster.nodes if node.node_id != leader]
    for node_id in followers:
        cluster.freeze(node_id)
    try:
        run.diagnose_registered(on_leader)  # intake answers from its store
        time.sleep(3)  # the relay reads them and sends them to the leader
    finally:
        cluster.kill(leader)
        for node_id in followers:
            cluster.thaw(node_id)
    restart(cluster, leader)
    return leader


CUT_OFF_PATIENTS = 3


def test_a_leader_cut_off_then_killed_loses_nothing_that_was_answered(
    on_cluster: Starter, cluster: Cluster
) -> None:
    run = on_cluster("intake", {})
    leader = cut_off_and_killed(run, cluster)
    anomalies = run.check(quiet_within=120)
    print(f"\nnode {leader} cut off, then killed: {run.summary(anomalies)}")
    assert run.crashes == []
    assert len(run.acknowledged) == CUT_OFF_PATIENTS
    assert sum(anomalies.counts().values()) == 0, anomalies.table()


def test_without_acks_all_the_cut_off_leader_takes_what_it_acknowledged_with_it(
    on_cluster: Starter, cluster: Cluster
) -> None:
    run = on_cluster("intake", {"CARENET_UNGUARDED": "relay-acks-all"})
    leader = cut_off_and_killed(run, cluster)
    anomalies = run.check(quiet_within=120)
    print(f"\nnode {leader} cut off, then killed, without acks=all: {run.summary(anomalies)}")
    assert len(run.acknowledged) == CUT_OFF_PATIENTS
    assert anomalies.counts()["lost"] > 0, anomalies.table()


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
    restart(cluster, *down)
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
