"""What every scenario of `python -m bench` shares: the broker, topics, service processes,
polling with a deadline, and the one table (and JSON) the rows end up in.

A row's load average is taken when its scenario has measured: the machine is shared, and a
figure means little without how busy the machine was while it was taken.
"""

from __future__ import annotations

import json
import os
import random
import socket
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, TopicPartition
from rich.console import Console
from rich.table import Table

from carenet_devtools import kafka
from carenet_devtools.cache import default_cache_dir
from carenet_devtools.services import SERVICES, ServiceProcess, service_processes
from carenet_kit.topics import load_catalog

T = TypeVar("T")

REPOSITORY = Path(__file__).parents[1]
DEMO_DIRECTORY = REPOSITORY / "reference" / "demo-directory.yaml"
RULE_SET = REPOSITORY / "rules" / "nhc-2018.yaml"


@dataclass(frozen=True)
class Row:
    """One line of the table: CareNet's figure, the raw baseline's, and how they compare."""

    scenario: str
    carenet: str
    baseline: str
    ratio: float | None
    """CareNet's rate over the baseline's (higher is better); None where there is no rate."""
    note: str = ""
    figures: Mapping[str, float] = field(default_factory=dict)
    """The numbers behind the two texts, for `--json`."""
    load: tuple[float, float, float] = field(default_factory=os.getloadavg)


@dataclass(frozen=True)
class System:
    processes: dict[str, ServiceProcess]
    keys: Path
    """The run's development token issuer and signing keys (`carenet_devtools.issuer`)."""


@dataclass
class Bench:
    """One run: its broker, its scratch directory, where it reports progress."""

    bootstrap: str
    work: Path
    console: Console

    def namespace(self, prefix: str = "bench") -> str:
        """A fresh topic namespace with every topic of deploy/topics.yaml created in it."""
        namespace = f"{prefix}-{uuid4().hex[:8]}."
        kafka.run_sync(kafka.create_topics(self.bootstrap, namespace=namespace))
        return namespace

    def directory(self, name: str) -> Path:
        path = self.work / f"{name}-{uuid4().hex[:6]}"
        path.mkdir(parents=True)
        return path

    @contextmanager
    def services(
        self, namespace: str, names: Sequence[str] = SERVICES, env: Mapping[str, str] = {}
    ) -> Iterator[System]:
        """The named services as processes on the namespace (their own data under one run
        directory, the demo directory as reference), ready; stopped on leaving."""
        run_dir = self.directory("system")
        processes = service_processes(
            run_dir,
            {
                "CARENET_KAFKA_BOOTSTRAP": self.bootstrap,
                "CARENET_TOPIC_NAMESPACE": namespace,
                "CARENET_REFERENCE_FILE": str(DEMO_DIRECTORY),
                "CARENET_RULE_SET_FILE": str(RULE_SET),
                **env,
            },
            ports={name: free_port() for name in SERVICES},
        )
        chosen = [processes[name] for name in names]
        try:
            for process in chosen:
                process.start()
            for process in chosen:
                process.wait_ready(timeout=300)
            yield System({p.name: p for p in chosen}, run_dir / "keys")
        finally:
            for process in chosen:
                process.stop()


def topic(namespace: str, producer: str) -> str:
    return namespace + load_catalog().topic_of(producer).name


async def partitions(consumer: AIOKafkaConsumer, name: str) -> list[TopicPartition]:
    """The topic's partitions, from fresh metadata (a consumer that subscribed to nothing
    has none)."""
    await consumer._client.force_metadata_update()
    found = consumer._client.cluster.partitions_for_topic(name) or ()
    return [TopicPartition(name, p) for p in sorted(found)]


def free_port() -> int:
    """A free port below the kernel's ephemeral range, which Kafka clients' connections use."""
    while True:
        port = random.randint(20_000, 32_000)  # noqa: S311 - not for security
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


@contextmanager
def broker(bootstrap: str | None) -> Iterator[str]:
    """The given broker, or a local one of its own in a scratch directory (stopped after)."""
    if bootstrap:
        yield bootstrap
        return
    with tempfile.TemporaryDirectory(prefix="carenet-bench-kafka-") as work_dir:
        libs = kafka.ensure_jars(default_cache_dir())
        started = kafka.start(Path(work_dir), free_port(), free_port(), libs=libs)
        try:
            yield started
        finally:
            kafka.stop(Path(work_dir))


def until(probe: Callable[[], T | None], timeout: float, every: float = 0.02) -> T:
    """Poll until `probe` gives something, or fail after `timeout` seconds. The interval only
    bounds how late the outcome is seen, which the scenarios keep far below what they time."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout:.0f}s: {probe}")
        time.sleep(every)


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def rss_mb(pid: int) -> float:
    """A process's resident memory now (Linux: /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_seconds(pid: int) -> float:
    """The CPU time (user + system) a process has used so far (Linux: /proc): far less
    sensitive than wall time to what else the shared machine runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    user, system = int(fields[11]), int(fields[12])  # utime, stime: fields 14 and 15
    return (user + system) / os.sysconf("SC_CLK_TCK")


def table(rows: Sequence[Row], title: str) -> Table:
    shown = Table(title=title, title_justify="left", show_lines=True)
    for column in ("scenario", "CareNet", "raw baseline, same run", "ratio", "load avg", "note"):
        shown.add_column(column, justify="right" if column == "ratio" else "left")
    for row in rows:
        shown.add_row(
            row.scenario,
            row.carenet,
            row.baseline,
            _ratio(row.ratio),
            " ".join(f"{value:.1f}" for value in row.load),
            row.note,
        )
    return shown


def _ratio(ratio: float | None) -> str:
    if ratio is None:
        return ""
    return f"{ratio:.2f}×" if ratio >= 0.1 else f"{ratio:.2g}×"


def write_json(rows: Sequence[Row], path: Path, settings: Mapping[str, object]) -> None:
    document = {
        "settings": dict(settings),
        "cpus": os.cpu_count(),
        "rows": [asdict(row) for row in rows],
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
