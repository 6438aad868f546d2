"""Intake's settings: its key store's master key wraps each patient's data key."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import SecretStr, model_validator

from carenet_kit.settings import KeyStoreSettings

DEVELOPMENT_KEY = SecretStr("carenet-development-pseudonym-key")


class Settings(KeyStoreSettings):
    service: ClassVar[str] = "intake"

    http_port: int = 8001
    pseudonym_key: SecretStr = DEVELOPMENT_KEY
    """Key of the keyed hash that detects a national ID registered twice."""
    calendar_file: Path | None = None
    """YAML of regional changes to China's working-day calendar (`carenet_intake.workdays`)."""

    @model_validator(mode="after")
    def _no_development_key_in_production(self) -> Settings:
        if self.environment == "production" and self.pseudonym_key == DEVELOPMENT_KEY:
            raise ValueError("set CARENET_PSEUDONYM_KEY in production")
        return self
