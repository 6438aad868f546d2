"""Routing's settings."""

from __future__ import annotations

from typing import ClassVar

from carenet_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "routing"

    http_port: int = 8002
