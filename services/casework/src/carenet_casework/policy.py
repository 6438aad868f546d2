"""Casework's inbound policy: a routed patient gets a case at the center."""

from __future__ import annotations

from typing import Any

from carenet_casework.application import CaseworkApplication
from carenet_contracts import Envelope
from carenet_contracts.routing import PatientRouted
from carenet_kit.inbound import Policy
from carenet_kit.outbox import Cause


def policy(app: CaseworkApplication) -> Policy:
    def handle(envelope: Envelope[Any], cause: Cause) -> None:
        if isinstance(envelope.data, PatientRouted):
            app.open_case(envelope, cause)

    return handle
