"""Webhooks signed per the Standard Webhooks specification (HMAC-SHA256 over id.timestamp.body)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from carenet_notifications.channels import Message, SendFailed
from carenet_notifications.domain.subscriptions import Subscription


class WebhookSender:
    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        # httpx logs every request's URL at INFO; a subscriber's URL may carry its credentials.
        logging.getLogger("httpx").setLevel(logging.WARNING)

    def send(self, message: Message, subscription: Subscription) -> None:
        assert subscription.secret is not None
        body = json.dumps(message.body, separators=(",", ":"), sort_keys=True)
        # The signature's timestamp is the wall clock's: the receiver checks it against its own.
        sent_at = datetime.now(UTC)
        msg_id = str(message.delivery_id)
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Webhook(subscription.secret).sign(msg_id, sent_at, body),
        }
        try:
            response = httpx.post(
                subscription.address,
                content=body.encode(),
                headers=headers,
                timeout=self.timeout_seconds,
                follow_redirects=False,
            )
        except httpx.HTTPError as error:
            raise SendFailed(f"webhook unreachable: {type(error).__name__}") from error
        if not response.is_success:
            raise SendFailed(f"webhook answered HTTP {response.status_code}")
