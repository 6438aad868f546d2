"""W3C trace context (`traceparent`) across HTTP, the outbox and Kafka, with OpenTelemetry.

An HTTP request starts a span, or continues the caller's trace from its `traceparent` header.
`ServiceApplication.commit()` stores the current context with every outgoing message (the
relay publishes later, from another task), the relay puts it in the Kafka header `traceparent`,
and the inbound consumer runs each command in a child span of the message's context, so every
message a diagnosis causes, in every service, carries the one trace id. The header is outside
the signed value, so the signature is unchanged by it.

Spans are exported by OTLP only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set, with the SDK's standard `OTEL_*` settings;
otherwise nothing is exported and a missing collector never fails the service.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from fastapi import FastAPI
from opentelemetry import context, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from structlog.typing import EventDict

from carenet_kit.wire import TRACEPARENT_HEADER

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
NOT_TRACED = ("/metrics", "/healthz", "/readyz")

_propagator = TraceContextTextMapPropagator()
tracer = trace.get_tracer("carenet_kit")


def tracer_provider(service: str, environ: Mapping[str, str] = os.environ) -> TracerProvider:
    """A tracer provider for the service; an OTLP exporter only where an endpoint is set."""
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: f"carenet-{service}"}))
    if any(environ.get(name) for name in ENDPOINT_VARIABLES):
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


def configure_tracing(service: str) -> None:
    """Install the process's tracer provider (once per process, before the HTTP app is made)."""
    trace.set_tracer_provider(tracer_provider(service))


def instrument_http(api: FastAPI) -> None:
    """A server span per request, continuing the caller's `traceparent` if it sent one."""
    FastAPIInstrumentor.instrument_app(
        api, excluded_urls=",".join(NOT_TRACED), exclude_spans=["receive", "send"]
    )


def current_traceparent() -> str | None:
    """The `traceparent` of the current span, or None outside any (valid) span."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get(TRACEPARENT_HEADER)


def context_of(traceparent: str | None) -> context.Context:
    """The context a `traceparent` names; an empty one if it is missing or malformed."""
    if not traceparent:
        return context.Context()
    return _propagator.extract({TRACEPARENT_HEADER: traceparent}, context=context.Context())


def traceparent_in(headers: Sequence[tuple[str, bytes]] | Mapping[str, bytes] | None) -> str | None:
    """The `traceparent` among a Kafka record's headers (list of pairs, or faust's mapping)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers or ()
    for name, value in pairs:
        if name == TRACEPARENT_HEADER and value:
            return value.decode("ascii", errors="replace")
    return None


@contextmanager
def consuming(topic: str, traceparent: str | None) -> Iterator[trace.Span]:
    """A consumer span, child of the message's context (a new trace when it carries none)."""
    with tracer.start_as_current_span(
        f"{topic} process",
        context=context_of(traceparent),
        kind=SpanKind.CONSUMER,
        attributes={"messaging.system": "kafka", "messaging.destination.name": topic},
    ) as span:
        yield span


@contextmanager
def continuing(name: str, traceparent: str | None) -> Iterator[trace.Span]:
    """A span continuing a stored trace context, for work done later on its behalf (a
    notification's delivery attempts); a new trace when none was stored."""
    with tracer.start_as_current_span(
        name, context=context_of(traceparent), kind=SpanKind.PRODUCER
    ) as span:
        yield span


def add_trace_ids(_: object, __: str, event: EventDict) -> EventDict:
    """structlog processor: the current span's `trace_id` and `span_id`, as in `traceparent`."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event.setdefault("trace_id", format(span_context.trace_id, "032x"))
        event.setdefault("span_id", format(span_context.span_id, "016x"))
    return event
