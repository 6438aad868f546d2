"""P3 pathway: N patients through the HTTP API until every case manager is assigned.

CareNet: the five services as processes (SQLite stores) on a fresh namespace; `concurrency`
clients each register a patient and record a diagnosis at intake (a clinician's token from the
development issuer), until N patients are diagnosed. A reader of the casework topic waits for
every patient's `CaseManagerAssigned`. Figures: patients per second from the first request to
the last assignment seen on the topic; latency from the diagnosis' answer to the assignment's
`recorded_at` (casework's commit; one clock, one machine).
Baseline: a bare aiokafka pipeline of three hops with messages of the same sizes
(DiagnosisRecorded → PatientRouted → CaseManagerAssigned, the contracts' examples): a producer,
two stages that consume and produce, a sink; rate and latency from send to sink. It carries at
least `PIPELINE_MESSAGES`, so that its rate is a throughput, not one trip's latency.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from bench.harness import (
    REPOSITORY,
    Bench,
    Row,
    cpu_seconds,
    median,
    partitions,
    percentile,
    topic,
)
from carenet_devtools.issuer import DevIssuer
from tests.e2e.pathway import CLINICIAN, diagnosis, registration

EXAMPLES = REPOSITORY / "contracts" / "tests" / "messages"
HOPS = ("DiagnosisRecorded", "PatientRouted", "CaseManagerAssigned")
PIPELINE_MESSAGES = 5_000


@dataclass(frozen=True)
class Measured:
    patients_per_s: float
    latencies: list[float]
    """From each diagnosis' answer to its patient's case manager assigned, in s."""
    posts: list[float]
    """How long each POST diagnosis took, in s."""
    cpu_ms_per_patient: dict[str, float]
    """Each service's CPU time from the first request to the last assignment, per patient."""


@dataclass(frozen=True)
class Diagnosed:
    patient_id: str
    answered: float
    """Wall-clock time (epoch seconds) of the diagnosis' 201."""
    seconds: float
    """How long the POST of the diagnosis took."""


async def register(client: aiohttp.ClientSession, serial: int) -> str:
    """The registration's handle, to record the diagnosis through."""
    async with client.post("/v1/patients", json=registration(serial)) as response:
        assert response.status == 201, response.status
        return str((await response.json())["patient_id"])


async def diagnose(client: aiohttp.ClientSession, handle: str) -> Diagnosed:
    start = time.perf_counter()
    async with client.post(f"/v1/patients/{handle}/diagnoses", json=diagnosis()) as response:
        answer = await response.json()
    seconds = time.perf_counter() - start
    assert response.status == 201, response.status
    return Diagnosed(str(answer["patient_id"]), time.time(), seconds)


def clinician(url: str, keys: Path, concurrency: int) -> aiohttp.ClientSession:
    """A client calling as the demo clinician, with a connection per concurrent caller.

    aiohttp rather than httpx: on this machine httpx's client saturated at about 70 requests
    a second against a route doing nothing, about four times less than aiohttp's."""
    token = DevIssuer(keys).token_of(CLINICIAN)
    return aiohttp.ClientSession(
        url,
        headers={"Authorization": f"Bearer {token}"},
        connector=aiohttp.TCPConnector(limit=concurrency),
        timeout=aiohttp.ClientTimeout(total=120),
    )


async def pathways(url: str, keys: Path, patients: int, concurrency: int) -> list[Diagnosed]:
    serials: Iterator[int] = iter(range(patients))
    done: list[Diagnosed] = []
    async with clinician(url, keys, concurrency) as client:

        async def caller() -> None:
            for serial in serials:
                done.append(await diagnose(client, await register(client, serial)))

        await asyncio.gather(*(caller() for _ in range(concurrency)))
    return done


async def assignments(
    bootstrap: str, casework_topic: str, expected: int, timeout: float
) -> dict[str, tuple[float, float]]:
    """Per patient, the first `CaseManagerAssigned`: (recorded_at, seen on the topic)."""
    found: dict[str, tuple[float, float]] = {}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        assigned = await partitions(consumer, casework_topic)
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        async with asyncio.timeout(timeout):
            while len(found) < expected:
                fetched = await consumer.getmany(timeout_ms=200)
                seen = time.time()
                for record in itertools.chain.from_iterable(fetched.values()):
                    message = json.loads(record.value)
                    if message["event_type"] == "CaseManagerAssigned":
                        recorded = datetime.fromisoformat(message["recorded_at"]).timestamp()
                        found.setdefault(message["patient_id"], (recorded, seen))
    finally:
        await consumer.stop()
    return found


