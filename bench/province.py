"""P9 province import: a year of a province's history loaded into a fresh system, replay-verified.

    uv run python -m bench --only P9 --province-patients 500000 --timeout 1800

Issue 15's last goal: 500,000 patients (Guangdong registers about 520,000) with a year of
history, 30–50 events each, loaded into a fresh system and replay-verified, within an hour on
two cores. Four steps, each timed, on a fresh namespace:

1. **write**: each patient's year, `--province-events` events over the four producers (one of
   each producer's every 365 / (events / 4) days), sealed with the outbox's own code (signed
   and chained: `bench.synthetic`) and produced in record batches, a process per core
   (`bench.history.write_stream`);
2. **load**: what a fresh system builds from those topics before it is ready, built by the
   services' own readers (`bench.seeding`): every service's access graph and audit's history
   index, with their positions, every message admitted (signatures through the chains);
3. **verify**: `carenet-audit replay` over the topics (`bench.replay.full_replay`): every
   message, link and sequence, a signature covering each chain; the run fails unless the report
   is clean and counts every message written;
4. **start**: each service started on those stores (`bench.startup.starts`), to its `/readyz`,
   reading nothing of the history again.

Baseline: the same topics read raw (`bench.replay.raw_consume`). What is not imported: the
services' own event stores (their aggregates and outbox streams). The history is made of the
contracts' example payloads, so it reads as a network's history (audit's history, the access
decisions) but is no domain history the services could act on; their consumer groups start at
the topics' ends, as in P7.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bench.harness import Bench, Row
from bench.history import write_stream
from bench.replay import full_replay, raw_consume
from bench.seeding import seed
from bench.startup import Start, starts
from bench.synthetic import PRODUCERS
from carenet_devtools import kafka
from carenet_devtools.keys import DevKeyring

YEAR = timedelta(days=365)


@dataclass(frozen=True)
class Imported:
    """Seconds of each step, and what the stores take on disk."""

    write: float
    load: float
    verify: float
    raw: float
    starts: dict[str, Start]
    store_mb: float
    verified_note: str

    @property
    def total(self) -> float:
        return self.write + self.load + self.verify


def run(bench: Bench, patients: int, events: int, timeout: float) -> list[Row]:
    per_producer = max(1, events // len(PRODUCERS))
    messages = patients * per_producer * len(PRODUCERS)
    namespace, run_dir = bench.namespace("province"), bench.directory("province")
    keys = DevKeyring(run_dir / "keys")
    status = bench.console.status
    began = time.perf_counter()
    with status(f"P9: writing {patients:,} patients' year, {messages:,} signed messages"):
        every = YEAR / per_producer
        write_stream(bench.bootstrap, namespace, patients, per_producer, run_dir / "keys", every)
    written = time.perf_counter()
    bench.console.print(f"P9: {messages:,} messages written in {written - began:,.0f} s")
    with status(f"P9: the services' readers load {messages:,} messages into the stores"):
        seed(bench.bootstrap, namespace, run_dir / "data", keys.key_set_path)
    loaded = time.perf_counter()
    bench.console.print(f"P9: the stores loaded in {loaded - written:,.0f} s")
    with status(f"P9: replaying and verifying {messages:,} messages"):
        key_set = json.loads(keys.key_set_path.read_text())
        verified = full_replay(bench.bootstrap, namespace, key_set, None)
    if verified.events < messages:
        raise RuntimeError(f"P9: the replay verified {verified.events:,} of {messages:,}")
    checked = time.perf_counter()
    bench.console.print(f"P9: replay-verified in {checked - loaded:,.0f} s")
    with status(f"P9: starting each service on {patients:,} patients' year"):
        started = {
            name: restart
            for name, (restart, _) in starts(bench, run_dir, namespace, timeout, False).items()
        }
    with status(f"P9: raw consume of {messages:,} messages"):
        raw = raw_consume(bench.bootstrap, namespace)
    kafka.run_sync(kafka.delete_topics(bench.bootstrap, namespace))  # a province's: gigabytes
    imported = Imported(
        written - began,
        loaded - written,
        checked - loaded,
        raw.seconds,
        started,
        _megabytes(run_dir / "data"),
        verified.note,
    )
    return [_row(patients, messages, imported)]


def _megabytes(directory: Path) -> float:
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file()) / 1e6


def _row(patients: int, messages: int, imported: Imported) -> Row:
    slowest = max(imported.starts.values(), key=lambda start: start.seconds)
    largest = max(imported.starts.values(), key=lambda start: start.rss_mb)
    return Row(
        f"P9 province import, {patients:,} patients × a year ({messages:,} messages)",
        f"{imported.total / 60:,.1f} min: written {imported.write:,.0f} s, loaded "
        f"{imported.load:,.0f} s, replay-verified {imported.verify:,.0f} s "
        f"({messages / imported.total:,.0f} msg/s); then every service ready in at most "
        f"{slowest.seconds:.1f} s, at most {largest.rss_mb:,.0f} MB",
        f"raw consume: {imported.raw:,.0f} s ({messages / imported.raw:,.0f} msg/s)",
        imported.raw / imported.total,
        f"stores {imported.store_mb:,.0f} MB on disk; replay: {imported.verified_note}",
        {
            "patients": patients,
            "messages": messages,
            "write_s": imported.write,
            "load_s": imported.load,
            "verify_s": imported.verify,
            "total_s": imported.total,
            "raw_consume_s": imported.raw,
            "slowest_start_s": slowest.seconds,
            "largest_rss_mb": largest.rss_mb,
            "stores_mb": imported.store_mb,
        },
    )
