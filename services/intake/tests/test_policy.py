"""Intake's policy turns each consumed event into the one command it asks for."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from uuid import UUID

from carenet_devtools.policies import PATIENT, commands_asked
from carenet_intake.commands import CancelReferral, ReceiveReferral, ShareContactDetails
from carenet_intake.policy import policy

REFERRAL = UUID("81da2031-a0d0-4b64-b3ad-d9d345e2887b")


commanded = partial(commands_asked, policy)


def test_routing_issues_and_cancels_a_referral_on_the_hospitals_worklist() -> None:
    assert commanded("ReferralIssued") == [
        (
            "receive_referral",
            ReceiveReferral(
                patient_id=PATIENT,
                referral_id=REFERRAL,
                case_id=UUID("9f81999f-b2d0-4704-bd10-1d1f8f4ffe05"),
                from_center_id="CHC-NS-NANTOU",
                hospital_id="H-SZ-KANGNING",
                reason="risk",
                risk_level=4,
                accept_by=datetime(2026, 11, 23, 10, tzinfo=UTC),
            ),
        )
    ]
    assert commanded("ReferralCancelled") == [
        (
            "cancel_referral",
            CancelReferral(
                referral_id=REFERRAL,
                hospital_id="H-SZ-KANGNING",
                reason="withdrawn by the community",
            ),
        )
    ]


def test_a_case_opened_asks_for_its_contact_details_unless_it_has_no_key() -> None:
    assert commanded("CaseOpened") == [
        (
            "share_contact_details",
            ShareContactDetails(
                patient_id=PATIENT,
                case_id=UUID("16a841ee-5820-4da7-b41b-c91d63b34925"),
                center_id="CHC-NS-NANTOU",
                contact_key="9m6GuA5iYFpfYBKQTbXVKOpzGdDiUBe_aAwuGN99J1c",
            ),
        )
    ]
    assert commanded("CaseOpened", contact_key=None) == []


def test_what_intake_does_not_consume_asks_nothing() -> None:
    assert commanded("VisitCompleted") == []
