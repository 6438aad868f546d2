"""Intake's settings."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import SecretStr, model_validator

from carenet_kit.keystore import DEVELOPMENT_MASTER_KEY, master_key
from carenet_kit.settings import ServiceSettings

DEVELOPMENT_KEY = SecretStr("carenet-development-pseudonym-key")


class Settings(ServiceSettings):
    service: ClassVar[str] = "intake"

    http_port: int = 8001
    pseudonym_key: SecretStr = DEVELOPMENT_KEY
    """Key of the keyed hash that detects a national ID registered twice."""
    master_key: SecretStr = SecretStr(DEVELOPMENT_MASTER_KEY)
    """base64 of 32 bytes: wraps each patient's data key (`carenet_kit.keystore`)."""
    calendar_file: Path | None = None
    """YAML of regional changes to China's working-day calendar (`carenet_intake.workdays`)."""

    @model_validator(mode="after")
    def _no_development_key_in_production(self) -> Settings:
        if self.environment == "production" and self.pseudonym_key == DEVELOPMENT_KEY:
            raise ValueError("set CARENET_PSEUDONYM_KEY in production")
        master_key(self.master_key.get_secret_value())
        if (
            self.environment == "production"
            and self.master_key.get_secret_value() == DEVELOPMENT_MASTER_KEY
        ):
            raise ValueError("set CARENET_MASTER_KEY in production")
        return self

    def master_key_bytes(self) -> bytes:
        return master_key(self.master_key.get_secret_value())
