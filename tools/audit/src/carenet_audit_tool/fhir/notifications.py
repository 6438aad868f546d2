"""Notifications: what was told to whom (Communication), never the channel's own words."""

from __future__ import annotations

from typing import Any

from carenet_audit_tool.fhir.export import (
    coded,
    instant,
    text,
)
from carenet_audit_tool.fhir.pathway import (
    Pathway,
    Ref,
    maps,
    ref_of,
)
from carenet_contracts import Envelope
from carenet_contracts.notifications import (
    NotificationAcknowledged,
    NotificationDelivered,
    NotificationEscalated,
    NotificationFailed,
)

# notifications ------------------------------------------------------------------------------


@maps(NotificationDelivered)
def delivered(p: Pathway, e: Envelope[Any], d: NotificationDelivered) -> list[Ref]:
    message = p.notification(d.notification_id)
    channel = coded("channel", d.channel)
    if channel not in message["medium"]:
        message["medium"].append(channel)
    message.update(
        status="completed",
        recipient=[p.recipient(d.recipient)],
        sender=p.service("notifications"),
        priority="urgent" if d.urgency == "urgent" else "routine",
    )
    message.setdefault("sent", instant(e.occurred_at))
    message.setdefault("received", instant(e.occurred_at))
    message.pop("statusReason", None)
    p.about_event(message, d.about_event_id, d.about_event_type)
    return [ref_of(p, "Communication", "notification", d.notification_id)]


@maps(NotificationFailed)
def failed(p: Pathway, e: Envelope[Any], d: NotificationFailed) -> list[Ref]:
    message = p.notification(d.notification_id)
    message.update(recipient=[p.recipient(d.recipient)], sender=p.service("notifications"))
    if message["status"] != "completed":
        message["status"] = "on-hold"
        # The channel's own reason may quote an address: only the channel and attempts go out.
        message["statusReason"] = text(f"{d.channel} failed after {d.attempts} attempts")
    p.about_event(message, d.about_event_id, d.about_event_type)
    return [ref_of(p, "Communication", "notification", d.notification_id)]


@maps(NotificationAcknowledged)
def acknowledged(p: Pathway, e: Envelope[Any], d: NotificationAcknowledged) -> list[Ref]:
    value = str(d.notification_id)
    p.notification(d.notification_id)
    p.resource("Communication", "notification-acknowledgement", value).update(
        status="completed",
        inResponseTo=[ref_of(p, "Communication", "notification", d.notification_id)],
        subject=p.patient,
        sender=p.recipient(d.recipient),
        recipient=[p.service("notifications")],
        sent=instant(e.occurred_at),
        topic=coded("notification", "acknowledged", "Acknowledged"),
    )
    return [p.ref("Communication", "notification-acknowledgement", value)]


@maps(NotificationEscalated)
def escalated(p: Pathway, e: Envelope[Any], d: NotificationEscalated) -> list[Ref]:
    value = str(d.notification_id)
    p.notification(d.notification_id)
    original = ref_of(p, "Communication", "notification", d.notification_id)
    p.resource("Communication", "notification-escalation", value).update(
        status="completed",
        priority="urgent",
        subject=p.patient,
        sender=p.service("notifications"),
        recipient=[p.recipient(d.escalated_to)],
        sent=instant(e.occurred_at),
        about=[original],
        topic=coded("notification", "escalated", "Escalated"),
        reasonCode=[text(f"unacknowledged for {d.unacknowledged_for_minutes} minutes")],
    )
    return [p.ref("Communication", "notification-escalation", value)]
