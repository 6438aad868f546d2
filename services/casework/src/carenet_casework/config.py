"""Casework's settings."""

from __future__ import annotations

from typing import ClassVar

from carenet_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "casework"

    http_port: int = 8003
