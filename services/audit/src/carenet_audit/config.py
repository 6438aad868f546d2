"""The audit service's settings (environment only, prefix `CARENET_`)."""

from __future__ import annotations

from typing import ClassVar

from carenet_kit.settings import ServiceSettings

CONSUMED = ("intake", "routing", "casework", "notifications", "audit")
"""Every producer: the history is the whole network's, reads of it included."""


class Settings(ServiceSettings):
    service: ClassVar[str] = "audit"

    http_port: int = 8005
    history_batch_size: int = 2_000
    """How many messages of one partition at most go into one transaction."""

    emergency_access_minutes: int = 240
    """How long a break-the-glass grant lasts: one shift."""
