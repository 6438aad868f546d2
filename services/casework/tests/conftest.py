"""An in-memory casework: the real application on the library's in-memory store (POPO)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carenet_access.relations import PatientRelations
from carenet_casework import api
from carenet_casework.application import CaseworkApplication
from carenet_casework.commands import OpenCase
from carenet_casework.domain import Case
from carenet_casework.outbox import integration_events
from carenet_casework.projection_recovery import CaseworkBoard
from carenet_casework.rules import RuleSet
from carenet_devtools.callers import Callers
from carenet_kit.clock import ManualClock
from carenet_kit.http import install_error_handlers
from carenet_kit.outbox import Cause, PublishedStream
from carenet_kit.read_model_tables import TableFollower
from carenet_kit.reference_data import ReferenceDirectory

ROSTERS = {"CHC-A": ("SW-1", "SW-2"), "CHC-B": ("SW-9",)}
"""The social workers of each center, as routing's directory sends them with each route."""


STAFF = ("SW-1", "CHC-A", "social_worker")
"""The caller of `http()`: a social worker of the center every test patient is routed to."""


def open_case(patient_id: UUID, center_id: str = "CHC-A") -> OpenCase:
    """What a route to `center_id` asks of casework: a schizophrenia diagnosis, risk level 2."""
    return OpenCase(
        patient_id=patient_id,
        center_id=center_id,
        first_visit_due=date(2026, 11, 16),
        social_worker_ids=ROSTERS.get(center_id, ()),
        diagnosing_hospital_id="H-SZ-KANGNING",
        category="schizophrenia",
        risk_level=2,
    )


@dataclass
class Casework:
    app: CaseworkApplication
    clock: ManualClock
    callers: Callers
    follower: TableFollower[CaseworkBoard] | None = None

    def route(self, center_id: str = "CHC-A", patient_id: UUID | None = None) -> UUID:
        """Routing sends the patient to `center_id`: returns the patient's new case id."""
        command = open_case(patient_id or uuid4(), center_id)
        self.app.open_case(command, Cause.request())
        case_id = self.app.active_case_id(command.patient_id)
        assert case_id is not None
        return case_id

    def case(self, case_id: UUID) -> Case:
        case: Case = self.app.repository.get(case_id)
        return case

    def published(self, patient_id: UUID) -> list[dict[str, Any]]:
        """The care events in the patient's outbox stream, as they go on Kafka (without the
        access log's `RecordAccessed`, which every read over `http()` adds)."""
        return [m for m in self.messages(patient_id) if m["event_type"] != "RecordAccessed"]

    def messages(self, patient_id: UUID) -> list[dict[str, Any]]:
        """Every message in the patient's outbox stream, as it goes on Kafka."""
        return [
            json.loads(e.message)
            for e in self._events()
            if isinstance(e, PublishedStream.Appended)
            and e.originator_id == PublishedStream.create_id("casework", patient_id)
        ]

    def published_types(self, patient_id: UUID) -> list[str]:
        return [m["event_type"] for m in self.published(patient_id)]

    def board(self) -> CaseworkBoard:
        """The read model, caught up with the store."""
        if self.follower is None:
            self.follower = TableFollower(CaseworkBoard(self.app))
        self.follower.catch_up()
        return self.follower.read_model

    def http(self, caller: tuple[str, str, str] = STAFF) -> TestClient:
        """The casework API over this application, its read model caught up at each request,
        called by `caller` (user, organisation, role), with every patient at center CHC-A."""
        service = FastAPI()
        install_error_handlers(service)
        for router in api.routers:
            service.include_router(router)
        service.state.application = self.app
        self.callers.wire(
            service, self.app, PatientRelations(center="CHC-A"), case_of=self._patient_of_case
        )

        @service.middleware("http")
        async def fresh_read_model(request: Any, call_next: Any) -> Any:
            service.state.projection = self.board()
            return await call_next(request)

        return TestClient(service, headers=self.callers.headers(*caller))

    def _patient_of_case(self, case_id: UUID) -> UUID | None:
        case = self.board().case(case_id)
        return None if case is None else case.patient_id

    def _events(self) -> list[Any]:
        notifications = self.app.process_recorder.select_notifications(0, 10_000)
        return [self.app.mapper.to_domain_event(n) for n in notifications]


@pytest.fixture
def casework(tmp_path: Path) -> Casework:
    clock = ManualClock(datetime(2026, 11, 2, 9, tzinfo=UTC))
    rules = RuleSet.load()
    app = CaseworkApplication(
        {"PERSISTENCE_MODULE": "eventsourcing.popo"},
        integration_events(rules),
        rules,
        clock=clock,
        master_key=os.urandom(32),
        directory=ReferenceDirectory.load(),
    )
    return Casework(app, clock, Callers(tmp_path / "keys"))
