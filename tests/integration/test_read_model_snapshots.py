"""Read models that survive a restart (`carenet_kit.projection`), on real SQLite and PostgreSQL.

Given a store of a few hundred events and a snapshot of the read model, when more events are
recorded and a new runner starts on the same store, then it reads exactly the events after the
snapshot's position, and its read model equals one rebuilt from position 0. A snapshot of
another version of the read model, or one that cannot be read, is rebuilt from 0.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import pytest

from carenet_intake.application import Diagnosis, IntakeApplication, Registration
from carenet_intake.domain import Hospital, JoiningRegistration, Patient
from carenet_intake.outbox import integration_events as intake_outbound
from carenet_intake.rules import IntakeRules
from carenet_kit.application import ServiceApplication
from carenet_kit.auth import Actor
from carenet_kit.clock import ManualClock
from carenet_kit.outbox import Cause
from carenet_kit.projection import ProjectionRunner
from carenet_kit.read_model_snapshots import Snapshot, SnapshotSchedule, snapshot_table

from .test_casework_scheduler import OPENED, noon

HOSPITALS = ["H-SZ-KANGNING", "H-SZ-NANSHAN", "H-BJ-ANDING"]
ONLY_WHEN_ASKED = SnapshotSchedule(every=10**9, seconds=10**9)


@dataclass
class Registrations:
    """A read model kept as snapshots, as routing's and notifications' are (intake's own is in
    SQL tables): the registrations each hospital made, and the diagnoses of each patient."""

    by_hospital: dict[str, list[UUID]] = field(default_factory=dict)
    diagnoses: dict[UUID, int] = field(default_factory=dict)

    def apply(self, domain_event: Any) -> None:
        registered = (Patient.Registered, JoiningRegistration.Registered)  # type: ignore[attr-defined]
        if isinstance(domain_event, registered):
            listed = self.by_hospital.setdefault(domain_event.hospital_id, [])
            listed.append(domain_event.originator_id)
        elif isinstance(domain_event, Patient.DiagnosisRecorded):
            patient = domain_event.originator_id
            self.diagnoses[patient] = self.diagnoses.get(patient, 0) + 1


class IntakeHistory:
    """Registrations at three hospitals, diagnoses, and patients joined by a second hospital."""

    read_model = Registrations

    def __init__(self, env: dict[str, str]) -> None:
        self.clock = ManualClock(noon(OPENED))
        self.app = IntakeApplication(
            env,
            outbound=intake_outbound(IntakeRules.load()),
            hospitals={h: Hospital(h, True, "440307") for h in HOSPITALS},
            pseudonym_key=b"test",
            master_key=os.urandom(32),
            clock=self.clock,
        )
        self.rounds = 0
        self.registered: list[tuple[str, str]] = []
        """The national ids of the last round's patients, with the hospital of each."""
        self.handles: list[tuple[UUID, str]] = []

    def record(self, patients: int) -> None:
        """Each earlier patient registered at another hospital, half of these joined by a
        diagnosis; new patients, diagnosed; from the third round, at a third hospital too."""
        self.rounds += 1
        hospitals = HOSPITALS if self.rounds > 2 else HOSPITALS[:2]
        for national_id, hospital in self.registered:
            other = HOSPITALS[(HOSPITALS.index(hospital) + 1) % 2]
            self.handles.append((self.register(other, national_id), other))
        for handle, hospital in self.handles[::2]:
            self.app.record_diagnosis(handle, _diagnosis(hospital), Cause.request())
        self.handles = self.handles[1::2]
        self.registered = [(str(uuid4()), hospitals[n % len(hospitals)]) for n in range(patients)]
        for national_id, hospital in self.registered:
            patient = self.register(hospital, national_id)
            self.app.record_diagnosis(patient, _diagnosis(hospital), Cause.request())

    def register(self, hospital: str, national_id: str) -> UUID:
        registration = Registration(
            hospital_id=hospital,
            name="Zhang San",
            national_id=national_id,
            date_of_birth=date(1980, 1, 1),
            sex="female",
            phone="13800000000",
            address="1 Nantou Street",
            region_code="440305001",
            guardian=None,
        )
        return self.app.register_patient(registration, Cause.request())


