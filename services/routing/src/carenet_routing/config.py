"""Routing's settings."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

from pydantic import Field

from carenet_kit.settings import ServiceSettings
from carenet_routing.rules import AcceptWindows


class Settings(ServiceSettings):
    service: ClassVar[str] = "routing"

    http_port: int = 8002
    referral_accept_hours: float = Field(default=24, gt=0)
    """A hospital accepts a community referral within this, or it escalates."""
    emergency_referral_accept_hours: float = Field(default=2, gt=0)
    """The same for a referral for an emergency (the rules give 24 h for handling it)."""

    @property
    def accept_windows(self) -> AcceptWindows:
        return AcceptWindows(
            normal=timedelta(hours=self.referral_accept_hours),
            emergency=timedelta(hours=self.emergency_referral_accept_hours),
        )
