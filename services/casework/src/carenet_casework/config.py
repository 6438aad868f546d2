"""Casework's settings: its key store's master key wraps each case's private contact key."""

from __future__ import annotations

from typing import ClassVar

from carenet_kit.settings import KeyStoreSettings


class Settings(KeyStoreSettings):
    service: ClassVar[str] = "casework"

    http_port: int = 8003
