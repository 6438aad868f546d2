"""Notifications' HTTP API: inboxes, acknowledgements, subscriptions, failed deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from fastapi import APIRouter, HTTPException, Query, status
from pydantic import AnyHttpUrl, BaseModel, EmailStr, Field, model_validator

from carenet_access import AccessControl, Control, Role, for_roles
from carenet_kit.auth import Actor, CurrentActor
from carenet_kit.http import CorrelationId, from_app_state
from carenet_kit.outbox import Cause
from carenet_kit.refusals import Refused
from carenet_kit.threads import in_thread
from carenet_notifications.application import NotificationsApplication
from carenet_notifications.domain.subscriptions import Subscription
from carenet_notifications.projection import FailedDelivery, Inboxes, InboxItem

router = APIRouter(prefix="/v1", tags=["notifications"])

RECIPIENT_PATTERN = r"^(center|staff|role|family):[A-Za-z0-9_./-]{1,128}$"
RECIPIENT_EXAMPLES = ["staff:SW-NS-LI", "center:CHC-NS-NANTOU", "role:CHC-NS-NANTOU/lead"]

Application = Annotated[NotificationsApplication, from_app_state("application")]
Projection = Annotated[Inboxes, from_app_state("projection")]
Recipient = Annotated[str, Query(pattern=RECIPIENT_PATTERN, examples=RECIPIENT_EXAMPLES)]


def acting_for(actor: Actor, recipient: str) -> str:
    """The recipient, if the caller may act for it (403 otherwise): themselves (`staff:`,
    `family:`), or their own organisation (`center:`, `role:<organisation>/...`)."""
    kind, _, name = recipient.partition(":")
    own = {
        "staff": name == actor.subject and actor.role != Role.FAMILY_MEMBER,
        "family": name == actor.subject and actor.role == Role.FAMILY_MEMBER,
        "center": name == actor.organisation and actor.role != Role.FAMILY_MEMBER,
        "role": name.partition("/")[0] == actor.organisation,
    }
    if not own.get(kind, False):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "not a recipient you may act for")
    return recipient


def consented(actor: Actor, control: AccessControl, item: InboxItem) -> bool:
    """A relative reads an item only while their consent for its patient stands."""
    if actor.role != Role.FAMILY_MEMBER:
        return True
    relations = control.relations(item.patient_id)
    return relations is not None and relations.consented_parts(actor.subject) is not None


class InboxItemOut(BaseModel):
    notification_id: UUID
    delivered_at: datetime
    patient_id: UUID
    about_event_id: UUID
    about_event_type: str
    urgency: str
    summary: str | None
    dates: dict[str, str]
    requires_acknowledgement: bool
    acknowledged_at: datetime | None
    escalated_to: str | None

    @classmethod
    def of(cls, item: InboxItem) -> InboxItemOut:
        return cls(**{name: getattr(item, name) for name in cls.model_fields})


class AcknowledgementIn(BaseModel):
    recipient: str = Field(pattern=RECIPIENT_PATTERN, examples=RECIPIENT_EXAMPLES)


class SubscriptionIn(BaseModel):
    recipient: str = Field(pattern=RECIPIENT_PATTERN, examples=RECIPIENT_EXAMPLES)
    channel: Literal["webhook", "email"]
    url: AnyHttpUrl | None = Field(
        default=None,
        description="For a webhook.",
        json_schema_extra={"pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},  # what AnyHttpUrl checks
    )
    email: EmailStr | None = Field(default=None, description="For e-mail; shown masked later.")

    @model_validator(mode="after")
    def _one_address_for_the_channel(self) -> SubscriptionIn:
        given = (self.url is not None, self.email is not None)
        if given != ((True, False) if self.channel == "webhook" else (False, True)):
            raise ValueError("a webhook takes `url` only, e-mail takes `email` only")
        return self


class SubscriptionOut(BaseModel):
    subscription_id: UUID
    recipient: str
    channel: str
    address: str = Field(description="Masked: the full address is never returned.")
    created_at: datetime

    @classmethod
    def of(cls, recipient: str, s: Subscription) -> SubscriptionOut:
        return cls(
            subscription_id=s.subscription_id,
            recipient=recipient,
            channel=s.channel,
            address=masked(s.channel, s.address),
            created_at=s.created_at,
        )


class SubscriptionCreated(SubscriptionOut):
    secret: str | None = Field(
        description="The webhook's signing secret (Standard Webhooks); shown this once only."
    )


class FailedDeliveryOut(BaseModel):
    delivery_id: UUID
    notification_id: UUID
    recipient: str
    channel: str
    patient_id: UUID
    about_event_type: str
    attempts: int
    reason: str
    failed_at: datetime

    @classmethod
    def of(cls, f: FailedDelivery) -> FailedDeliveryOut:
        return cls(**{name: getattr(f, name) for name in cls.model_fields})


def masked(channel: str, address: str) -> str:
    if channel == "email":
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    parts = urlsplit(address)
    return f"{parts.scheme}://{parts.netloc}/…"


@router.get("/inbox", **for_roles(*Role))
def read_inbox(
    inboxes: Projection, recipient: Recipient, actor: CurrentActor, control: Control
) -> list[InboxItemOut]:
    items = inboxes.inbox(acting_for(actor, recipient))
    return [InboxItemOut.of(item) for item in items if consented(actor, control, item)]


@router.get("/inbox/{notification_id}", **for_roles(*Role))
def read_inbox_item(
    inboxes: Projection,
    notification_id: UUID,
    recipient: Recipient,
    actor: CurrentActor,
    control: Control,
) -> InboxItemOut:
    """One item, as linked from a webhook or an e-mail; unknown to anyone but its recipient."""
    item = inboxes.item(notification_id, acting_for(actor, recipient))
    if item is None or not consented(actor, control, item):
        raise AggregateNotFoundError(notification_id)
    return InboxItemOut.of(item)


@router.post(
    "/inbox/{notification_id}/acknowledgement",
    status_code=status.HTTP_204_NO_CONTENT,
    **for_roles(*Role),
)
async def acknowledge(
    app: Application,
    notification_id: UUID,
    body: AcknowledgementIn,
    correlation: CorrelationId,
    actor: CurrentActor,
) -> None:
    """The recipient has seen it: an urgent notification stops counting towards escalation."""
    recipient = acting_for(actor, body.recipient)
    await in_thread(app.acknowledge, notification_id, recipient, Cause.request(correlation))


@router.post("/subscriptions", status_code=status.HTTP_201_CREATED, **for_roles(*Role))
async def subscribe(
    app: Application, body: SubscriptionIn, actor: CurrentActor
) -> SubscriptionCreated:
    acting_for(actor, body.recipient)
    address = str(body.url) if body.channel == "webhook" else str(body.email)
    url = body.url
    if url is not None and app.require_https_webhooks and url.scheme != "https":
        raise Refused("webhooks are delivered over https only")
    created = await in_thread(app.subscribe, body.recipient, body.channel, address)
    subscription = app.subscription(body.recipient, created.subscription_id)
    assert subscription is not None
    out = SubscriptionOut.of(body.recipient, subscription)
    return SubscriptionCreated(**out.model_dump(), secret=created.secret)


@router.get("/subscriptions", **for_roles(*Role))
async def list_subscriptions(
    app: Application, recipient: Recipient, actor: CurrentActor
) -> list[SubscriptionOut]:
    found = await in_thread(app.active_subscriptions, acting_for(actor, recipient))
    return [SubscriptionOut.of(recipient, s) for s in found]


@router.delete(
    "/subscriptions/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT, **for_roles(*Role)
)
async def unsubscribe(
    app: Application, subscription_id: UUID, recipient: Recipient, actor: CurrentActor
) -> None:
    """Nothing more goes to this address, including deliveries still pending."""
    await in_thread(app.unsubscribe, acting_for(actor, recipient), subscription_id)


@router.get("/deliveries/failed", **for_roles(Role.OPERATOR))
async def failed_deliveries(inboxes: Projection) -> list[FailedDeliveryOut]:
    """The dead letters: deliveries that gave up after their attempts, awaiting redelivery."""
    return [FailedDeliveryOut.of(f) for f in inboxes.failed_deliveries()]


@router.post(
    "/deliveries/{delivery_id}/redelivery",
    status_code=status.HTTP_202_ACCEPTED,
    **for_roles(Role.OPERATOR),
)
async def redeliver(app: Application, delivery_id: UUID) -> dict[str, str]:
    """Try a failed delivery again, with a fresh budget of attempts, from now."""
    await in_thread(app.redeliver, delivery_id)
    return {"status": "pending"}
