"""Notifications' settings (environment only, prefix `CARENET_`)."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic import SecretStr, model_validator

from carenet_kit.settings import ServiceSettings
from carenet_notifications.application import DeliveryPolicy
from carenet_notifications.channels.mail import SmtpServer

DEVELOPMENT_CIPHER_KEY = "Y2FyZW5ldC1kZXZlbG9wbWVudC1vbmx5LWtleS0zMmI="
"""Encrypts the development store only; production refuses it."""


class Settings(ServiceSettings):
    service: ClassVar[str] = "notifications"

    http_port: int = 8004
    public_url: str = "http://127.0.0.1:8004"
    """Where recipients reach this API: the base of the inbox links in webhooks and e-mails."""
    scheduler_seconds: float = 1.0
    """How often the sender looks for deliveries that fell due (the longest a new one waits)."""
    escalate_after_minutes: float = 30.0
    """How long an urgent notification waits for acknowledgement before the center's lead hears."""
    delivery_max_attempts: int = 8
    retry_initial_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    attempt_lease_seconds: float = 120.0
    """An attempt with no recorded outcome (a crash mid-send) is retried after this long."""
    webhook_timeout_seconds: float = 10.0
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    email_from: str = "notifications@carenet.invalid"
    cipher_key: SecretStr = SecretStr(DEVELOPMENT_CIPHER_KEY)
    """AES key (base64, 32 bytes): subscriptions' addresses and secrets are encrypted at rest."""

    @model_validator(mode="after")
    def _refuse_unsafe_notifications(self) -> Settings:
        if self.environment == "production":
            if self.cipher_key.get_secret_value() == DEVELOPMENT_CIPHER_KEY:
                raise ValueError("production needs its own CARENET_CIPHER_KEY")
            if not self.public_url.startswith("https://"):
                raise ValueError("production links recipients over https (CARENET_PUBLIC_URL)")
        return self

    @property
    def webhooks_need_https(self) -> bool:
        return self.environment == "production"

    def eventsourcing_env(self) -> dict[str, str]:
        return {
            **super().eventsourcing_env(),
            "CIPHER_TOPIC": "eventsourcing.cryptography:AESCipher",
            "CIPHER_KEY": self.cipher_key.get_secret_value(),
        }

    def delivery_policy(self) -> DeliveryPolicy:
        return DeliveryPolicy(
            max_attempts=self.delivery_max_attempts,
            retry_initial=timedelta(seconds=self.retry_initial_seconds),
            retry_max=timedelta(seconds=self.retry_max_seconds),
            attempt_lease=timedelta(seconds=self.attempt_lease_seconds),
            escalate_after=timedelta(minutes=self.escalate_after_minutes),
        )

    def smtp_server(self) -> SmtpServer:
        return SmtpServer(
            host=self.smtp_host,
            port=self.smtp_port,
            sender=self.email_from,
            starttls=self.smtp_starttls,
            username=self.smtp_username,
            password=self.smtp_password.get_secret_value() if self.smtp_password else None,
        )
