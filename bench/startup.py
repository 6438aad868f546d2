"""P7 start-up: time to `/readyz` and resident memory per service, at several history sizes.

For each size, a synthetic history (`bench.synthetic`: signed, chained; 4 producers × 2
events per patient) is written into the topics of a fresh namespace, and the services' stores
are built from it as their first start would build them (`bench.seeding`: the services' own
readers, run in the bench, verifying every message): every service's access graph and audit's
history index, with the positions stored with them. Each service is then started alone on that
store ("restart"), with its consumer group at the end of the topics: it resumes both readers
from the stored positions, so it reads nothing old. Up to `FIRST_START_UP_TO` patients each
service is also started on an empty store ("first start"), where it reads and verifies the
whole history before it is ready. The service's own event store and read models are empty
(they are persisted and resumed the same way; `tests/e2e/test_restart.py` restarts services on
a few thousand patients' own records). Wall time from the process' start to the first 200 of
`/readyz`, then the CPU time it used and its resident memory (RSS).
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
from bench.seeding import seed
from bench.synthetic import PRODUCERS
from carenet_devtools.keys import DevKeyring
from carenet_devtools.services import SERVICES, ServiceProcess, service_processes
from carenet_kit.topics import DEAD_LETTER_TOPIC

EVENTS_PER_PRODUCER = 2
FIRST_START_UP_TO = 10_000
"""The largest history on which a first start, reading it all, is timed too."""


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
    return Start(seconds, cpu_seconds(process.pid), rss_mb(process.pid))


def starts(
    bench: Bench, run_dir: Path, namespace: str, timeout: float, first_start: bool
) -> dict[str, tuple[Start, Start | None]]:
    """(restart, first start) of each service, one at a time: on the stores built under
    `run_dir/data`, and on an empty store if `first_start`. The history is signed with the
    keys in `run_dir`, which the services trust."""
    names = [topic(namespace, p) for p in PRODUCERS]
    env = {
        "CARENET_KAFKA_BOOTSTRAP": bench.bootstrap,
        "CARENET_TOPIC_NAMESPACE": namespace,
        "CARENET_REFERENCE_FILE": str(DEMO_DIRECTORY),
        "CARENET_RULE_SET_FILE": str(RULE_SET),
    }
    ports = {name: free_port() for name in SERVICES}
    built = service_processes(run_dir, env, ports)
    empty = service_processes(run_dir, env | {"CARENET_DATA_DIR": str(run_dir / "empty")}, ports)
    found: dict[str, tuple[Start, Start | None]] = {}
    for name in SERVICES:
        group = f"{namespace}carenet-{name}"
        asyncio.run(skip_history(bench.bootstrap, group, [*names, topic(namespace, "audit")]))
        found[name] = (
            _stopped_after(built[name], timeout),
            _stopped_after(empty[name], timeout) if first_start else None,
        )
    return found


def _stopped_after(process: ServiceProcess, timeout: float) -> Start:
    try:
        return timed_start(process, timeout)
    finally:
        process.stop()


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
        with bench.console.status(f"P7: building the stores from {messages:,} messages"):
            began = time.perf_counter()
            seed(
                bench.bootstrap,
                namespace,
                run_dir / "data",
                DevKeyring(run_dir / "keys").key_set_path,
            )
            seeding = time.perf_counter() - began
        with bench.console.status(f"P7: starting each service on {patients:,} patients"):
            measured = starts(bench, run_dir, namespace, timeout, patients <= FIRST_START_UP_TO)
        dead_letters = asyncio.run(partition_ends(bench.bootstrap, namespace + DEAD_LETTER_TOPIC))
        if refused := sum(dead_letters.values()):  # what a start reads must be admitted
            raise RuntimeError(f"P7: {refused} messages of the history were dead-lettered")
        for name, (restart, first) in measured.items():
            rows.append(_row(name, patients, messages, restart, first, raw.seconds, seeding))
    return rows


def _row(
    name: str,
    patients: int,
    messages: int,
    restart: Start,
    first: Start | None,
    raw_seconds: float,
    seeding_seconds: float,
) -> Row:
    figures = {
        "patients": patients,
        "restart_s": restart.seconds,
        "restart_cpu_s": restart.cpu_seconds,
        "restart_rss_mb": restart.rss_mb,
        "raw_consume_s": raw_seconds,
        "stores_built_s": seeding_seconds,
    }
    measured = f"restart {_figures(restart)}"
    if first is not None:
        measured += f"; first start {_figures(first)}"
        figures |= {
            "first_start_s": first.seconds,
            "first_start_cpu_s": first.cpu_seconds,
            "first_start_rss_mb": first.rss_mb,
        }
    return Row(
        f"P7 start-up, {name}, {patients:,} patients ({messages:,} messages)",
        measured,
        f"raw consume of the four topics: {raw_seconds:.1f} s",
        raw_seconds / restart.seconds,
        f"to /readyz; stores built from the history in {seeding_seconds:.0f} s (see README)",
        figures,
    )
