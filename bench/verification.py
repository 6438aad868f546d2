"""P4: verified replay against raw consume (`bench.replay`), and one patient's history among
many through the audit service against a scan of the topics (`bench.history`).

The replay's peak memory is left out of the row: its reading process, started by
`multiprocessing`, imports the whole bench, which outweighs what it reads at these sizes.

Both measure with the functions of those modules, which also run on their own
(`python -m bench.replay`, `python -m bench.history`, with their own tables).
"""

from __future__ import annotations

import argparse
import statistics

from bench import history, replay
from bench.harness import Bench, Row
from carenet_audit_tool.replay import PARALLEL_FROM


def run(bench: Bench, patients: int, events: int, history_patients: int) -> list[Row]:
    raw, verified = replay.measure(bench.bootstrap, patients, events, None, bench.console)
    rows = [
        Row(
            f"P4 verified replay, {patients:,} patients × 4 producers × {events} events",
            f"{verified.rate:,.0f} ev/s",
            f"raw consume: {raw.rate:,.0f} ev/s",
            verified.rate / raw.rate,
            "carenet-audit replay's verification (chain-covering signatures), partitions "
            f"shared by one process per core from {PARALLEL_FROM:,} events (raw: one "
            f"reader); {verified.note}",
            {"verified_per_s": verified.rate, "raw_per_s": raw.rate},
        )
    ]
    options = argparse.Namespace(
        patients=history_patients,
        events=1,
        samples=50,
        baseline_samples=3,
        namespace=None,
        keys=None,
    )
    measured = history.run(options, bench.bootstrap, bench.directory("history"))
    http, scan = statistics.median(measured.http), statistics.median(measured.raw)
    rows.append(
        Row(
            f"P4 one patient's history among {history_patients:,} ({measured.total:,} messages)",
            f"audit HTTP API p50 {http * 1000:,.1f} ms",
            f"scan of the four topics p50 {scan * 1000:,.0f} ms",
            scan / http,
            f"{len(measured.http)} patients over HTTP (token, read recorded), "
            f"{len(measured.raw)} scanned",
            {"http_p50_s": http, "scan_p50_s": scan},
        )
    )
    return rows
