"""Routing's policy turns each consumed event into the one command it asks for."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from functools import partial
from uuid import UUID

from carenet_devtools.policies import PATIENT, commands_asked
from carenet_routing.commands import (
    FollowHospital,
    RequestReferral,
    RouteDiagnosedPatient,
    WithdrawReferral,
)
from carenet_routing.domain import Happening
from carenet_routing.policy import policy

REFERRAL = UUID("81da2031-a0d0-4b64-b3ad-d9d345e2887b")


commanded = partial(commands_asked, policy)


def test_a_diagnosis_asks_for_a_route_from_the_day_intake_recorded_it() -> None:
    assert commanded("DiagnosisRecorded") == [
        (
            "route_diagnosed_patient",
            RouteDiagnosedPatient(
                patient_id=PATIENT,
                diagnosing_hospital_id="H-SZ-KANGNING",
                category="schizophrenia",
                risk_level=2,
                region_code="440305001",
                recorded_at=datetime(2026, 11, 22, 17, 25, 12, 416566, tzinfo=UTC),
            ),
        )
    ]


def test_a_center_requests_and_withdraws_a_referral() -> None:
    assert commanded("ReferralRequested") == [
        (
            "request_referral",
            RequestReferral(
                patient_id=PATIENT,
                referral_id=REFERRAL,
                case_id=UUID("9f81999f-b2d0-4704-bd10-1d1f8f4ffe05"),
                center_id="CHC-NS-NANTOU",
                reason="risk",
                risk_level=4,
            ),
        )
    ]
    assert commanded("ReferralWithdrawn") == [
        (
            "withdraw_referral",
            WithdrawReferral(
                patient_id=PATIENT, referral_id=REFERRAL, reason="patient_unreachable"
            ),
        )
    ]


def test_each_answer_of_the_hospital_is_followed_with_its_own_time() -> None:
    def following(happening: Happening, when: datetime | date, detail: str = "") -> object:
        return (
            "follow_hospital",
            FollowHospital(PATIENT, REFERRAL, "H-SZ-KANGNING", happening, when, detail),
        )

    china = timezone(timedelta(hours=8))
    assert commanded("ReferralAccepted") == [
        following(Happening.ACCEPTED, datetime(2026, 11, 22, 9, 30, tzinfo=china))
    ]
    assert commanded("ReferralDeclined") == [
        following(Happening.DECLINED, datetime(2026, 11, 22, 10, tzinfo=UTC), "no bed")
    ]
    assert commanded("PatientAdmitted") == [following(Happening.ADMITTED, date(2026, 11, 22))]
    assert commanded("PatientDischarged") == [following(Happening.DISCHARGED, date(2026, 12, 10))]


def test_a_stay_no_community_referral_asked_for_asks_nothing() -> None:
    assert commanded("PatientAdmitted", referral_id=None) == []
    assert commanded("PatientDischarged", referral_id=None) == []


def test_what_routing_does_not_consume_asks_nothing() -> None:
    assert commanded("VisitCompleted") == []
