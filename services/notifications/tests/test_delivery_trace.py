"""A delivery keeps the trace context it was scheduled in; older records read without one."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from carenet_devtools.stored_events import as_stored_before, read_back
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


def test_a_delivery_keeps_the_trace_context_it_was_scheduled_in() -> None:
    restored = read_back(scheduled(TRACEPARENT).collect_events()[0])
    assert isinstance(restored, Delivery.Scheduled)
    assert restored.mutate(None).traceparent == TRACEPARENT  # type: ignore[union-attr]


def test_a_delivery_scheduled_before_tracing_reads_without_trace_context() -> None:
    restored = as_stored_before(scheduled(TRACEPARENT).collect_events()[0], "traceparent")
    assert isinstance(restored, Delivery.Scheduled)
    assert restored.mutate(None).traceparent is None  # type: ignore[union-attr]
