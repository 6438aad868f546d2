"""What admitting a message costs a consumer: the checks every consumer runs before acting.

    uv run python -m bench.admission [--messages N]

On a synthetic stream (real envelopes of the committed examples, really chained and signed):
the Ed25519 signature check alone; the inspection (size, contract parse, topic, Kafka key,
signature: `carenet_kit.inspection`); the whole admission with the streams' positions in
memory, every signature checked, and with the signatures checked through the streams' chains
(`carenet_kit.chain_cover`: the batch readers' case, here 4 messages a stream); and the whole
admission with the positions in SQLite, each message read and then recorded with its tracking
record in a transaction of its own (the inbound consumer's case, without the command itself),
against the tracking record alone. Each figure is the best of five rounds (three for SQLite),
each round with no signature proven yet, in microseconds per message, on one core. `make bench`
shows it as its row P8 (`run`).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from uuid import uuid4

from eventsourcing.persistence import InfrastructureFactory, Tracking
from rich.console import Console
from rich.table import Table

from bench.harness import Bench, Row
from bench.synthetic import SyntheticNetwork
from carenet_kit.admission import (
    Admitted,
    Authentic,
    Gate,
    Stream,
    StreamPosition,
    StreamTracking,
    follow,
)
from carenet_kit.chain_cover import ChainCover
from carenet_kit.consumed_streams import StreamPositions
from carenet_kit.inspection import Record
from carenet_kit.service_recorder import service_process_recorder
from carenet_kit.signing import PROVEN
from carenet_kit.topics import load_catalog


def messages(count: int) -> tuple[SyntheticNetwork, list[Record]]:
    """`count` messages, 4 per patient and producer, as they lie on the topics."""
    network = SyntheticNetwork()
    catalog = load_catalog()
    records: list[Record] = []
    while len(records) < count:
        for m in network.patient(uuid4(), 4):
            topic = catalog.topic_of(m.producer).name
            records.append(Record(topic, 0, len(records), m.key, m.value, m.headers))
    return network, records[:count]


def best_microseconds(run: Callable[[], object], calls: int, rounds: int = 5) -> float:
    """The best round; each starts with no signature proven yet (`PROVEN`: a process checks a
    signature once, so a round after the first would time a cache)."""
    best = float("inf")
    for _ in range(rounds):
        PROVEN.forget()
        started = time.perf_counter()
        run()
        best = min(best, (time.perf_counter() - started) / calls)
    return best * 1e6


def in_memory(gate: Gate, records: list[Record]) -> None:
    positions: dict[Stream, StreamPosition] = {}
    for record in records:
        verdict = gate.admit(record, positions.get)
        assert isinstance(verdict, Admitted), verdict
        positions[verdict.position.stream] = verdict.position


def through_chains(gate: Gate, records: list[Record]) -> None:
    """A batch reader's admission (`carenet_kit.batches`): the signatures through the chains."""
    assert gate.inspector is not None
    cover = ChainCover(gate.inspector.trusted)
    positions: dict[Stream, StreamPosition] = {}
    for record in records:
        authentic = gate.inspect(record, verify_signature=False)
        assert isinstance(authentic, Authentic), authentic
        verdict = follow(authentic, positions.get(authentic.stream))
        assert isinstance(verdict, Admitted), verdict
        cover.note(authentic.message, record)
        positions[verdict.position.stream] = verdict.position
    cover.finish()
    assert cover.altered == 0


def in_sqlite(gate: Gate | None, records: list[Record], directory: Path) -> Callable[[], None]:
    """Admission against the positions of a service's SQLite store (a fresh one per round),
    or without a gate the tracking record alone (what a consumer wrote before admission)."""

    def run() -> None:
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(directory / f"{uuid4()}.sqlite"),
        }
        factory = InfrastructureFactory.construct(env)
        recorder = service_process_recorder(factory)
        positions: StreamPositions = recorder  # type: ignore[assignment]
        for record in records:
            if gate is None:
                recorder.insert_tracking(Tracking(f"{record.topic}:0", record.offset))
                continue
            verdict = gate.admit(record, lambda s: positions.stream_positions([s]).get(s))
            assert isinstance(verdict, Admitted), verdict
            recorder.insert_tracking(
                StreamTracking(f"{record.topic}:0", record.offset, (verdict.position,))
            )
        factory.close()

    return run


CHECKS = {
    "signature": "Ed25519 signature",
    "inspection": "inspection (size, contract, topic, key, signature)",
    "in_memory": "admission, positions in memory",
    "through_chains": "admission, positions in memory, signatures through the chains",
    "tracking_alone": "tracking record alone in SQLite (no admission: the old path)",
    "in_sqlite": "admission + tracking record with the position in SQLite",
}


def measure(count: int) -> tuple[dict[str, float], float]:
    """Microseconds per message of each of `CHECKS`, and the messages' mean size in bytes."""
    network, records = messages(count)
    gate = Gate(json.loads(network.key_set_json()))
    signatures = [(json.loads(r.value)["producer"], r.value, r.signature) for r in records]

    def signatures_only() -> None:
        for producer, value, signature in signatures:
            assert network.trusted.problem_with(producer, value, signature) is None

    def inspection() -> None:
        assert gate.inspector is not None
        for record in records:
            assert not gate.inspector.inspect(record).problems

    n = len(records)
    with tempfile.TemporaryDirectory(prefix="carenet-bench-") as directory:
        micros = {
            "signature": best_microseconds(signatures_only, n),
            "inspection": best_microseconds(inspection, n),
            "in_memory": best_microseconds(lambda: in_memory(gate, records), n),
            "through_chains": best_microseconds(lambda: through_chains(gate, records), n),
            "tracking_alone": best_microseconds(
                in_sqlite(None, records, Path(directory)), n, rounds=3
            ),
            "in_sqlite": best_microseconds(in_sqlite(gate, records, Path(directory)), n, rounds=3),
        }
    return micros, sum(len(r.value) for r in records) / n


def run(bench: Bench, count: int) -> list[Row]:
    """P8: the admission every consumer runs before acting, against the bare signature check."""
    with bench.console.status(f"P8: admitting {count:,} messages"):
        micros, size = measure(count)
    admitted, signature = micros["in_memory"], micros["signature"]
    return [
        Row(
            f"P8 admission, {count:,} messages (~{size:,.0f} B), one core",
            f"{admitted:,.0f} µs/message ({1e6 / admitted:,.0f}/s) with the positions in "
            f"memory ({micros['through_chains']:,.0f} µs with the signatures checked through "
            f"the chains, as the batch readers do); {micros['in_sqlite']:,.0f} µs with the "
            f"position in SQLite (tracking alone {micros['tracking_alone']:,.0f} µs)",
            f"Ed25519 signature check: {signature:,.0f} µs/message ({1e6 / signature:,.0f}/s)",
            signature / admitted,
            "what every consumer checks before acting (bench.admission); best of 3–5 rounds",
            {f"{name}_us": value for name, value in micros.items()},
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2_000)
    args = parser.parse_args()
    micros, size = measure(args.messages)
    table = Table(
        title=f"Admission cost per message ({args.messages:,} messages of {size:,.0f} bytes, "
        "one core)"
    )
    for column in ("check", "µs per message", "messages/s"):
        table.add_column(column, justify="left" if column == "check" else "right")
    for name, label in CHECKS.items():
        table.add_row(label, f"{micros[name]:,.0f}", f"{1e6 / micros[name]:,.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
