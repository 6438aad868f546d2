"""Casework's policy turns each consumed event into the one command it asks for."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import partial
from uuid import UUID

from carenet_casework.commands import (
    EndReferral,
    EraseContactKeys,
    OpenCase,
    ReceiveContactDetails,
    RecordAdmission,
    RecordDischarge,
    RecordReferralNotAdmitted,
    TransferCase,
)
from carenet_casework.policy import policy
from carenet_devtools.policies import PATIENT, commands_asked

commanded = partial(commands_asked, policy)


def test_a_route_opens_a_case_from_the_directory_s_social_workers() -> None:
    assert commanded("PatientRouted", social_worker_ids=["SW-NS-LI", "SW-NS-CHEN"]) == [
        (
            "open_case",
            OpenCase(
                patient_id=PATIENT,
                center_id="CHC-NS-NANTOU",
                first_visit_due=date(2026, 11, 16),
                social_worker_ids=("SW-NS-LI", "SW-NS-CHEN"),
                diagnosing_hospital_id="H-SZ-KANGNING",
                category="schizophrenia",
                risk_level=2,
            ),
        )
    ]


def test_a_transfer_moves_the_case() -> None:
    assert commanded("PatientTransferred") == [
        (
            "transfer",
            TransferCase(
                patient_id=PATIENT,
                to_center_id="CHC-HD-ZGC",
                moved_on=date(2026, 11, 20),
                first_visit_due=date(2026, 12, 4),
                social_worker_ids=(),
            ),
        )
    ]


def test_a_hospital_stay_pauses_and_resumes_the_case() -> None:
    stay = UUID("a6477a78-45d5-4de4-888b-794618e2635d")
    assert commanded("PatientAdmitted") == [
        ("record_admission", RecordAdmission(PATIENT, stay, "H-SZ-KANGNING", date(2026, 11, 22)))
    ]
    assert commanded("PatientDischarged") == [
        ("record_discharge", RecordDischarge(PATIENT, stay, date(2026, 12, 10)))
    ]


def test_a_referral_ends_cancelled_or_not_admitted_but_not_while_it_is_open() -> None:
    referral = UUID("81da2031-a0d0-4b64-b3ad-d9d345e2887b")
    assert commanded("ReferralCancelled") == [
        ("end_referral", EndReferral(PATIENT, referral, "cancelled: withdrawn by the community"))
    ]
    assert commanded("ReferralEscalated", referral_open=False) == [
        (
            "record_referral_not_admitted",
            RecordReferralNotAdmitted(
                PATIENT,
                referral,
                "not accepted within 24 hours",
                datetime(2026, 11, 22, 10, tzinfo=UTC),
            ),
        )
    ]
    assert commanded("ReferralEscalated") == []  # still open: routing keeps looking


def test_contact_details_are_kept_sealed_and_erased_on_request() -> None:
    [(method, command)] = commanded("ContactDetailsShared")
    assert method == "receive_contact_details"
    assert isinstance(command, ReceiveContactDetails)
    assert (command.patient_id, command.case_id) == (
        PATIENT,
        UUID("16a841ee-5820-4da7-b41b-c91d63b34925"),
    )
    assert command.sealed.startswith("YvSrh8mb")
    assert commanded("PersonalDataErased") == [
        (
            "erase_contact_keys",
            EraseContactKeys(PATIENT, "pipl_47_consent_withdrawn", "ERASURE-2026-0042"),
        )
    ]


def test_what_casework_does_not_consume_asks_nothing() -> None:
    assert commanded("DiagnosisRecorded") == []
    assert commanded("RoutingPending") == []
    assert commanded("ReferralAccepted") == []
