"""The cost of the instrumentation on the HTTP path and on the outbox's commit path.

    uv run python -m bench.observability [--requests N] [--messages M]

HTTP: the same small FastAPI app (one templated route) called in process through Starlette's
test client, bare and then with what `runtime.Service` adds (Prometheus histogram, OpenTelemetry
server span with a recording SDK provider and no exporter, and the request log line rendered as
JSON to a discarded stream). Outbox: `PublishedStream.publish` (envelope, JSON, Ed25519
signature) outside any span, and inside one (so the `traceparent` is taken too); and the
consumer span the inbound consumer opens around each message.
Each figure is the best of five rounds, in microseconds per call.
"""

from __future__ import annotations

import argparse
import io
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from rich.console import Console
from rich.table import Table

from carenet_contracts import parse_message
from carenet_kit import metrics, tracing
from carenet_kit.logs import RequestLog, configure_logging
from carenet_kit.outbox import Cause, Outgoing, PublishedStream
from carenet_kit.signing import Signer

EXAMPLE = (
    Path(__file__).parents[1] / "contracts" / "tests" / "messages" / "DiagnosisRecorded.v1.json"
)


def best_microseconds(action: Callable[[], object], calls: int, rounds: int = 5) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(calls):
            action()
        best = min(best, (time.perf_counter() - started) / calls)
    return best * 1e6


def app(instrumented: bool) -> FastAPI:
    api = FastAPI()
    if instrumented:
        api.add_middleware(RequestLog)
        metrics.instrument_http(api)
        tracing.instrument_http(api)

    @api.get("/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"thing_id": thing_id}

    return api


def http_path(requests: int) -> tuple[float, float]:
    path = f"/v1/things/{uuid4()}"
    bare, instrumented = TestClient(app(False)), TestClient(app(True))
    return (
        best_microseconds(lambda: bare.get(path), requests),
        best_microseconds(lambda: instrumented.get(path), requests),
    )


def outbox_path(messages: int) -> tuple[float, float]:
    example = parse_message(EXAMPLE.read_bytes())
    outgoing = Outgoing(example.patient_id, example.data, datetime.now(UTC))
    signer = Signer.generate("bench", "intake")
    stream = PublishedStream("intake", uuid4())

    def publish() -> None:
        stream.publish(outgoing, Cause.request(), signer)

    bare = best_microseconds(publish, messages)
    with tracing.consuming("topic", None):  # the traceparent is taken with each message
        traced = best_microseconds(publish, messages)
    return bare, traced


def consumer_span(messages: int) -> tuple[float, float]:
    """What the inbound consumer adds around each message: a span from its `traceparent`."""
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    def in_span() -> None:
        with tracing.consuming("topic", parent):
            pass

    return 0.0, best_microseconds(in_span, messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2_000)
    parser.add_argument("--messages", type=int, default=2_000)
    args = parser.parse_args()
    configure_logging("bench", "info")
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(io.StringIO())  # rendered, then discarded
    trace.set_tracer_provider(TracerProvider())  # recording spans, no exporter
    table = Table(title="Instrumentation overhead (µs per call, best of 5)")
    for column in ("path", "bare", "instrumented", "added"):
        table.add_column(column, justify="left" if column == "path" else "right")
    for name, (bare, instrumented) in (
        ("HTTP GET, in process", http_path(args.requests)),
        ("outbox publish (sign)", outbox_path(args.messages)),
        ("consumer span per message", consumer_span(args.messages)),
    ):
        table.add_row(name, f"{bare:.0f}", f"{instrumented:.0f}", f"{instrumented - bare:.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
