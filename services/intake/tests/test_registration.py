"""Registering a national ID answers alike whether it was registered before or not; the
diagnosis through a hospital's registration joins the one record, logged (issue 14, point 2)."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest
from eventsourcing.application import AggregateNotFoundError

from carenet_contracts.intake import ErasureBasis
from carenet_intake.application import JOIN_ACCESS, IntakeApplication, Registration
from carenet_intake.domain import IdentityClaim, JoiningRegistration, Patient
from carenet_intake.projection import HospitalRegister
from carenet_kit.outbox import Cause
from carenet_kit.projection import ProjectionRunner

from .test_application import HOSPITAL, app, clock, diagnosis, published

__all__ = ["app", "clock"]  # the fixtures

BEIJING = "H-BJ-ANDING"
NATIONAL_ID = "440305199001150010"


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
    register_ = HospitalRegister()
    runner = ProjectionRunner(app, register_, poll_seconds=0)
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


def test_a_registration_joining_an_erased_patient_keeps_its_entry_under_a_key_of_its_own(
    app: IntakeApplication,
) -> None:
    patient = register(app, HOSPITAL)
    app.erase_personal_data(patient, ErasureBasis.CONSENT_WITHDRAWN, "ERASURE-1", Cause.request())
    handle = register(app, BEIJING, date_of_birth=date(1981, 2, 3))
    joining = app.find(handle)
    assert (joining.patient_id, joining.sealed_under) == (patient, handle)
    assert app.date_of_birth(joining) == date(1981, 2, 3)
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
