"""A recipient's subscribed channels, with their addresses.

A webhook's secret and an e-mail address are kept only here (encrypted at rest with the
service's cipher), never logged, never published; the API shows an address masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

SUBSCRIPTIONS_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:notifications:subscriptions")


@dataclass(frozen=True)
class Subscription:
    subscription_id: UUID
    channel: str
    address: str
    """The webhook URL or the e-mail address."""
    secret: str | None
    """The webhook's signing secret (Standard Webhooks `whsec_...`)."""
    created_at: datetime


class Subscriptions(Aggregate):
    @staticmethod
    def create_id(recipient: str) -> UUID:
        return uuid5(SUBSCRIPTIONS_NAMESPACE, recipient)

    @event("Started")
    def __init__(self, recipient: str) -> None:
        self.recipient = recipient
        self.active: dict[UUID, Subscription] = {}

    @event("Subscribed")
    def subscribe(
        self,
        subscription_id: UUID,
        channel: str,
        address: str,
        secret: str | None,
        created_at: datetime,
    ) -> None:
        self.active[subscription_id] = Subscription(
            subscription_id, channel, address, secret, created_at
        )

    @event("Unsubscribed")
    def unsubscribe(self, subscription_id: UUID) -> None:
        self.active.pop(subscription_id, None)