async def measure_carenet(
    bench: Bench, namespace: str, patients: int, concurrency: int, timeout: float
) -> Measured:
    with bench.services(namespace) as system:
        pids = {name: process.pid for name, process in system.processes.items()}
        watcher = asyncio.create_task(
            assignments(bench.bootstrap, topic(namespace, "casework"), patients, timeout)
        )
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        start = time.time()
        diagnosed = await pathways(
            system.processes["intake"].url, system.keys, patients, concurrency
        )
        found = await watcher
        cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
    last_seen = max(seen for _, seen in found.values())
    return Measured(
        patients / (last_seen - start),
        [found[d.patient_id][0] - d.answered for d in diagnosed],
        [d.seconds for d in diagnosed],
        {name: seconds * 1000 / patients for name, seconds in cpu.items()},
    )


async def three_hops(
    bench: Bench, namespace: str, messages: int, timeout: float
) -> tuple[float, list[float]]:
    """(messages/s, latencies in s) of the bare pipeline."""
    names = [topic(namespace, p) for p in ("intake", "routing", "casework")]
    sizes = [len((EXAMPLES / f"{hop}.v1.json").read_bytes()) for hop in HOPS]
    producer = AIOKafkaProducer(bootstrap_servers=bench.bootstrap, acks="all", linger_ms=5)
    await producer.start()
    arrivals: dict[int, float] = {}
    sent: dict[int, float] = {}

    ready = asyncio.Semaphore(0)

    async def stage(source: str, target: str | None, size: int) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=bench.bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            assigned = await partitions(consumer, source)
            consumer.assign(assigned)
            await consumer.seek_to_beginning(*assigned)
            await consumer.position(assigned[0])  # the reset to the beginning is done
            ready.release()
            while len(arrivals) < messages:
                fetched = await consumer.getmany(timeout_ms=200)
                for record in itertools.chain.from_iterable(fetched.values()):
                    if target is None:
                        arrivals[int(record.key)] = time.perf_counter()
                    else:
                        value = record.value[:16].ljust(size, b" ")
                        await producer.send(target, value, record.key)
        finally:
            await consumer.stop()

    stages = [
        asyncio.create_task(stage(names[0], names[1], sizes[1])),
        asyncio.create_task(stage(names[1], names[2], sizes[2])),
        asyncio.create_task(stage(names[2], None, 0)),
    ]
    try:
        async with asyncio.timeout(timeout):
            for _ in stages:
                await ready.acquire()
        start = time.perf_counter()
        for n in range(messages):
            sent[n] = time.perf_counter()
            await producer.send(names[0], str(n).encode().ljust(sizes[0], b" "), str(n).encode())
        async with asyncio.timeout(timeout):
            await asyncio.gather(*stages)
        end = max(arrivals.values())
    finally:
        for task in stages:
            task.cancel()
        await asyncio.gather(*stages, return_exceptions=True)
        await producer.stop()
    return messages / (end - start), [arrivals[n] - sent[n] for n in range(messages)]


def _ms(samples: list[float]) -> str:
    return f"p50 {median(samples) * 1000:,.0f} ms, p99 {percentile(samples, 0.99) * 1000:,.0f} ms"


def run(bench: Bench, patients: int, concurrency: int, timeout: float) -> list[Row]:
    with bench.console.status(f"P3: {patients:,} patients through the five services"):
        measured = asyncio.run(
            measure_carenet(bench, bench.namespace(), patients, concurrency, timeout)
        )
    messages = max(patients, PIPELINE_MESSAGES)
    with bench.console.status(f"P3: bare 3-hop pipeline, {messages:,} messages"):
        raw_rate, raw_latencies = asyncio.run(
            three_hops(bench, bench.namespace(), messages, timeout)
        )
    rate, latencies, cpu = measured.patients_per_s, measured.latencies, measured.cpu_ms_per_patient
    cpu_text = ", ".join(f"{name} {ms:.0f}" for name, ms in cpu.items())
    return [
        Row(
            f"P3 pathway, {patients:,} patients over HTTP ({concurrency} concurrent) "
            "until every CaseManagerAssigned",
            f"{rate:,.1f} patients/s; diagnosis → case manager {_ms(latencies)}",
            f"aiokafka 3 hops, same sizes, {messages:,} messages: {raw_rate:,.0f} msg/s; "
            f"{_ms(raw_latencies)}",
            rate / raw_rate,
            f"register + diagnosis per patient; POST diagnosis {_ms(measured.posts)}; "
            f"CPU per patient {sum(cpu.values()):.0f} ms ({cpu_text})",
            {
                "patients_per_s": rate,
                "latency_p50_s": median(latencies),
                "latency_p99_s": percentile(latencies, 0.99),
                "raw_per_s": raw_rate,
                "raw_latency_p50_s": median(raw_latencies),
                "raw_latency_p99_s": percentile(raw_latencies, 0.99),
                **{f"cpu_ms_per_patient_{name}": ms for name, ms in cpu.items()},
            },
        )
    ]
