"""One patient's history among N: the audit read side against scanning the topics.

    uv run python -m bench.history [--patients 100000] [--events 1] [--samples 200]
                                   [--baseline-samples 5] [--bootstrap HOST:PORT]

Writes a synthetic, really chained and signed stream of N patients (4 producers × `events`
each; generated in a process pool), starts the audit service as its own process on it
(SQLite store), and reports how fast the service loads it. Then the latency of one patient's
history: straight from the service's index, through its HTTP API (a real token, every read
recorded), and the raw-consume baseline: a scan of the four topics, every partition to its
end, for that patient's messages. The baseline is slow, so it is sampled less
(`--baseline-samples`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from uuid import UUID, uuid4

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from eventsourcing.persistence import InfrastructureFactory
from rich.console import Console
from rich.table import Table

from bench.synthetic import PRODUCERS, SyntheticNetwork, produce
from carenet_audit.projection import HistoryIndex
from carenet_devtools import kafka
from carenet_devtools.cache import default_cache_dir
from carenet_devtools.issuer import DevIssuer
from carenet_devtools.keys import DevKeyring
from carenet_devtools.services import SERVICES, service_processes
from carenet_kit.topics import load_catalog

console = Console()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _produce_share(
    bootstrap: str, namespace: str, patients: int, events: int, keys: Path, every: timedelta
) -> list[UUID]:
    network = SyntheticNetwork({p: DevKeyring(keys).signer(p) for p in PRODUCERS})
    return kafka.run_sync(produce(bootstrap, namespace, network, patients, events, every))


def write_stream(
    bootstrap: str,
    namespace: str,
    patients: int,
    events: int,
    keys: Path,
    every: timedelta = timedelta(days=1),
) -> list[UUID]:
    """The stream, signed with the keys of the run in `keys` (which its services trust), one
    process per core; each producer's events about a patient `every` so long apart."""
    DevKeyring(keys).trusted_env()  # made once, before the workers read them
    workers = os.cpu_count() or 1
    shares = [patients // workers + (i < patients % workers) for i in range(workers)]
    with ProcessPoolExecutor(workers) as pool:
        futures = [
            pool.submit(_produce_share, bootstrap, namespace, share, events, keys, every)
            for share in shares
            if share
        ]
        return [patient for future in futures for patient in future.result()]


def _indexed_patients(data_dir: Path) -> list[str]:
    with closing(sqlite3.connect(data_dir / "audit.sqlite")) as db:
        return [row[0] for row in db.execute("SELECT DISTINCT patient_id FROM patient_history")]


def _ms(samples: Sequence[float]) -> tuple[str, str, str]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (
        f"{statistics.median(ordered) * 1000:.2f}",
        f"{p95 * 1000:.2f}",
        f"{ordered[-1] * 1000:.2f}",
    )


def _timed(act: Callable[[UUID], int], patients: Sequence[UUID]) -> tuple[list[float], int]:
    durations, found = [], 0
    for patient in patients:
        start = time.perf_counter()
        found += act(patient)
        durations.append(time.perf_counter() - start)
    return durations, found


async def _scan(bootstrap: str, topics: list[str], patient: UUID) -> int:
    """Read every partition of the topics to its end, keeping the patient's messages.

    Not `TopicReader`: on this 400,000-message stream it sometimes stopped receiving
    (an idle event loop in `batches()`, seen with py-spy); this loop never pauses partitions.
    """
    key, found = str(patient).encode(), 0
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    try:
        cluster = await consumer._client.fetch_all_metadata()
        partitions = [
            TopicPartition(t, p) for t in topics for p in cluster.partitions_for_topic(t) or ()
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            fetched = await consumer.getmany(timeout_ms=1_000, max_records=5_000)
            found += sum(1 for records in fetched.values() for r in records if r.key == key)
    finally:
        await consumer.stop()
    return found


@dataclass(frozen=True)
class Measured:
    """What `run` measured; latencies in seconds."""

    total: int
    load_rate: float
    generation_rate: float
    direct: list[float]
    http: list[float]
    raw: list[float]


def _report(patients: int, measured: Measured) -> None:
    total, direct, http, raw = measured.total, measured.direct, measured.http, measured.raw
    table = Table(title=f"One patient's history among {patients:,} ({total:,} messages)")
    for column in ("path", "samples", "p50 ms", "p95 ms", "max ms", "vs baseline p50"):
        table.add_column(column, justify="left" if column == "path" else "right")
    baseline_p50 = statistics.median(raw)
    for name, samples in (
        ("read side: index query", direct),
        ("read side: HTTP API (token, read recorded)", http),
        ("baseline: scan the four topics", raw),
    ):
        ratio = baseline_p50 / statistics.median(samples)
        table.add_row(name, str(len(samples)), *_ms(samples), f"{ratio:,.0f}× faster")
    console.print(table)
    console.print(
        f"load: {measured.load_rate:,.0f} messages/s into the read side (SQLite, batches of "
        f"2,000 per partition); stream generation {measured.generation_rate:,.0f} messages/s on "
        f"{os.cpu_count()} cores"
    )


def _stream(
    args: argparse.Namespace, bootstrap: str, total: int, keys: Path
) -> tuple[str, list[UUID], float]:
    """The namespace, the patients (if known) and how long writing the stream took."""
    if args.namespace:  # a stream an earlier run left on the broker
        return args.namespace, [], float("nan")
    namespace = f"bench-{uuid4().hex[:8]}."
    kafka.run_sync(kafka.create_topics(bootstrap, namespace=namespace))
    with console.status(f"Writing {total:,} signed messages of {args.patients:,} patients"):
        start = time.perf_counter()
        patients = write_stream(bootstrap, namespace, args.patients, args.events, keys)
        written = time.perf_counter() - start
    console.print(f"stream {namespace} written: {total:,} messages in {written:.1f}s")
    return namespace, patients, written


def run(args: argparse.Namespace, bootstrap: str, work: Path) -> Measured:
    total = args.patients * len(PRODUCERS) * args.events
    keys = args.keys or work / "keys"
    namespace, patients, written = _stream(args, bootstrap, total, keys)

    env = {
        "CARENET_KAFKA_BOOTSTRAP": bootstrap,
        "CARENET_TOPIC_NAMESPACE": namespace,
        "CARENET_TRUSTED_KEYS": str(DevKeyring(keys).key_set_path),
    }
    ports = {name: _free_port() for name in SERVICES}
    service = service_processes(work, env, ports)["audit"]
    store = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(work / "data" / "audit.sqlite"),
        "SQLITE_LOCK_TIMEOUT": "30",
    }
    service.start()
    try:
        start = time.perf_counter()
        service.wait_ready(timeout=120)
        factory = InfrastructureFactory.construct(store)
        index = HistoryIndex.construct(factory)
        with console.status("The audit service loads the stream"):
            while (first := index.count()) == 0:
                time.sleep(0.1)
            loading = time.perf_counter()
            while (loaded := index.count()) < total:
                time.sleep(0.5)
        done = time.perf_counter()
        load_rate = (loaded - first) / max(done - loading, 1e-9)
        console.print(
            f"read side loaded: {loaded:,} messages {done - start:.1f}s after the service "
            f"started, {load_rate:,.0f} messages/s once loading"
        )

        patients = patients or [UUID(p) for p in _indexed_patients(work / "data")]
        sample = random.sample(patients, min(args.samples, len(patients)))
        direct, direct_found = _timed(
            lambda p: sum(1 for e in index.history(p) if e.producer != "audit"), sample
        )
        token = DevIssuer(work / "keys").token("auditor-bench", "NHC-AUDIT", "auditor")
        with httpx.Client(
            base_url=service.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as client:

            def over_http(patient: UUID) -> int:
                body = {
                    "patient_id": str(patient),
                    "purpose": "quality-review",
                    "justification": "BENCH-1",
                }
                response = client.post("/v1/patient-histories", json=body)
                response.raise_for_status()
                return sum(1 for m in response.json()["messages"] if m["producer"] != "audit")

            http, http_found = _timed(over_http, sample)
        factory.close()
    finally:
        service.stop()

    topics = [namespace + load_catalog().topic_of(p).name for p in PRODUCERS]
    few = sample[: args.baseline_samples]
    with console.status(f"Baseline: scanning the topics for {len(few)} patients"):
        raw, raw_found = _timed(lambda p: asyncio.run(_scan(bootstrap, topics, p)), few)
    expected = len(PRODUCERS) * args.events
    assert direct_found == http_found == expected * len(sample), "a history came back wrong"
    assert raw_found == expected * len(few), "the baseline missed messages"

    return Measured(total, load_rate, total / written, direct, http, raw)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1, help="per producer and patient")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--baseline-samples", type=int, default=5)
    parser.add_argument("--bootstrap", help="an existing broker; default: a local one")
    parser.add_argument(
        "--namespace", help="reuse the stream an earlier run wrote there (with --bootstrap)"
    )
    parser.add_argument(
        "--keys",
        type=Path,
        help="the producers' keys (made if absent; default: new ones); the service trusts "
        "only these, so a run that reuses a stream gives the keys of the run that wrote it",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="carenet-bench-") as directory:
        work = Path(directory)
        if args.bootstrap:
            _report(args.patients, run(args, args.bootstrap, work))
            return
        with console.status("Starting a local Kafka broker"):
            libs = kafka.ensure_jars(default_cache_dir())
            bootstrap = kafka.start(work / "kafka", _free_port(), _free_port(), libs=libs)
        try:
            _report(args.patients, run(args, bootstrap, work))
        finally:
            kafka.stop(work / "kafka")


if __name__ == "__main__":
    main()
