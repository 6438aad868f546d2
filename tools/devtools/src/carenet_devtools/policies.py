"""For the unit tests of a service's inbound policy, whose one job is to translate: a committed
sample message as its envelope, and an application that records the commands it is given."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

from carenet_contracts import Envelope, parse_message
from carenet_kit.inbound import Policy
from carenet_kit.outbox import Cause

SAMPLES = Path(__file__).resolve().parents[4] / "contracts" / "tests" / "messages"
"""The committed sample message of each contract version, `<EventType>.v<N>.json`."""

PATIENT = UUID("a3d92bf0-f8ef-4606-b81d-bb4f76002d83")
"""The patient of most samples; `commands_asked` puts every sample it reads about this one."""


def sample(
    event_type: str, patient_id: UUID | None = None, version: int = 1, **data: Any
) -> Envelope[Any]:
    """The sample message of `event_type` (of a `version`), for another patient or with other
    data."""
    raw = json.loads((SAMPLES / f"{event_type}.v{version}.json").read_text())
    if patient_id is not None:
        raw["patient_id"] = str(patient_id)
    raw["data"].update(data)
    return parse_message(json.dumps(raw).encode())


class RecordingApplication:
    """Stands in for a service's application: each method called records (name, command)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def __getattr__(self, method: str) -> Callable[[object, Cause], None]:
        if method.startswith("_"):
            raise AttributeError(method)

        def record(command: object, cause: Cause) -> None:
            self.calls.append((method, command))

        return record


def commands_asked(
    policy: Callable[[Any], Policy], event_type: str, **data: Any
) -> list[tuple[str, object]]:
    """The (method, command) calls a service's `policy` makes on its application for the sample
    message of `event_type` about `PATIENT` (with other data)."""
    app = RecordingApplication()
    policy(app)(sample(event_type, PATIENT, **data), Cause.request())
    return app.calls
