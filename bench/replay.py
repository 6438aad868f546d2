"""Replay throughput: raw consume against full verification, measured in the same run.

    uv run python -m bench.replay [--patients N] [--events M] [--bootstrap HOST:PORT]

Writes a synthetic, genuinely signed and chained stream (`bench.synthetic`) to a fresh topic
namespace, on a broker of its own unless `--bootstrap` is given, then reads it all twice, each
in a fresh process so that its peak memory is its own: once with the bare topic reader (no
parsing), once through `carenet-audit replay`'s verification.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import resource
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

from rich.console import Console
from rich.table import Table

from bench.synthetic import SyntheticNetwork, produce
from carenet_audit_tool.replay import verify_stream
from carenet_audit_tool.stream import TopicReader
from carenet_devtools import kafka
from carenet_kit.inspection import PRODUCERS
from carenet_kit.topics import load_catalog


@dataclass(frozen=True)
class Measure:
    events: int
    seconds: float
    peak_rss_mb: float
    """The reading process's peak resident memory (worker processes not included)."""
    note: str = ""

    @property
    def rate(self) -> float:
        return self.events / self.seconds


def raw_consume(bootstrap: str, namespace: str) -> Measure:
    """Every record of the five topics with the bare reader: no parsing, no checks."""

    async def read() -> int:
        reader = TopicReader(bootstrap, _topics(namespace))
        await reader.open()
        try:
            return sum([len(batch) async for batch in reader.batches()])
        finally:
            await reader.close()

    return _timed(lambda: (asyncio.run(read()), ""))


def full_replay(
    bootstrap: str,
    namespace: str,
    key_set: dict[str, Any],
    workers: int | None,
    every_signature: bool = False,
) -> Measure:
    """What `carenet-audit replay` does, without the terminal output."""

    def run() -> tuple[int, str]:
        report = asyncio.run(
            verify_stream(
                bootstrap, key_set, namespace, workers=workers, every_signature=every_signature
            )
        )
        summary = report.summary
        assert report.clean, f"{sum(summary.problems.values())} problems in a genuine stream"
        return summary.events, f"{summary.streams:,} streams, {summary.signatures:,} signatures"

    return _timed(run)


def _timed(work: Callable[[], tuple[int, str]]) -> Measure:
    start = time.perf_counter()
    events, note = work()
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Measure(events, seconds, peak_mb, note)


def _in_fresh_process(function: Callable[..., Measure], *args: object) -> Measure:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def _topics(namespace: str) -> list[str]:
    catalog = load_catalog()
    return [namespace + catalog.topic_of(p).name for p in PRODUCERS]


@contextmanager
def _broker(bootstrap: str | None) -> Iterator[str]:
    if bootstrap:
        yield bootstrap
        return
    with tempfile.TemporaryDirectory(prefix="carenet-bench-") as work_dir:
        with socket.socket() as broker, socket.socket() as controller:
            broker.bind(("127.0.0.1", 0))
            controller.bind(("127.0.0.1", 0))
            ports = broker.getsockname()[1], controller.getsockname()[1]
        started = kafka.start(Path(work_dir), *ports)
        try:
            yield started
        finally:
            kafka.stop(Path(work_dir))


def measure(
    bootstrap: str,
    patients: int,
    events: int,
    workers: int | None,
    console: Console,
    every_signature: bool = False,
) -> tuple[Measure, Measure]:
    """Write the stream to a fresh namespace, then read it raw and verified."""
    network = SyntheticNetwork()
    namespace = f"bench-{uuid4().hex[:8]}."
    kafka.run_sync(kafka.create_topics(bootstrap, namespace=namespace))
    total = patients * len(network.signers) * events
    with console.status(f"writing {total:,} signed events"):
        start = time.perf_counter()
        kafka.run_sync(produce(bootstrap, namespace, network, patients, events))
        written = time.perf_counter() - start
    console.print(f"wrote {total:,} events in {written:.0f} s ({total / written:,.0f}/s)")
    with console.status("raw consume"):
        raw = _in_fresh_process(raw_consume, bootstrap, namespace)
    with console.status("replay with full verification"):
        key_set = json.loads(network.key_set_json())
        full = _in_fresh_process(
            full_replay, bootstrap, namespace, key_set, workers, every_signature
        )
    return raw, full


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=20, help="per producer and patient")
    parser.add_argument("--bootstrap", help="an existing broker (default: start one)")
    parser.add_argument("--workers", type=int, help="replay's --workers (default: auto)")
    parser.add_argument("--every-signature", action="store_true", help="replay's --every-signature")
    args = parser.parse_args()
    console = Console(width=max(Console().width, 110))
    with _broker(args.bootstrap) as bootstrap:
        raw, full = measure(
            bootstrap, args.patients, args.events, args.workers, console, args.every_signature
        )
    table = Table(
        title=f"Replay: {args.patients:,} patients × 4 producers × {args.events} events",
        title_justify="left",
    )
    for column in ("path", "events", "seconds", "events/s", "peak RSS (MB)", "vs raw", "note"):
        table.add_column(column, justify="left" if column in ("path", "note") else "right")
    for name, measured in (("raw consume", raw), ("replay, verified", full)):
        table.add_row(
            name,
            f"{measured.events:,}",
            f"{measured.seconds:.1f}",
            f"{measured.rate:,.0f}",
            f"{measured.peak_rss_mb:,.0f}",
            f"{measured.rate / raw.rate:.2f}×",
            measured.note,
        )
    console.print(table)


if __name__ == "__main__":
    main()
