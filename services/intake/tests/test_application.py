"""Intake's service layer on the library's in-memory store, with time moved by hand."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import Tracking

from carenet_contracts import Envelope, parse_message
from carenet_intake.application import Diagnosis, IntakeApplication, Registration
from carenet_intake.commands import CancelReferral, ReceiveReferral
from carenet_intake.domain import DeclineReason, Hospital, StateConflict, WrongHospital
from carenet_intake.outbox import integration_events
from carenet_intake.rules import IntakeRules
from carenet_intake.workdays import Adjustments, CalendarFile, WorkingDayCalendars
from carenet_kit.auth import Actor
from carenet_kit.clock import ManualClock
from carenet_kit.outbox import Cause, PublishedStream
from carenet_kit.refusals import Conflict, Refused

OUTBOUND = integration_events(IntakeRules.load())

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOSPITAL = "H-SZ-KANGNING"
GUANGXI_HOSPITAL = "H-GX-NANNING"


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(at(date(2026, 11, 20)))


@pytest.fixture
def app(clock: ManualClock) -> IntakeApplication:
    calendars = WorkingDayCalendars(
        CalendarFile(regions={"45": Adjustments(add_holidays={date(2026, 4, 20): "壮族三月三"})})
    )
    return IntakeApplication(
        {"PERSISTENCE_MODULE": "eventsourcing.popo"},
        outbound=OUTBOUND,
        hospitals={
            HOSPITAL: Hospital(HOSPITAL, True, "440307"),
            GUANGXI_HOSPITAL: Hospital(GUANGXI_HOSPITAL, True, "450103"),
            "H-BJ-ANDING": Hospital("H-BJ-ANDING", True, "110102"),
        },
        pseudonym_key=b"test",
        master_key=os.urandom(32),
        calendars=calendars,
        clock=clock,
    )


def published(app: IntakeApplication) -> list[Envelope[Any]]:
    notifications = app.process_recorder.select_notifications(0, 1000, inclusive_of_start=False)
    events = [app.mapper.to_domain_event(n) for n in notifications]
    return [
        parse_message(e.message.encode()) for e in events if isinstance(e, PublishedStream.Appended)
    ]


def register(app: IntakeApplication, hospital_id: str = HOSPITAL) -> UUID:
    return app.register_patient(
        Registration(
            hospital_id=hospital_id,
            name="Zhang San",
            national_id=str(uuid4()),
            date_of_birth=date(1980, 1, 1),
            sex="female",
            phone="13800000000",
            address="1 Nantou Street",
            region_code="440305001",
            guardian=None,
        ),
        Cause.request(),
    )


def diagnosis(
    diagnosed_on: date,
    hospital_id: str = HOSPITAL,
    icd10_code: str = "F20.0",
    override_reason: str | None = None,
) -> Diagnosis:
    return Diagnosis(
        hospital_id=hospital_id,
        clinician_id="DR-1",
        icd10_code=icd10_code,
        co_diagnoses=(),
        diagnosed_on=diagnosed_on,
        risk_level=1,
        consent_given_by="patient",
        consent_given_on=diagnosed_on,
        recorded_by=Actor("DR-1", hospital_id, "clinician"),
        override_reason=override_reason,
    )


def test_a_late_report_is_accepted_and_the_missed_deadline_recorded_with_it(
    app: IntakeApplication, clock: ManualClock
) -> None:
    patient = register(app)
    clock.advance(at(date(2026, 10, 21)) - clock.now())  # moves back: ManualClock allows it

    recorded = app.record_diagnosis(patient, diagnosis(date(2026, 9, 28)), Cause.request())

    assert recorded.reporting is not None
    assert recorded.reporting.late
    messages = published(app)
    assert [m.event_type for m in messages] == ["DiagnosisRecorded", "ReportingDeadlineMissed"]
    missed = messages[1].data
    assert (missed.deadline, missed.reported_on, missed.working_days_taken) == (
        date(2026, 10, 16),
        date(2026, 10, 21),
        13,
    )
    assert missed.diagnosis_id == recorded.diagnosis_id
    assert messages[1].occurred_at == datetime(2026, 10, 16, 16, tzinfo=UTC)  # midnight in China
    assert missed.calendar_version.startswith("CN/holidays-")
    assert missed.rule_set_version == app.rules.version == "nhc-2018/4"
    assert messages[0].correlation_id == messages[1].correlation_id


def test_the_reporting_day_is_the_date_in_china_not_in_utc(
    app: IntakeApplication, clock: ManualClock
) -> None:
    patient = register(app)
    deadline = date(2026, 10, 16)  # a Friday
    clock.advance(at(deadline, hour=23) + timedelta(minutes=59) - clock.now())
    assert clock.now().astimezone(UTC).date() == deadline
    on_time = app.record_diagnosis(patient, diagnosis(date(2026, 9, 28)), Cause.request())
    assert on_time.reporting is not None
    assert not on_time.reporting.late

    clock.advance(timedelta(minutes=2))  # 00:01 on Saturday in Shanghai, still Friday in UTC
    assert clock.now().astimezone(UTC).date() == deadline
    late = app.record_diagnosis(patient, diagnosis(date(2026, 9, 28)), Cause.request())
    assert late.reporting is not None
    assert late.reporting.late
    assert [m.event_type for m in published(app)] == [
        "DiagnosisRecorded",
        "DiagnosisRecorded",
        "ReportingDeadlineMissed",
    ]


def test_the_hospitals_regional_calendar_decides_the_deadline(
    app: IntakeApplication, clock: ManualClock
) -> None:
    patient = register(app, GUANGXI_HOSPITAL)
    clock.advance(at(date(2026, 4, 28)) - clock.now())
    in_guangxi = app.record_diagnosis(
        patient, diagnosis(date(2026, 4, 13), GUANGXI_HOSPITAL), Cause.request()
    )
    in_shenzhen = app.record_diagnosis(patient, diagnosis(date(2026, 4, 13)), Cause.request())
    assert in_guangxi.reporting is not None
    assert in_shenzhen.reporting is not None
    assert (in_guangxi.reporting.deadline, in_guangxi.reporting.late) == (date(2026, 4, 28), False)
    assert (in_shenzhen.reporting.deadline, in_shenzhen.reporting.late) == (
        date(2026, 4, 27),
        True,
    )
    assert in_guangxi.reporting.calendar_version != in_shenzhen.reporting.calendar_version


def test_a_diagnosis_dated_after_today_in_china_is_refused(app: IntakeApplication) -> None:
    patient = register(app)
    with pytest.raises(Refused, match="diagnosed_on is in the future"):
        app.record_diagnosis(patient, diagnosis(date(2026, 11, 21)), Cause.request())


def test_an_out_of_scope_diagnosis_is_kept_on_an_override_and_published_nowhere(
    app: IntakeApplication,
) -> None:
    patient = register(app)
    with pytest.raises(Refused, match="override_reason"):
        app.record_diagnosis(
            patient, diagnosis(date(2026, 11, 2), icd10_code="F32.1"), Cause.request()
        )

    recorded = app.record_diagnosis(
        patient,
        diagnosis(date(2026, 9, 1), icd10_code="F32.1", override_reason="severe depression"),
        Cause.request(),
    )

    assert (recorded.category, recorded.reporting) == (None, None)
    assert recorded.diagnosis_id in app.patient_record(patient).diagnosis_ids
    assert published(app) == []


def test_an_override_reason_on_a_diagnosis_in_scope_is_refused(app: IntakeApplication) -> None:
    patient = register(app)
    with pytest.raises(Refused, match="only for diagnoses outside"):
        app.record_diagnosis(
            patient, diagnosis(date(2026, 11, 2), override_reason="why not"), Cause.request()
        )


def from_routing(offset: int) -> Cause:
    """The cause of an inbound message at `offset` of routing's topic."""
    return Cause(uuid4(), uuid4(), Tracking("carenet.routing.v1:0", offset))


