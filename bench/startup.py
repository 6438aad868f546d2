"""P7 start-up: time to `/readyz` and resident memory per service, at several history sizes.

For each size, a synthetic history (`bench.synthetic`: signed, chained; 4 producers × 2
events per patient) is written into the topics of a fresh namespace. The services' stores are
NOT written: each service starts on an empty store, with its consumer group already at the end
of the topics (so its inbound agent applies nothing old), once ("first start") and then again
("restart", same store). The first start reads the topics from offset 0 into the access graph
(`carenet_access`) and, for audit, into its history index; the restart resumes both from the
positions stored with them, so it reads only what is new (nothing, here). The growth of a
service's own store (its read models' snapshots and tails) is not in these figures. One
service at a time; wall time from the process' start to the first 200 of `/readyz`, and
then the CPU time it used and its resident memory (RSS).
Baseline: reading every record of the four topics with the bare reader (`bench.replay`).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from bench.consumer import partition_ends
from bench.harness import (
    DEMO_DIRECTORY,
    RULE_SET,
    Bench,
    Row,
    cpu_seconds,
    free_port,
    partitions,
    rss_mb,
    topic,
)
from bench.history import write_stream
from bench.replay import raw_consume
from bench.synthetic import PRODUCERS
from carenet_devtools.services import SERVICES, ServiceProcess, service_processes
from carenet_kit.topics import DEAD_LETTER_TOPIC

EVENTS_PER_PRODUCER = 2


@dataclass(frozen=True)
class Start:
    seconds: float
    cpu_seconds: float
    rss_mb: float


async def skip_history(bootstrap: str, group: str, names: list[str]) -> None:
    """Commit the end of every partition for the group (no member may be running)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        assigned = [tp for name in names for tp in await partitions(consumer, name)]
        consumer.assign(assigned)
        await consumer.commit(await consumer.end_offsets(assigned))
    finally:
        await consumer.stop()


def timed_start(process: ServiceProcess, timeout: float) -> Start:
    start = time.perf_counter()
    process.start()
    process.wait_ready(timeout)
    seconds = time.perf_counter() - start
    assert process.process is not None
    pid = process.process.pid
    return Start(seconds, cpu_seconds(pid), rss_mb(pid))


def starts(
    bench: Bench, run_dir: Path, namespace: str, timeout: float
) -> dict[str, tuple[Start, Start]]:
    """(first start, restart) of each service, one at a time, on the namespace's history
    (signed with the keys in `run_dir`, which the services trust)."""
    names = [topic(namespace, p) for p in PRODUCERS]
    processes = service_processes(
        run_dir,
        {
            "CARENET_KAFKA_BOOTSTRAP": bench.bootstrap,
            "CARENET_TOPIC_NAMESPACE": namespace,
            "CARENET_REFERENCE_FILE": str(DEMO_DIRECTORY),
            "CARENET_RULE_SET_FILE": str(RULE_SET),
        },
        ports={name: free_port() for name in SERVICES},
    )
    found: dict[str, tuple[Start, Start]] = {}
    for name, process in processes.items():
        group = f"{namespace}carenet-{name}"
        asyncio.run(skip_history(bench.bootstrap, group, [*names, topic(namespace, "audit")]))
        try:
            first = timed_start(process, timeout)
            process.stop()
            found[name] = (first, timed_start(process, timeout))
        finally:
            process.stop()
    return found


def _figures(start: Start) -> str:
    return f"{start.seconds:.1f} s ({start.cpu_seconds:.1f} s CPU), {start.rss_mb:,.0f} MB"


def run(bench: Bench, sizes: list[int], timeout: float) -> list[Row]:
    rows: list[Row] = []
    for patients in sizes:
        messages = patients * len(PRODUCERS) * EVENTS_PER_PRODUCER
        namespace, run_dir = bench.namespace(), bench.directory("startup")
        with bench.console.status(f"P7: writing {messages:,} signed messages"):
            write_stream(
                bench.bootstrap, namespace, patients, EVENTS_PER_PRODUCER, run_dir / "keys"
            )
        with bench.console.status(f"P7: raw consume of {messages:,} messages"):
            raw = raw_consume(bench.bootstrap, namespace)
        with bench.console.status(f"P7: starting each service on {patients:,} patients"):
            measured = starts(bench, run_dir, namespace, timeout)
        dead_letters = asyncio.run(partition_ends(bench.bootstrap, namespace + DEAD_LETTER_TOPIC))
        if refused := sum(dead_letters.values()):  # what a start reads must be admitted
            raise RuntimeError(f"P7: {refused} messages of the history were dead-lettered")
        for name, (first, restart) in measured.items():
            rows.append(
                Row(
                    f"P7 start-up, {name}, {patients:,} patients ({messages:,} messages)",
                    f"restart {_figures(restart)}; first start {_figures(first)}",
                    f"raw consume of the four topics: {raw.seconds:.1f} s",
                    raw.seconds / restart.seconds,
                    "to /readyz; stores empty, consumer group at the end (see README)",
                    {
                        "patients": patients,
                        "restart_s": restart.seconds,
                        "restart_cpu_s": restart.cpu_seconds,
                        "restart_rss_mb": restart.rss_mb,
                        "first_start_s": first.seconds,
                        "first_start_cpu_s": first.cpu_seconds,
                        "first_start_rss_mb": first.rss_mb,
                        "raw_consume_s": raw.seconds,
                    },
                )
            )
    return rows
