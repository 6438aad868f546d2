"""A local KRaft cluster of several brokers on loopback: `carenet-dev kafka up --brokers 3`.

Each node is a broker and a controller (a quorum of three), started by `kafka.start` in a
directory of its own under the work dir (`node-1`, …) with its own pid file, so that one node
can be killed and started again on its data. The ports and the cluster id are chosen at the
first start and kept in `cluster.json`. Internal topics are replicated to every node,
`min.insync.replicas` is one less, and no leader is ever elected uncleanly; CareNet's topics
get the production profile (`kafka.create_topics(..., profile="production")`: 3 replicas,
`min.insync.replicas=2`), so a write acknowledged with `acks=all` survives the loss of any
one node.
"""

from __future__ import annotations

import json
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from carenet_devtools import kafka
from carenet_devtools.cache import default_cache_dir
from carenet_devtools.ports import free_ports

SETTINGS_FILE = "cluster.json"


@dataclass(frozen=True)
class Node:
    node_id: int
    port: int
    controller_port: int
    work_dir: Path


@dataclass(frozen=True)
class Cluster:
    work_dir: Path
    nodes: tuple[Node, ...]
    cluster_id: str

    @property
    def bootstrap(self) -> str:
        return ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)

    def node(self, node_id: int) -> Node:
        return next(node for node in self.nodes if node.node_id == node_id)

    def start(self, *node_ids: int) -> None:
        """Start these nodes (all of them if none is named) together; returns once they
        answer. A node already running is left alone."""
        nodes = [self.node(n) for n in node_ids] if node_ids else list(self.nodes)
        libs = kafka.ensure_jars(default_cache_dir())
        voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in self.nodes)

        def start_node(node: Node) -> None:
            if kafka.is_running(node.work_dir):
                return
            quorum = kafka.Quorum(node.node_id, voters, self.cluster_id, len(self.nodes))
            kafka.start(node.work_dir, node.port, node.controller_port, libs=libs, quorum=quorum)

        with ThreadPoolExecutor(len(nodes)) as pool:
            list(pool.map(start_node, nodes))

    def kill(self, node_id: int) -> None:
        """SIGKILL one node, as a machine dying would (its data stays); a node not running is
        left alone."""
        work_dir = self.node(node_id).work_dir
        if kafka.is_running(work_dir):
            os.kill(self._pid(node_id), signal.SIGKILL)
        kafka.stop(work_dir)  # reaps it and forgets its pid file

    def freeze(self, node_id: int) -> None:
        """SIGSTOP one node: it answers nobody (no fetch, no vote, no heartbeat) while its
        connections stay open, as a machine that hangs or is cut off would."""
        os.kill(self._pid(node_id), signal.SIGSTOP)

    def thaw(self, node_id: int) -> None:
        """SIGCONT a frozen node: it goes on where it stopped."""
        os.kill(self._pid(node_id), signal.SIGCONT)

    def _pid(self, node_id: int) -> int:
        return int((self.node(node_id).work_dir / kafka.PID_FILE).read_text())

    def stop(self) -> None:
        for node in self.nodes:
            kafka.stop(node.work_dir)


def cluster(work_dir: Path, brokers: int = 3) -> Cluster:
    """The cluster kept in `work_dir`: its nodes' ports and its id, chosen on first use."""
    work_dir = work_dir.resolve()
    settings = work_dir / SETTINGS_FILE
    if not settings.exists():
        work_dir.mkdir(parents=True, exist_ok=True)
        ports = free_ports(2 * brokers)
        settings.write_text(
            json.dumps({"cluster_id": kafka.new_cluster_id(), "ports": ports}, indent=2)
        )
    kept = json.loads(settings.read_text())
    ports = kept["ports"]
    nodes = tuple(
        Node(n + 1, ports[2 * n], ports[2 * n + 1], work_dir / f"node-{n + 1}")
        for n in range(len(ports) // 2)
    )
    return Cluster(work_dir, nodes, kept["cluster_id"])
