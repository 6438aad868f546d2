"""`make bench`: CareNet against raw baselines measured in the same run, in one table.

    uv run python -m bench [--only P1,P3] [--patients 500] [--json FILE] [--bootstrap HOST:PORT]

Each scenario (issue 15: P1 relay, P2 consumer, P3 pathway, P4 replay and one patient's
history, P5 ingest, P6 faust agent, P7 start-up and memory; and P8, the admission every
consumer runs before acting, against a bare signature check, without the broker; and P9, a
province's year imported into a fresh system and replay-verified) measures
CareNet's path and its raw baseline one after the other on the same broker, bounded in count
and time, on loopback only.
Without `--bootstrap` the run starts a broker of its own and stops it at the end.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

from bench import admission, agent, consumer, ingest, pathway, province, startup, verification
from bench import relay as outbox_relay
from bench.harness import Bench, Row, broker, table, write_json
from carenet_kit.logs import configure_logging

Scenario = Callable[[Bench, argparse.Namespace], list[Row]]

SCENARIOS: dict[str, Scenario] = {
    "P1": lambda bench, a: outbox_relay.run(bench, a.messages, a.timeout),
    "P2": lambda bench, a: consumer.run(bench, a.consumed, a.timeout),
    "P3": lambda bench, a: pathway.run(bench, a.patients, a.concurrency, a.timeout),
    "P4": lambda bench, a: verification.run(
        bench, a.replay_patients, a.replay_events, a.history_patients
    ),
    "P5": lambda bench, a: ingest.run(bench, a.requests, a.concurrency, a.timeout),
    "P6": lambda bench, a: agent.run(bench, a.consumed, a.timeout),
    "P7": lambda bench, a: startup.run(bench, a.history_sizes, a.timeout),
    "P8": lambda bench, a: admission.run(bench, a.admitted),
    "P9": lambda bench, a: province.run(bench, a.province_patients, a.province_events, a.timeout),
}


def _sizes(text: str) -> list[int]:
    return [int(size) for size in text.split(",")]


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument(
        "--only", default=",".join(SCENARIOS), help="scenarios, e.g. P1,P3 (default: all)"
    )
    parser.add_argument("--bootstrap", help="an existing broker (default: start one)")
    parser.add_argument("--json", type=Path, help="also write the rows to this file")
    parser.add_argument("--messages", type=int, default=40_000, help="P1: outbox messages")
    parser.add_argument(
        "--consumed", type=int, default=1_000, help="P2, P6: inbound messages to apply"
    )
    parser.add_argument("--patients", type=int, default=500, help="P3: patients over HTTP")
    parser.add_argument("--concurrency", type=int, default=32, help="P3, P5: HTTP clients")
    parser.add_argument("--requests", type=int, default=1_000, help="P5: POST diagnosis")
    parser.add_argument(
        "--replay-patients",
        type=int,
        default=4_000,
        help="P4: replayed stream (at 20 events: 320,000, some seconds of raw consume; at a "
        "quarter of that both reads last about as long as their start-up)",
    )
    parser.add_argument(
        "--replay-events", type=int, default=20, help="P4: events per producer and patient"
    )
    parser.add_argument(
        "--history-patients", type=int, default=2_000, help="P4: one history among how many"
    )
    parser.add_argument(
        "--history-sizes",
        type=_sizes,
        default=[1_000, 10_000],
        help="P7: patients of history, comma-separated (the issue's goal: 1000,100000)",
    )
    parser.add_argument(
        "--admitted", type=int, default=2_000, help="P8: messages admitted per round"
    )
    parser.add_argument(
        "--province-patients",
        type=int,
        default=2_000,
        help="P9: patients imported with a year of history (the issue's goal: 500000)",
    )
    parser.add_argument(
        "--province-events", type=int, default=40, help="P9: events per patient and year"
    )
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds any one measurement may take"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> list[Row]:
    args = parser().parse_args(argv)
    chosen = [name.strip().upper() for name in args.only.split(",") if name.strip()]
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenarios: {', '.join(sorted(unknown))}")
    console = Console(width=max(Console().width, 160))
    rows: list[Row] = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="carenet-bench-") as directory:
        console.print("starting a Kafka broker" if not args.bootstrap else "")
        with broker(args.bootstrap) as bootstrap:
            bench = Bench(bootstrap, Path(directory), console)
            for name in chosen:
                scenario_started = time.monotonic()
                measured = SCENARIOS[name](bench, args)
                rows.extend(measured)
                elapsed = time.monotonic() - scenario_started
                console.print(f"{name} done in {elapsed:.0f} s")
                console.print(table(measured, name))
    console.print(
        table(
            rows,
            f"CareNet vs raw baselines, same run ({os.cpu_count()} CPUs, "
            f"{time.monotonic() - started:.0f} s)",
        )
    )
    if args.json:
        write_json(rows, args.json, {k: v for k, v in vars(args).items() if k != "json"})
    return rows


if __name__ == "__main__":
    configure_logging("bench", "critical")  # the clients' retries on fresh topics are noise
    main()
