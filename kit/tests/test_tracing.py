"""Trace context: continued from HTTP, stored in the outbox, put in Kafka headers, continued by
the consumer, and written on log lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from structlog.testing import LogCapture

from carenet_contracts import parse_message
from carenet_devtools.stored_events import as_stored_before
from carenet_kit import tracing
from carenet_kit.logs import RequestLog
from carenet_kit.outbox import Cause, Outgoing, PublishedStream
from carenet_kit.signing import Signer, TrustedKeys, key_set
from carenet_kit.wire import header, kafka_record

MESSAGES = Path(__file__).parents[2] / "contracts" / "tests" / "messages"
EXAMPLE = MESSAGES / "DiagnosisRecorded.v1.json"
PARENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_SPAN = "00f067aa0ba902b7"
PARENT = f"00-{PARENT_TRACE}-{PARENT_SPAN}-01"


@pytest.fixture(scope="module", autouse=True)
def recording_provider() -> None:
    """Spans that record (the SDK's), as `configure_tracing` installs in a service process."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())


def ids(traceparent: str | None) -> tuple[str, str]:
    """(trace id, span id) of a `traceparent`."""
    assert traceparent is not None
    version, trace_id, span_id, flags = traceparent.split("-")
    assert (version, len(trace_id), len(span_id), len(flags)) == ("00", 32, 16, 2)
    return trace_id, span_id


def outgoing() -> Outgoing:
    example = parse_message(EXAMPLE.read_bytes())
    return Outgoing(example.patient_id, example.data, datetime.now(UTC))


def traced_api() -> FastAPI:
    api = FastAPI()
    tracing.instrument_http(api)

    @api.get("/v1/things/{thing_id}")
    def thing(thing_id: str) -> dict[str, Any]:
        return {"traceparent": tracing.current_traceparent()}

    return api


def test_a_request_continues_the_callers_trace_in_a_span_of_its_own() -> None:
    with TestClient(traced_api()) as client:
        answer = client.get(f"/v1/things/{uuid4()}", headers={"traceparent": PARENT}).json()
    trace_id, span_id = ids(answer["traceparent"])
    assert trace_id == PARENT_TRACE
    assert span_id != PARENT_SPAN


def test_a_request_without_trace_context_starts_a_trace() -> None:
    with TestClient(traced_api()) as client:
        first = client.get(f"/v1/things/{uuid4()}").json()["traceparent"]
        second = client.get(f"/v1/things/{uuid4()}").json()["traceparent"]
    assert ids(first)[0] != ids(second)[0]


def test_no_trace_context_outside_a_span() -> None:
    assert tracing.current_traceparent() is None


def test_a_commit_in_a_span_stores_its_trace_context_with_the_message() -> None:
    stream = PublishedStream("intake", uuid4())
    with tracing.consuming("topic", PARENT):
        expected = tracing.current_traceparent()
        stream.publish(outgoing(), Cause.request(), Signer.generate("k1", "intake"))
    appended = stream.collect_events()[-1]
    assert isinstance(appended, PublishedStream.Appended)
    assert appended.traceparent == expected
    assert ids(appended.traceparent)[0] == PARENT_TRACE


def test_the_trace_context_rides_in_a_header_outside_the_signed_value() -> None:
    signer = Signer.generate("k1", "intake")
    stream = PublishedStream("intake", uuid4())
    with tracing.consuming("topic", PARENT):
        stream.publish(outgoing(), Cause.request(), signer)
    appended = stream.collect_events()[-1]
    assert isinstance(appended, PublishedStream.Appended)
    _, untraced = kafka_record(appended.message, 1, appended.signed)
    _, headers = kafka_record(appended.message, 1, appended.signed, appended.traceparent)
    assert header(headers, tracing.TRACEPARENT_HEADER) == appended.traceparent
    assert header(untraced, tracing.TRACEPARENT_HEADER) is None
    assert [h for h in headers if h[0] != tracing.TRACEPARENT_HEADER] == untraced
    trusted = TrustedKeys(key_set([signer.public_jwk()]))
    assert trusted.problem_with("intake", appended.message.encode(), appended.signed) is None


def test_an_outbox_record_written_before_tracing_reads_without_trace_context() -> None:
    """A version-2 `Appended` (no `traceparent`) is upcast, so the relay publishes it as is."""
    stream = PublishedStream("intake", uuid4())
    stream.publish(outgoing(), Cause.request(), Signer.generate("k1", "intake"))
    appended = as_stored_before(stream.collect_events()[-1], "traceparent", class_version=2)
    assert isinstance(appended, PublishedStream.Appended)
    assert appended.traceparent is None


def test_a_consumed_message_is_handled_in_a_child_span_of_its_trace() -> None:
    with tracing.consuming("topic", PARENT):
        trace_id, span_id = ids(tracing.current_traceparent())
    assert trace_id == PARENT_TRACE
    assert span_id != PARENT_SPAN


@pytest.mark.parametrize("given", [None, "", "not-a-traceparent", "00-" + "0" * 32 + "-0-01"])
def test_a_message_without_valid_trace_context_starts_a_trace(given: str | None) -> None:
    with tracing.consuming("topic", given):
        trace_id, _ = ids(tracing.current_traceparent())
    assert trace_id not in {PARENT_TRACE, "0" * 32}


def test_the_traceparent_is_found_in_a_records_headers_of_either_shape() -> None:
    pairs = [("ce_id", b"x"), ("traceparent", PARENT.encode())]
    assert tracing.traceparent_in(pairs) == PARENT
    assert tracing.traceparent_in(dict(pairs)) == PARENT
    assert tracing.traceparent_in([("ce_id", b"x")]) is None
    assert tracing.traceparent_in(None) is None


def test_log_lines_in_a_span_carry_its_trace_and_span_ids() -> None:
    with tracing.consuming("topic", PARENT):
        trace_id, span_id = ids(tracing.current_traceparent())
        line = tracing.add_trace_ids(None, "info", {"event": "event handled"})
    assert line == {"event": "event handled", "trace_id": trace_id, "span_id": span_id}
    assert tracing.add_trace_ids(None, "info", {"event": "idle"}) == {"event": "idle"}


def test_spans_are_exported_only_where_a_collector_is_configured() -> None:
    def processors(environ: dict[str, str]) -> list[object]:
        provider = tracing.tracer_provider("intake", environ)
        found = list(provider._active_span_processor._span_processors)
        provider.shutdown()
        return found

    assert processors({}) == []
    assert processors({"OTEL_EXPORTER_OTLP_ENDPOINT": ""}) == []
    exporting = processors({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert [type(p) for p in exporting] == [BatchSpanProcessor]
    traces_only = processors({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318"})
    assert [type(p) for p in traces_only] == [BatchSpanProcessor]


def test_the_request_log_line_carries_the_trace_and_the_route_template_only() -> None:
    api = traced_api()
    api.add_middleware(RequestLog)
    capture = LogCapture()
    structlog.configure(
        processors=[tracing.add_trace_ids, capture], cache_logger_on_first_use=False
    )
    thing_id = str(uuid4())
    try:
        with TestClient(api) as client:
            answer = client.get(f"/v1/things/{thing_id}", headers={"traceparent": PARENT}).json()
    finally:
        structlog.reset_defaults()
    trace_id, span_id = ids(answer["traceparent"])
    [line] = [e for e in capture.entries if e["event"] == "request handled"]
    assert (line["trace_id"], line["span_id"]) == (trace_id, span_id)
    assert trace_id == PARENT_TRACE
    assert (line["method"], line["route"], line["status"]) == ("GET", "/v1/things/{thing_id}", 200)
    assert thing_id not in str(line)
