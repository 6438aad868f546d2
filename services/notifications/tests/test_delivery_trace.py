"""A delivery keeps the trace context it was scheduled in; older records read without one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from eventsourcing.persistence import DatetimeAsISO, JSONTranscoder, Mapper, UUIDAsHex

from carenet_notifications.domain import Delivery

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def scheduled(traceparent: str | None) -> Delivery:
    return Delivery(
        notification_id=uuid4(),
        subscription_id=uuid4(),
        recipient="staff:SW-NS-LI",
        channel="webhook",
        urgency="routine",
        patient_id=uuid4(),
        about_event_id=uuid4(),
        about_event_type="CaseManagerAssigned",
        due_at=datetime(2026, 11, 22, tzinfo=UTC),
        traceparent=traceparent,
    )


def mapper() -> tuple[Mapper[Any], JSONTranscoder]:
    transcoder = JSONTranscoder()
    transcoder.register(UUIDAsHex())
    transcoder.register(DatetimeAsISO())
    return Mapper(transcoder=transcoder), transcoder


def test_a_delivery_keeps_the_trace_context_it_was_scheduled_in() -> None:
    events, _ = mapper()
    stored = events.to_stored_event(scheduled(TRACEPARENT).collect_events()[0])
    restored = events.to_domain_event(stored)
    assert isinstance(restored, Delivery.Scheduled)
    assert restored.mutate(None).traceparent == TRACEPARENT  # type: ignore[union-attr]


def test_a_delivery_scheduled_before_tracing_reads_without_trace_context() -> None:
    events, transcoder = mapper()
    stored = events.to_stored_event(scheduled(TRACEPARENT).collect_events()[0])
    state = transcoder.decode(stored.state)
    del state["traceparent"]
    del state["class_version"]  # version 1 records have none
    old = type(stored)(
        stored.originator_id, stored.originator_version, stored.topic, transcoder.encode(state)
    )
    restored = events.to_domain_event(old)
    assert isinstance(restored, Delivery.Scheduled)
    assert restored.mutate(None).traceparent is None  # type: ignore[union-attr]
