"""Casework's settings: its key store's master key wraps each case's private contact key; the
screening's assessment provider."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from carenet_kit.settings import KeyStoreSettings


class Settings(KeyStoreSettings):
    service: ClassVar[str] = "casework"

    http_port: int = 8003
    assessment_provider: str | None = Field(
        default=None,
        description="`module:attribute` of the screening's assessment provider "
        "(`carenet_casework.assessment`); unset: the standard instruments (PHQ-9, GAD-7).",
    )