def issue(patient_id: UUID, hospital_id: str = HOSPITAL) -> ReceiveReferral:
    return ReceiveReferral(
        patient_id=patient_id,
        referral_id=uuid4(),
        case_id=uuid4(),
        from_center_id="CHC-NS-NANTOU",
        hospital_id=hospital_id,
        reason="unstable",
        risk_level=3,
        accept_by=datetime(2026, 11, 21, tzinfo=UTC),
    )


def cancel(referral_id: UUID) -> CancelReferral:
    return CancelReferral(referral_id=referral_id, hospital_id=HOSPITAL, reason="withdrawn")


def test_a_referral_issued_twice_is_received_once_and_both_positions_are_tracked(
    app: IntakeApplication,
) -> None:
    patient = uuid4()
    referral = issue(patient)
    app.receive_referral(referral, from_routing(1))
    app.receive_referral(referral, from_routing(2))  # routing published it again
    app.accept_referral(referral.referral_id, HOSPITAL, Cause.request())
    assert [m.event_type for m in published(app)] == ["ReferralAccepted"]
    assert app.is_tracked("carenet.routing.v1:0", 2)


def test_referral_lifecycle_accept_admit_discharge(app: IntakeApplication) -> None:
    patient = uuid4()
    referral = issue(patient)
    app.receive_referral(referral, from_routing(1))
    app.accept_referral(referral.referral_id, HOSPITAL, Cause.request())
    admission = app.admit(patient, HOSPITAL, None, referral.referral_id, Cause.request())
    with pytest.raises(StateConflict, match="already admitted"):
        app.admit(patient, HOSPITAL, None, None, Cause.request())
    stay = app.discharge(patient, HOSPITAL, date(2026, 11, 20), Cause.request())
    with pytest.raises(StateConflict, match="not admitted"):
        app.discharge(patient, HOSPITAL, None, Cause.request())

    messages = published(app)
    assert [m.event_type for m in messages] == [
        "ReferralAccepted",
        "PatientAdmitted",
        "PatientDischarged",
    ]
    assert [m.sequence for m in messages] == [1, 2, 3]
    assert {m.patient_id for m in messages} == {patient}
    assert messages[1].data.admission_id == stay.admission_id == admission
    assert messages[1].data.admitted_on == date(2026, 11, 20)  # today, in China


