"""The service layer on the library's in-memory store: what routing publishes, and when."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import yaml

from carenet_contracts import Envelope, Payload, envelope_of, parse_message
from carenet_contracts.casework import ReferralRequested, ReferralWithdrawn
from carenet_contracts.common import DiagnosisCategory, ReferralReason
from carenet_contracts.intake import DiagnosisRecorded, ReferralDeclined
from carenet_kit.clock import ManualClock
from carenet_kit.outbox import Cause, PublishedStream
from carenet_routing.application import RoutingApplication
from carenet_routing.outbox import to_integration_event

REFERENCE = Path(__file__).parents[3] / "reference" / "demo-directory.yaml"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def app(clock: ManualClock) -> RoutingApplication:
    application = RoutingApplication(
        {"PERSISTENCE_MODULE": "eventsourcing.popo"}, to_integration_event, clock
    )
    application.load_directory(yaml.safe_load(REFERENCE.read_text()))
    return application


def envelope(patient_id: UUID, payload: Payload) -> Envelope[Any]:
    return envelope_of(type(payload))(
        event_id=uuid4(),
        event_type=payload.event_type,
        schema_version=payload.schema_version,
        occurred_at=START,
        recorded_at=START,
        producer=payload.producer,
        patient_id=patient_id,
        correlation_id=uuid4(),
        causation_id=None,
        sequence=1,
        data=payload,
    )


def diagnose(app: RoutingApplication, region_code: str, hospital: str = "H-SZ-NANSHAN") -> UUID:
    patient_id = uuid4()
    diagnosis = DiagnosisRecorded(
        diagnosis_id=uuid4(),
        hospital_id=hospital,
        icd10_code="F20.0",
        category=DiagnosisCategory.SCHIZOPHRENIA,
        diagnosed_on=START.date(),
        risk_level=1,
        region_code=region_code,
    )
    app.route_diagnosed_patient(envelope(patient_id, diagnosis), Cause.request())
    return patient_id


def published(app: RoutingApplication, patient_id: UUID) -> list[Envelope[Any]]:
    stream_id = PublishedStream.create_id("routing", patient_id)
    return [
        parse_message(e.message.encode())  # type: ignore[attr-defined]
        for e in app.repository.event_store.get(stream_id)
        if isinstance(e, PublishedStream.Appended)
    ]


def request_referral(app: RoutingApplication, patient_id: UUID, reason: ReferralReason) -> UUID:
    referral_id = uuid4()
    request = ReferralRequested(
        referral_id=referral_id,
        case_id=uuid4(),
        center_id="CHC-NS-NANTOU",
        reason=reason,
        risk_level=3,
        rule_set_version="nhc-2018/1",
    )
    app.request_referral(envelope(patient_id, request), Cause.request())
    return referral_id


def test_the_demo_directory_is_loaded_through_the_commands_once(app: RoutingApplication) -> None:
    version = app.directory().version
    app.load_directory(yaml.safe_load(REFERENCE.read_text()))
    assert app.directory().version == version
    nantou = next(c for c in app.directory().centers if c.id == "CHC-NS-NANTOU")
    assert nantou.social_worker_ids == ["SW-NS-LI", "SW-NS-CHEN"]


def test_a_route_publishes_the_social_workers_and_the_directory_version(
    app: RoutingApplication,
) -> None:
    patient = diagnose(app, "440305001")
    [routed] = published(app, patient)
    assert routed.data.social_worker_ids == ["SW-NS-LI", "SW-NS-CHEN"]
    assert routed.data.directory_version == app.directory().version


def test_a_directory_change_is_recorded_by_the_next_route(app: RoutingApplication) -> None:
    version = app.add_catchment_area("CHC-NS-NANTOU", "440305004", "OP-1", Cause.request())
    [routed] = published(app, diagnose(app, "440305004"))
    assert routed.data.center_id == "CHC-NS-NANTOU"
    assert routed.data.directory_version == version


def test_a_transfer_is_published_with_a_first_visit_from_receipt(
    app: RoutingApplication, clock: ManualClock
) -> None:
    patient = diagnose(app, "440305001")
    clock.advance(timedelta(days=30))
    moved = app.change_residence(patient, "440305005", date(2026, 11, 28), Cause.request())
    assert (moved.outcome, moved.center_id) == ("transferred", "CHC-NS-SHEKOU")
    transferred = published(app, patient)[-1].data
    assert (transferred.from_center_id, transferred.to_center_id) == (
        "CHC-NS-NANTOU",
        "CHC-NS-SHEKOU",
    )
    assert transferred.first_visit_due == date(2026, 12, 16)
    assert transferred.social_worker_ids == ["SW-NS-WANG", "SW-NS-ZHAO", "SW-NS-HUANG"]


def test_a_move_made_today_in_china_is_transferred_before_the_utc_date_turns(
    app: RoutingApplication, clock: ManualClock
) -> None:
    """Days count in China: 02:00 on 29 November in Shanghai is still 28 November in UTC."""
    patient = diagnose(app, "440305001")
    clock.advance(datetime(2026, 11, 28, 18, 0, tzinfo=UTC) - clock.now())
    moved = app.change_residence(patient, "440305005", date(2026, 11, 29), Cause.request())
    assert moved.outcome == "transferred"
    transferred = published(app, patient)[-1].data
    assert (transferred.moved_on, transferred.first_visit_due) == (
        date(2026, 11, 29),
        date(2026, 12, 13),
    )


def test_a_first_visit_is_due_two_weeks_from_the_day_of_receipt_in_china(
    app: RoutingApplication,
) -> None:
    patient_id = uuid4()
    diagnosis = DiagnosisRecorded(
        diagnosis_id=uuid4(),
        hospital_id="H-SZ-NANSHAN",
        icd10_code="F20.0",
        category=DiagnosisCategory.SCHIZOPHRENIA,
        diagnosed_on=date(2026, 11, 29),
        risk_level=1,
        region_code="440305001",
    )
    received = envelope(patient_id, diagnosis).model_copy(
        update={"recorded_at": datetime(2026, 11, 28, 23, 30, tzinfo=UTC)}
    )
    app.route_diagnosed_patient(received, Cause.request())
    [routed] = published(app, patient_id)
    assert routed.data.first_visit_due == date(2026, 12, 13)


def test_a_manual_routing_deadline_is_published_once_when_it_passed(
    app: RoutingApplication, clock: ManualClock
) -> None:
    patient = diagnose(app, "440399001")
    assert app.act_on_due(clock.now()) == 0
    clock.advance(timedelta(days=4))
    assert app.act_on_due(clock.now()) == 1
    assert app.act_on_due(clock.now()) == 0
    assert [m.event_type for m in published(app, patient)] == [
        "RoutingPending",
        "ManualRoutingOverdue",
    ]


@pytest.mark.parametrize(
    ("reason", "window"),
    [
        (ReferralReason.UNSTABLE, timedelta(hours=24)),
        (ReferralReason.EMERGENCY, timedelta(hours=2)),
    ],
)
def test_a_referral_is_issued_to_the_diagnosing_hospital_with_an_accept_deadline(
    app: RoutingApplication, reason: ReferralReason, window: timedelta
) -> None:
    patient = diagnose(app, "440305001")
    request_referral(app, patient, reason)
    issued = published(app, patient)[-1].data
    assert issued.hospital_id == "H-SZ-NANSHAN"
    assert issued.accept_by == START + window


def test_an_uncertified_diagnosing_hospital_refers_to_a_certified_one_nearby(
    app: RoutingApplication,
) -> None:
    patient = diagnose(app, "440305001", hospital="H-SZ-CLINIC-9")
    request_referral(app, patient, ReferralReason.RISK)
    assert published(app, patient)[-1].data.hospital_id == "H-SZ-NANSHAN"


def test_decline_escalates_and_a_later_withdrawal_changes_nothing(app: RoutingApplication) -> None:
    patient = diagnose(app, "440305001")
    referral_id = request_referral(app, patient, ReferralReason.UNSTABLE)
    declined = ReferralDeclined(referral_id=referral_id, hospital_id="H-SZ-NANSHAN", reason="full")
    app.follow_hospital(envelope(patient, declined), Cause.request())
    withdrawn = ReferralWithdrawn(referral_id=referral_id, case_id=uuid4(), reason="withdrawn")
    app.withdraw_referral(envelope(patient, withdrawn), Cause.request())
    messages = published(app, patient)
    assert [m.event_type for m in messages] == [
        "PatientRouted",
        "ReferralIssued",
        "ReferralEscalated",
    ]
    assert (messages[-1].data.cause, messages[-1].data.referral_open) == ("declined", False)
    assert messages[-1].data.detail == "declined by H-SZ-NANSHAN: full"
