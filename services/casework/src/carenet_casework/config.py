"""Casework's settings."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from carenet_casework.rules import DEFAULT_RULE_SET
from carenet_kit.settings import ServiceSettings


class Settings(ServiceSettings):
    service: ClassVar[str] = "casework"

    http_port: int = 8003
    rule_set_file: Path = DEFAULT_RULE_SET
    """The follow-up rule set in force (a region may replace the national default)."""