def _diagnosis(hospital: str) -> Diagnosis:
    return Diagnosis(
        hospital_id=hospital,
        clinician_id="DR-1",
        icd10_code="F20.0",
        co_diagnoses=(),
        diagnosed_on=OPENED,
        risk_level=1,
        consent_given_by="patient",
        consent_given_on=OPENED,
        recorded_by=Actor("DR-1", hospital, "clinician"),
        override_reason=None,
    )


History = Callable[[dict[str, str]], IntakeHistory]
HISTORIES = [pytest.param(IntakeHistory, id="intake")]


@dataclass
class Started:
    runner: ProjectionRunner
    read: int
    """Events the runner read from the store to catch up."""


def start(app: ServiceApplication, read_model: type[Any]) -> Started:
    runner = ProjectionRunner(app, read_model(), poll_seconds=0, schedule=ONLY_WHEN_ASKED)
    return Started(runner, runner.catch_up())


def recorded(app: ServiceApplication) -> int:
    return app.process_recorder.max_notification_id() or 0


def rebuilt(app: ServiceApplication, read_model: type[Any]) -> Any:
    model = read_model()
    ProjectionRunner(app, model, poll_seconds=0).catch_up()  # no snapshots: from 0
    return model


def stored(app: ServiceApplication, read_model: type[Any]) -> Snapshot:
    table = snapshot_table(app)
    assert table is not None
    snapshot = table.load(read_model.__qualname__)
    assert snapshot is not None
    return snapshot


def assert_same_answers(restarted: Any, from_zero: Any) -> None:
    assert restarted == from_zero
    assert from_zero.by_hospital
    assert from_zero.diagnoses


@pytest.mark.parametrize("history", HISTORIES)
def test_a_restart_reads_only_what_was_recorded_after_the_snapshot(
    env: dict[str, str], history: History
) -> None:
    first = history(env)
    first.record(40)
    first.record(40)
    before = start(first.app, first.read_model)
    assert before.read == recorded(first.app) > 200
    before.runner.take_snapshot()
    position = stored(first.app, first.read_model).position
    assert position == recorded(first.app)
    first.record(20)  # a hospital the snapshot never saw; diagnoses, joins, visits
    first.app.close()

    second = history(env)
    after = start(second.app, second.read_model)

    assert_same_answers(after.runner.read_model, rebuilt(second.app, second.read_model))
    assert after.read == recorded(second.app) - position > 50
    second.app.close()


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda s: Snapshot("another read model", s.position, s.state), id="changed"),
        pytest.param(lambda s: Snapshot(s.fingerprint, s.position, b"\x00garbage"), id="garbled"),
    ],
)
def test_a_snapshot_of_another_version_or_unreadable_is_rebuilt_from_zero(
    env: dict[str, str], spoil: Callable[[Snapshot], Snapshot]
) -> None:
    history = IntakeHistory(env)
    history.record(30)
    runner = start(history.app, Registrations).runner
    runner.take_snapshot()
    table = snapshot_table(history.app)
    assert table is not None
    table.save("Registrations", spoil(stored(history.app, Registrations)))
    history.record(10)

    again = start(history.app, Registrations)

    assert again.read == recorded(history.app)
    assert_same_answers(again.runner.read_model, rebuilt(history.app, Registrations))
    history.app.close()


def test_the_running_service_snapshots_every_n_events_and_at_shutdown(
    env: dict[str, str],
) -> None:
    history = IntakeHistory(env)
    history.record(30)
    runner = ProjectionRunner(
        history.app, Registrations(), poll_seconds=0.01, schedule=SnapshotSchedule(100, 10**9)
    )

    async def run_until_caught_up_then_stop() -> int:
        task = asyncio.create_task(runner.run())
        await runner.caught_up.wait()
        taken = stored(history.app, Registrations).position  # every 100 events on the way
        history.register(HOSPITALS[0], str(uuid4()))
        while runner.position < recorded(history.app):
            await asyncio.sleep(0.01)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return taken

    taken_while_running = asyncio.run(run_until_caught_up_then_stop())

    assert 0 < taken_while_running < recorded(history.app) < taken_while_running + 100
    assert stored(history.app, Registrations).position == recorded(history.app)
    history.app.close()
