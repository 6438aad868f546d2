"""The hospital's side of two-way referral, given / when / then."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest
from eventsourcing.domain import Aggregate

from carenet_contracts.intake import (
    PatientAdmitted,
    PatientDischarged,
    ReferralAccepted,
    ReferralDeclined,
)
from carenet_intake.domain import (
    DeclineReason,
    Inpatient,
    Referral,
    ReferralStatus,
    StateConflict,
    WrongHospital,
)
from carenet_intake.outbox import integration_events
from carenet_intake.rules import IntakeRules
from carenet_kit.refusals import Refused

OUTBOUND = integration_events(IntakeRules.load())

HOSPITAL = "H-SZ-KANGNING"
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def issued(hospital_id: str = HOSPITAL) -> Referral:
    return Referral(
        referral_id=uuid4(),
        patient_id=uuid4(),
        case_id=uuid4(),
        from_center_id="CHC-NS-NANTOU",
        hospital_id=hospital_id,
        reason="unstable",
        risk_level=3,
        accept_by=NOW,
    )


def accepted() -> Referral:
    referral = issued()
    referral.accept(HOSPITAL, NOW)
    return referral


def declined() -> Referral:
    referral = issued()
    referral.decline(HOSPITAL, DeclineReason.NO_BED_AVAILABLE, None, NOW)
    return referral


def cancelled() -> Referral:
    referral = issued()
    referral.cancel(HOSPITAL, "patient stabilised")
    return referral


def admitted() -> Referral:
    referral = accepted()
    referral.admit(HOSPITAL, uuid4(), NOW)
    return referral


def new_events(aggregate: Aggregate, when: Callable[[], object]) -> list[str]:
    aggregate.collect_events()
    when()
    return [type(e).__name__ for e in aggregate.collect_events()]


def test_the_addressed_hospital_accepts_an_issued_referral() -> None:
    referral = issued()
    assert new_events(referral, lambda: referral.accept(HOSPITAL, NOW)) == ["Accepted"]
    assert referral.status is ReferralStatus.ACCEPTED


def test_another_hospital_cannot_act_on_the_referral() -> None:
    referral = issued()
    with pytest.raises(WrongHospital, match="another hospital"):
        referral.accept("H-BJ-ANDING", NOW)
    with pytest.raises(WrongHospital):
        referral.decline("H-BJ-ANDING", DeclineReason.OTHER, None, NOW)
    with pytest.raises(WrongHospital):
        referral.admit("H-BJ-ANDING", uuid4(), NOW)


@pytest.mark.parametrize("given", [accepted, declined, cancelled, admitted])
def test_only_an_issued_referral_can_be_accepted(given: Callable[[], Referral]) -> None:
    referral = given()
    with pytest.raises(StateConflict, match=f"is {referral.status.value}; it cannot be accepted"):
        referral.accept(HOSPITAL, NOW)


@pytest.mark.parametrize("given", [issued, accepted])
def test_an_open_referral_can_be_declined_with_a_reason_code(
    given: Callable[[], Referral],
) -> None:
    referral = given()
    when = lambda: referral.decline(  # noqa: E731
        HOSPITAL, DeclineReason.NO_BED_AVAILABLE, "ward full until Monday", NOW
    )
    assert new_events(referral, when) == ["Declined"]
    assert referral.status is ReferralStatus.DECLINED


@pytest.mark.parametrize("given", [declined, cancelled, admitted])
def test_a_closed_referral_cannot_be_declined(given: Callable[[], Referral]) -> None:
    with pytest.raises(StateConflict):
        given().decline(HOSPITAL, DeclineReason.OTHER, None, NOW)


@pytest.mark.parametrize("given", [issued, accepted])
def test_a_cancelled_referral_leaves_the_worklist(given: Callable[[], Referral]) -> None:
    referral = given()
    assert new_events(referral, lambda: referral.cancel(HOSPITAL, "resolved")) == ["Cancelled"]
    assert referral.status is ReferralStatus.CANCELLED


def test_a_cancellation_after_admission_changes_nothing_and_says_why() -> None:
    referral = admitted()
    why: list[str | None] = []
    assert new_events(referral, lambda: why.append(referral.cancel(HOSPITAL, "resolved"))) == [
        "CancellationIgnored"
    ]
    assert why[0] is not None
    assert "already admitted" in why[0]
    assert referral.status is ReferralStatus.ADMITTED


@pytest.mark.parametrize("given", [declined, cancelled])
def test_a_cancellation_of_a_closed_referral_records_nothing(
    given: Callable[[], Referral],
) -> None:
    referral = given()
    assert new_events(referral, lambda: referral.cancel(HOSPITAL, "again")) == []


def test_a_cancellation_naming_another_hospital_is_refused() -> None:
    with pytest.raises(WrongHospital):
        issued().cancel("H-BJ-ANDING", "resolved")


def test_admitting_an_issued_referral_accepts_it_first() -> None:
    referral = issued()
    when = lambda: referral.admit(HOSPITAL, uuid4(), NOW)  # noqa: E731
    assert new_events(referral, when) == ["Accepted", "Admitted"]


@pytest.mark.parametrize("given", [declined, cancelled, admitted])
def test_a_closed_referral_cannot_be_admitted(given: Callable[[], Referral]) -> None:
    with pytest.raises(StateConflict):
        given().admit(HOSPITAL, uuid4(), NOW)


def admit(inpatient: Inpatient, hospital_id: str = HOSPITAL, referral: UUID | None = None) -> None:
    inpatient.admit(uuid4(), hospital_id, referral, date(2026, 11, 20))


def test_a_patient_is_admitted_once_until_discharged() -> None:
    inpatient = Inpatient(uuid4())
    admit(inpatient)
    with pytest.raises(StateConflict, match="already admitted here"):
        admit(inpatient)
    with pytest.raises(StateConflict, match="at another hospital"):
        admit(inpatient, "H-BJ-ANDING")
    inpatient.discharge(HOSPITAL, date(2026, 11, 30))
    admit(inpatient, "H-BJ-ANDING")
    assert inpatient.stay is not None
    assert inpatient.stay.hospital_id == "H-BJ-ANDING"


def test_discharge_needs_an_admission_at_that_hospital_that_began_before() -> None:
    inpatient = Inpatient(uuid4())
    with pytest.raises(StateConflict, match="not admitted"):
        inpatient.discharge(HOSPITAL, date(2026, 11, 30))
    admit(inpatient)
    with pytest.raises(WrongHospital):
        inpatient.discharge("H-BJ-ANDING", date(2026, 11, 30))
    with pytest.raises(Refused, match="before the admission"):
        inpatient.discharge(HOSPITAL, date(2026, 11, 19))


def test_the_hospital_answers_and_stays_are_published_without_personal_data() -> None:
    referral = issued()
    inpatient = Inpatient(referral.patient_id)
    admission_id = uuid4()
    inpatient.admit(admission_id, HOSPITAL, referral.referral_id, date(2026, 11, 20))
    referral.admit(HOSPITAL, admission_id, NOW)
    inpatient.discharge(HOSPITAL, date(2026, 12, 1))
    declining = issued()
    declining.decline(HOSPITAL, DeclineReason.NOT_CLINICALLY_INDICATED, "Zhang San is fine", NOW)

    events = [*referral.collect_events(), *inpatient.collect_events()]
    events += declining.collect_events()
    outgoing = [o for o in map(OUTBOUND, events) if o is not None]

    assert [type(o.payload) for o in outgoing] == [
        ReferralAccepted,
        PatientAdmitted,
        PatientDischarged,
        ReferralDeclined,
    ]
    assert {o.patient_id for o in outgoing[:3]} == {referral.patient_id}
    admitted_event, discharged_event = outgoing[1].payload, outgoing[2].payload
    assert isinstance(admitted_event, PatientAdmitted)
    assert isinstance(discharged_event, PatientDischarged)
    assert admitted_event.referral_id == discharged_event.referral_id == referral.referral_id
    assert admitted_event.admission_id == discharged_event.admission_id == admission_id
    assert outgoing[3].payload == ReferralDeclined(
        referral_id=declining.referral_id,
        hospital_id=HOSPITAL,
        reason="not_clinically_indicated",
    )
    assert "Zhang San" not in outgoing[3].payload.model_dump_json()
