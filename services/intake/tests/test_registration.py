"""Registering a national ID answers alike whether it was registered before or not; the
diagnosis through a hospital's registration joins the one record, logged (issue 14, point 2)."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path
from statistics import mean, median, quantiles
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import AggregateNotFoundError

from carenet_contracts.intake import ErasureBasis
from carenet_intake.application import JOIN_ACCESS, IntakeApplication, Registration
from carenet_intake.domain import Hospital, IdentityClaim, JoiningRegistration, Patient
from carenet_intake.outbox import integration_events
from carenet_intake.projection import HospitalRegister
from carenet_intake.rules import IntakeRules
from carenet_kit.outbox import Cause
from carenet_kit.read_model_tables import TableFollower

from .test_application import HOSPITAL, app, clock, diagnosis, published

OUTBOUND = integration_events(IntakeRules.load())

__all__ = ["app", "clock"]  # the fixtures

BEIJING = "H-BJ-ANDING"
NATIONAL_ID = "440305199001150010"
SAMPLES = 100


def register(
    app: IntakeApplication,
    hospital_id: str,
    national_id: str = NATIONAL_ID,
    date_of_birth: date = date(1980, 1, 1),
) -> UUID:
    return app.register_patient(
        Registration(
            hospital_id=hospital_id,
            name="Zhang San",
            national_id=national_id,
            date_of_birth=date_of_birth,
            sex="female",
            phone="13800000000",
            address="1 Nantou Street",
            region_code="440305001",
            guardian=None,
        ),
        Cause.request(),
    )


def patients(app: IntakeApplication) -> list[UUID]:
    notifications = app.process_recorder.select_notifications(0, 1000, inclusive_of_start=False)
    events = [app.mapper.to_domain_event(n) for n in notifications]
    return [e.originator_id for e in events if isinstance(e, Patient.Registered)]


def test_another_hospital_registering_a_registered_id_gets_a_handle_that_is_no_patient(
    app: IntakeApplication,
) -> None:
    patient = register(app, HOSPITAL)
    app.record_diagnosis(patient, diagnosis(date(2026, 11, 19)), Cause.request())

    handle = register(app, BEIJING)  # no conflict: a handle, as for any new ID
    fresh = register(app, BEIJING, national_id="11010519491231002X")

    assert handle != patient
    assert isinstance(app.find(handle), JoiningRegistration)
    assert patients(app) == [patient, fresh]
    # neither gives Beijing any relation before its diagnosis: both are known with nobody in it
    assert app.diagnosing_hospitals(handle) == app.diagnosing_hospitals(fresh) == set()
    assert app.registering_hospital(handle) == app.registering_hospital(fresh) == BEIJING
    with pytest.raises(AggregateNotFoundError):
        app.patient_record(handle)


def test_a_hospital_asking_again_gets_the_same_handle(app: IntakeApplication) -> None:
    patient = register(app, HOSPITAL)
    handle = register(app, BEIJING)
    assert register(app, HOSPITAL) == patient
    assert register(app, BEIJING) == handle
    assert patients(app) == [patient]


def test_the_diagnosis_through_the_handle_joins_the_one_record_and_is_logged(
    app: IntakeApplication,
) -> None:
    patient = register(app, HOSPITAL)
    first = app.record_diagnosis(patient, diagnosis(date(2026, 11, 18)), Cause.request())
    handle = register(app, BEIJING)
    before = len(published(app))

    joined = app.record_diagnosis(handle, diagnosis(date(2026, 11, 19), BEIJING), Cause.request())
    again = app.record_diagnosis(handle, diagnosis(date(2026, 11, 20), BEIJING), Cause.request())

    assert joined.patient_id == again.patient_id == patient
    assert patients(app) == [patient]
    assert app.patient_record(patient).diagnosis_ids == (
        first.diagnosis_id,
        joined.diagnosis_id,
        again.diagnosis_id,
    )
    assert app.diagnosing_hospitals(patient) == {HOSPITAL, BEIJING}
    messages = published(app)[before:]
    assert [(m.patient_id, m.event_type) for m in messages] == [
        (patient, "DiagnosisRecorded"),
        (patient, "RecordAccessed"),  # the join, once: the later diagnosis is an ordinary one
        (patient, "DiagnosisRecorded"),
    ]
    assert messages[0].data.hospital_id == BEIJING
    access = messages[1].data
    assert (access.reader_id, access.reader_organisation, access.reader_role) == (
        "DR-1",
        BEIJING,
        "clinician",
    )
    assert (access.record, access.access, access.purpose, access.outcome) == (
        "intake.record_diagnosis",
        JOIN_ACCESS,
        "care",
        "granted",
    )


def test_only_the_handles_own_hospital_records_through_it(app: IntakeApplication) -> None:
    register(app, HOSPITAL)
    handle = register(app, BEIJING)
    with pytest.raises(AggregateNotFoundError):
        app.record_diagnosis(handle, diagnosis(date(2026, 11, 19)), Cause.request())


def test_each_hospital_lists_its_handle_until_the_diagnosis_joins_the_patient(
    app: IntakeApplication,
) -> None:
    register_ = HospitalRegister(app)
    runner = TableFollower(register_)
    patient = register(app, HOSPITAL)
    handle = register(app, BEIJING)
    runner.catch_up()
    assert [p.patient_id for p in register_.patients_of(BEIJING)] == [handle]

    app.record_diagnosis(handle, diagnosis(date(2026, 11, 19), BEIJING), Cause.request())
    runner.catch_up()

    [listed] = register_.patients_of(BEIJING)
    assert (listed.patient_id, listed.diagnoses) == (patient, 1)
    assert register_.patients_of(HOSPITAL) == [listed]


def test_what_the_joining_hospital_entered_is_erased_with_the_patient(
    app: IntakeApplication,
) -> None:
    patient = register(app, HOSPITAL)
    handle = register(app, BEIJING, date_of_birth=date(1981, 2, 3))
    joining = app.find(handle)
    assert app.date_of_birth(joining) == date(1981, 2, 3)  # its own entry, not the record's
    app.erase_personal_data(patient, ErasureBasis.CONSENT_WITHDRAWN, "ERASURE-1", Cause.request())
    assert app.date_of_birth(app.find(handle)) is None


def test_a_registration_after_the_erasure_is_new_data_and_still_joins(
    app: IntakeApplication,
) -> None:
    patient = register(app, HOSPITAL)
    app.erase_personal_data(patient, ErasureBasis.CONSENT_WITHDRAWN, "ERASURE-1", Cause.request())
    handle = register(app, BEIJING, date_of_birth=date(1981, 2, 3))
    assert app.date_of_birth(app.find(handle)) == date(1981, 2, 3)
    joined = app.record_diagnosis(handle, diagnosis(date(2026, 11, 19), BEIJING), Cause.request())
    assert joined.patient_id == patient


def test_of_two_hospitals_registering_one_new_id_at_once_the_second_joins(
    app: IntakeApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    patient = register(app, HOSPITAL)
    find, hidden = app.find, []

    def racing(aggregate_id: UUID) -> object:
        """Beijing's first look misses Kangning's claim, committed just after it."""
        found = find(aggregate_id)
        if isinstance(found, IdentityClaim) and not hidden:
            hidden.append(found)
            return None
        return found

    monkeypatch.setattr(app, "find", racing)
    handle = register(app, BEIJING)  # its commit conflicts on the claim; the retry joins

    assert hidden
    assert isinstance(app.find(handle), JoiningRegistration)
    assert patients(app) == [patient]


def test_both_paths_write_the_same_records(app: IntakeApplication) -> None:
    """One new data key and three events each: the work, hence the time, does not tell."""
    register(app, HOSPITAL)
    keystore: Any = app.data_keys  # the unit tests' in-memory one: its keys can be counted

    def written(national_id: str) -> tuple[int, list[str]]:
        keys = len(keystore._keys)
        before = app.recorder.max_notification_id() or 0
        register(app, BEIJING, national_id)
        events = app.process_recorder.select_notifications(before, 10, inclusive_of_start=False)
        return len(keystore._keys) - keys, [e.topic.rsplit(".", 1)[-1] for e in events]

    assert written(NATIONAL_ID) == (1, ["Registered", "RegisteredAgain", "Claimed"])
    assert written("11010519491231002X") == (1, ["Registered", "Claimed", "Claimed"])


def test_both_paths_take_the_same_time_in_the_service_layer(tmp_path: Path) -> None:
    """On a SQLite file, where a write costs what it does in production; without the HTTP
    around it, which would hide a gap (a new data key alone is a committed insert)."""
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(tmp_path / "intake.db"),
        "CREATE_TABLE": "y",
    }
    hospitals = {h: Hospital(h, True, "440305") for h in (HOSPITAL, BEIJING)}
    app = IntakeApplication(env, OUTBOUND, hospitals, b"test", os.urandom(32))
    registered = [str(uuid4()) for _ in range(SAMPLES)]
    for national_id in registered:
        register(app, HOSPITAL, national_id)
    took: dict[str, list[float]] = {"registered": [], "new": []}
    for national_id in registered:  # interleaved: the same conditions for both
        for kind, asked in (("registered", national_id), ("new", str(uuid4()))):
            started = time.perf_counter()
            register(app, BEIJING, asked)
            took[kind].append(time.perf_counter() - started)

    figures = {
        kind: (mean(t) * 1000, quantiles(t, n=20)[-1] * 1000, median(t) * 1000)
        for kind, t in took.items()
    }
    print(
        "\nregister_patient on SQLite, "
        + ", ".join(
            f"{kind}: mean {m:.2f} ms, p95 {p:.2f} ms, median {d:.2f} ms"
            for kind, (m, p, d) in figures.items()
        )
    )
    assert 0.67 < figures["registered"][2] / figures["new"][2] < 1.5, figures
