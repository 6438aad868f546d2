"""Casework's settings."""

from __future__ import annotations

from typing import ClassVar

from pydantic import SecretStr, model_validator

from carenet_kit.keystore import DEVELOPMENT_MASTER_KEY, master_key
from carenet_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "casework"

    http_port: int = 8003
    master_key: SecretStr = SecretStr(DEVELOPMENT_MASTER_KEY)
    """base64 of 32 bytes: wraps each case's private contact key (`carenet_kit.keystore`)."""

    @model_validator(mode="after")
    def _no_development_key_in_production(self) -> Settings:
        master_key(self.master_key.get_secret_value())
        if (
            self.environment == "production"
            and self.master_key.get_secret_value() == DEVELOPMENT_MASTER_KEY
        ):
            raise ValueError("set CARENET_MASTER_KEY in production")
        return self

    def master_key_bytes(self) -> bytes:
        return master_key(self.master_key.get_secret_value())
