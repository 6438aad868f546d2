"""Routing's inbound policy: which integration events it acts on, and with which command."""

from __future__ import annotations

from typing import Any

from carenet_contracts import Envelope
from carenet_contracts.intake import DiagnosisRecorded
from carenet_kit.inbound import Policy
from carenet_kit.outbox import Cause
from carenet_routing.application import RoutingApplication


def policy(app: RoutingApplication) -> Policy:
    def handle(envelope: Envelope[Any], cause: Cause) -> None:
        if isinstance(envelope.data, DiagnosisRecorded):
            app.route_diagnosed_patient(envelope, cause)

    return handle
