"""The audit service's settings (environment only, prefix `CARENET_`)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import model_validator

from carenet_kit.settings import ServiceSettings

CONSUMED = ("intake", "routing", "casework", "notifications", "audit")
"""Every producer: the history is the whole network's, reads of it included."""


class Settings(ServiceSettings):
    service: ClassVar[str] = "audit"

    http_port: int = 8005
    history_batch_size: int = 2_000
    """How many messages of one partition at most go into one transaction."""

    @model_validator(mode="after")
    def _refuse_unauthenticated_production(self) -> Settings:
        if self.environment == "production" and not self.auth_jwks:
            raise ValueError("production authenticates auditors: set CARENET_AUTH_JWKS")
        return self