def test_a_cancelled_referral_cannot_be_accepted_or_admitted(app: IntakeApplication) -> None:
    patient = uuid4()
    referral = issue(patient)
    app.receive_referral(referral, from_routing(1))
    app.cancel_referral(cancel(referral.referral_id), from_routing(2))
    with pytest.raises(Conflict, match="cancelled"):
        app.accept_referral(referral.referral_id, HOSPITAL, Cause.request())
    with pytest.raises(Conflict, match="cancelled"):
        app.admit(patient, HOSPITAL, None, referral.referral_id, Cause.request())
    assert published(app) == []


def test_a_cancellation_after_admission_leaves_the_patient_admitted(
    app: IntakeApplication,
) -> None:
    patient = uuid4()
    referral = issue(patient)
    app.receive_referral(referral, from_routing(1))
    app.admit(patient, HOSPITAL, None, referral.referral_id, Cause.request())
    app.cancel_referral(cancel(referral.referral_id), from_routing(2))
    assert app.is_tracked("carenet.routing.v1:0", 2)
    app.discharge(patient, HOSPITAL, None, Cause.request())
    assert [m.event_type for m in published(app)] == [
        "ReferralAccepted",
        "PatientAdmitted",
        "PatientDischarged",
    ]


def test_inbound_referrals_that_cannot_be_placed_are_refused_with_a_reason(
    app: IntakeApplication,
) -> None:
    with pytest.raises(Refused, match="not a certified hospital"):
        app.receive_referral(issue(uuid4(), "H-NOWHERE"), from_routing(1))
    with pytest.raises(Refused, match="never received"):
        app.cancel_referral(cancel(uuid4()), from_routing(2))


def test_only_the_addressed_hospital_answers_and_admits_on_a_referral(
    app: IntakeApplication,
) -> None:
    patient = uuid4()
    referral = issue(patient)
    app.receive_referral(referral, from_routing(1))
    with pytest.raises(WrongHospital):
        app.accept_referral(referral.referral_id, "H-BJ-ANDING", Cause.request())
    with pytest.raises(WrongHospital):
        app.admit(patient, "H-BJ-ANDING", None, referral.referral_id, Cause.request())
    with pytest.raises(Refused, match="another patient"):
        app.admit(uuid4(), HOSPITAL, None, referral.referral_id, Cause.request())
    app.decline_referral(
        referral.referral_id, HOSPITAL, DeclineReason.NO_BED_AVAILABLE, None, Cause.request()
    )
    assert [m.event_type for m in published(app)] == ["ReferralDeclined"]


def test_a_direct_admission_needs_a_registered_patient(app: IntakeApplication) -> None:
    with pytest.raises(AggregateNotFoundError):
        app.admit(uuid4(), HOSPITAL, None, None, Cause.request())
    patient = register(app)
    app.admit(patient, HOSPITAL, date(2026, 11, 19), None, Cause.request())
    with pytest.raises(Refused, match="discharged_on is in the future"):
        app.discharge(patient, HOSPITAL, date(2026, 11, 21), Cause.request())
    [admitted] = published(app)
    assert admitted.event_type == "PatientAdmitted"
    assert admitted.data.referral_id is None
