"""The service layer on the library's in-memory store: what routing publishes, and when."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from carenet_contracts import Envelope, parse_message
from carenet_contracts.common import ReferralReason
from carenet_kit.clock import ManualClock
from carenet_kit.outbox import Cause, PublishedStream
from carenet_kit.reference_data import ReferenceDirectory
from carenet_routing.application import RoutingApplication
from carenet_routing.commands import (
    FollowHospital,
    RequestReferral,
    RouteDiagnosedPatient,
    WithdrawReferral,
)
from carenet_routing.domain import DIRECTORY_ID, Happening, Route
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
    application.load_directory(ReferenceDirectory.load(REFERENCE))
    return application


def diagnosis(
    patient_id: UUID,
    region_code: str,
    hospital: str = "H-SZ-NANSHAN",
    recorded_at: datetime = START,
) -> RouteDiagnosedPatient:
    return RouteDiagnosedPatient(
        patient_id=patient_id,
        diagnosing_hospital_id=hospital,
        category="schizophrenia",
        risk_level=1,
        region_code=region_code,
        recorded_at=recorded_at,
    )


def diagnose(app: RoutingApplication, region_code: str, hospital: str = "H-SZ-NANSHAN") -> UUID:
    patient_id = uuid4()
    app.route_diagnosed_patient(diagnosis(patient_id, region_code, hospital), Cause.request())
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
    request = RequestReferral(
        patient_id=patient_id,
        referral_id=referral_id,
        case_id=uuid4(),
        center_id="CHC-NS-NANTOU",
        reason=reason.value,
        risk_level=3,
    )
    app.request_referral(request, Cause.request())
    return referral_id


def test_the_demo_directory_is_loaded_through_the_commands_once(app: RoutingApplication) -> None:
    version = app.directory().version
    app.load_directory(ReferenceDirectory.load(REFERENCE))
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


def test_a_move_reported_after_a_newer_one_is_history_and_publishes_nothing(
    app: RoutingApplication, clock: ManualClock
) -> None:
    patient = diagnose(app, "440305001")
    clock.advance(timedelta(days=30))
    app.change_residence(patient, "440305005", date(2026, 11, 28), Cause.request())
    late = app.change_residence(patient, "440305008", date(2026, 11, 20), Cause.request())
    assert (late.outcome, late.center_id) == ("earlier_residence_recorded", "CHC-NS-SHEKOU")
    assert [m.event_type for m in published(app, patient)] == [
        "PatientRouted",
        "PatientTransferred",
    ]


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
    received_late = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)
    app.route_diagnosed_patient(
        diagnosis(patient_id, "440305001", recorded_at=received_late), Cause.request()
    )
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


def test_a_waiting_patient_is_routed_once_when_a_new_center_holds_the_region(
    app: RoutingApplication, clock: ManualClock
) -> None:
    """Given a patient waiting because no catchment holds 440399001, when an operator registers
    a center for district 440399, then the next due work routes the patient there, naming the
    directory version of the change, and no later round routes them again."""
    waiting = diagnose(app, "440399001")
    elsewhere = diagnose(app, "110108099")
    clock.advance(timedelta(days=1))
    version = app.register_center("CHC-NEW", "New", ["440399"], "OP-1", Cause.request())

    assert app.act_on_due(clock.now()) == 1

    pending, routed = published(app, waiting)
    assert (pending.event_type, routed.event_type) == ("RoutingPending", "PatientRouted")
    assert (routed.data.center_id, routed.data.routed_by) == ("CHC-NEW", "catchment")
    assert routed.data.directory_version == version
    assert routed.data.first_visit_due == date(2026, 11, 17)
    assert [m.event_type for m in published(app, elsewhere)] == ["RoutingPending"]
    assert app.act_on_due(clock.advance(timedelta(days=4))) == 1  # only the other one overdue
    assert [m.event_type for m in published(app, waiting)][2:] == []


def test_an_extended_catchment_routes_its_waiting_patients(app: RoutingApplication) -> None:
    waiting = diagnose(app, "440305004")
    version = app.add_catchment_area("CHC-NS-NANTOU", "440305004", "OP-1", Cause.request())
    assert app.act_on_due(START) == 1
    routed = published(app, waiting)[-1]
    assert (routed.data.center_id, routed.data.directory_version) == ("CHC-NS-NANTOU", version)


def test_a_hold_decided_on_the_directory_before_a_catchment_change_is_routed_after_it(
    app: RoutingApplication,
) -> None:
    """The race: a diagnosis is routed on the directory as it was, while an operator's change
    that holds its region is committed; the hold is recorded after the change."""
    before = app.repository.get(DIRECTORY_ID)
    app.add_catchment_area("CHC-NS-NANTOU", "440305004", "OP-1", Cause.request())
    assert app.act_on_due(START) == 0
    late_hold = Route(uuid4(), "H-SZ-NANSHAN", "schizophrenia", 1, "440305004")
    late_hold.route_by_catchment(before, START.date(), app.rules)
    app.commit(late_hold, cause=Cause.request())

    assert app.act_on_due(START) == 1
    assert [m.event_type for m in published(app, late_hold.patient_id)] == [
        "RoutingPending",
        "PatientRouted",
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
    declined = FollowHospital(
        patient_id=patient,
        referral_id=referral_id,
        hospital_id="H-SZ-NANSHAN",
        happening=Happening.DECLINED,
        when=START,
        detail="full",
    )
    app.follow_hospital(declined, Cause.request())
    withdrawn = WithdrawReferral(patient_id=patient, referral_id=referral_id, reason="withdrawn")
    app.withdraw_referral(withdrawn, Cause.request())
    messages = published(app, patient)
    assert [m.event_type for m in messages] == [
        "PatientRouted",
        "ReferralIssued",
        "ReferralEscalated",
    ]
    assert (messages[-1].data.cause, messages[-1].data.referral_open) == ("declined", False)
    assert messages[-1].data.detail == "declined by H-SZ-NANSHAN: full"
