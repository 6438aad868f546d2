"""The policy and the care network it reads, as pure functions over events (no broker)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from carenet_access.policy import ANY_PART, Access, Outcome, decide
from carenet_access.relations import CareNetwork, PatientRelations
from carenet_contracts import Envelope, parse_message
from carenet_kit.auth import Actor

MESSAGES = Path(__file__).parents[2] / "contracts" / "tests" / "messages"
NOW = datetime(2026, 11, 22, 10, tzinfo=UTC)
PATIENT = uuid4()


def event(event_type: str, occurred_at: datetime | None = None, **data: Any) -> Envelope[Any]:
    """The committed example of a contract, about PATIENT, with some fields changed."""
    raw = json.loads((MESSAGES / f"{event_type}.v1.json").read_text())
    raw["patient_id"] = str(PATIENT)
    if occurred_at is not None:
        raw["occurred_at"] = occurred_at.isoformat()
    raw["data"].update(
        {k: str(v) if isinstance(v, UUID | datetime) else v for k, v in data.items()}
    )
    return parse_message(json.dumps(raw).encode())


def network(*events: Envelope[Any]) -> PatientRelations:
    care = CareNetwork()
    for e in events:
        care.apply(e)
    relations = care.relations(PATIENT)
    assert relations is not None
    return relations


CASE = uuid4()
ROUTED = (
    event("DiagnosisRecorded", hospital_id="H-A"),
    event("PatientRouted", center_id="CHC-A", diagnosing_hospital_id="H-A"),
    event("CaseOpened", case_id=CASE, center_id="CHC-A"),
    event("CaseManagerAssigned", case_id=CASE, center_id="CHC-A", case_manager_id="SW-1"),
    event("CareTeamMemberJoined", case_id=CASE, member_id="PL-7", role="police_liaison"),
)


@pytest.mark.parametrize(
    ("actor", "access", "outcome"),
    [
        (Actor("DR-1", "H-A", "clinician"), Access.READ_IDENTITY, Outcome.GRANTED),
        (Actor("DR-1", "H-A", "clinician"), Access.ROUTE, Outcome.FORBIDDEN),
        (Actor("DR-9", "H-B", "clinician"), Access.READ_CARE, Outcome.HIDDEN),
        (Actor("SW-2", "CHC-A", "social_worker"), Access.RECORD_CARE, Outcome.GRANTED),
        (Actor("SW-9", "CHC-B", "social_worker"), Access.READ_CARE, Outcome.HIDDEN),
        (Actor("PS-1", "CHC-A", "peer_supporter"), Access.READ_CARE, Outcome.FORBIDDEN),
        (Actor("PL-7", "POLICE-NS", "social_worker"), Access.READ_CARE, Outcome.GRANTED),
        (Actor("PL-7", "POLICE-NS", "social_worker"), Access.READ_IDENTITY, Outcome.FORBIDDEN),
        (Actor("AUD-1", "NHC-AUDIT", "auditor"), Access.READ_IDENTITY, Outcome.GRANTED),
        (Actor("AUD-1", "NHC-AUDIT", "auditor"), Access.RECORD_CARE, Outcome.FORBIDDEN),
        (Actor("OP-1", "network", "operator"), Access.READ_CARE, Outcome.FORBIDDEN),
        (Actor("OP-1", "network", "operator"), Access.ROUTE, Outcome.GRANTED),
        (Actor("X-1", "H-A", "janitor"), Access.READ_CARE, Outcome.FORBIDDEN),
    ],
)
def test_each_role_gets_what_its_relation_to_the_patient_allows(
    actor: Actor, access: Access, outcome: Outcome
) -> None:
    assert decide(actor, access, network(*ROUTED), NOW).outcome is outcome


def test_an_unknown_patient_is_hidden_even_from_an_auditor() -> None:
    auditor = Actor("AUD-1", "NHC-AUDIT", "auditor")
    assert decide(auditor, Access.READ_CARE, None, NOW).outcome is Outcome.HIDDEN


def test_a_transfer_hides_the_patient_from_the_former_center() -> None:
    moved = network(
        *ROUTED,
        event("PatientTransferred", from_center_id="CHC-A", to_center_id="CHC-B"),
        event("CaseClosed", case_id=CASE, center_id="CHC-A"),
    )
    old, new = Actor("SW-1", "CHC-A", "social_worker"), Actor("SW-9", "CHC-B", "social_worker")
    assert decide(old, Access.READ_CARE, moved, NOW).outcome is Outcome.HIDDEN
    assert decide(new, Access.READ_CARE, moved, NOW).outcome is Outcome.GRANTED


def test_a_relative_reads_only_what_the_consent_covers_and_nothing_once_withdrawn() -> None:
    member = str(uuid4())
    relative = Actor(member, "family", "family_member")
    scope = {"may_see": ["appointments"], "notified_of": []}
    linked = (*ROUTED, event("FamilyMemberLinked", case_id=CASE, member_id=member, scope=scope))
    consented = network(*linked)
    assert decide(relative, Access.READ_CARE, consented, NOW, "appointments").granted
    assert decide(relative, Access.READ_CARE, consented, NOW, ANY_PART).granted
    assert not decide(relative, Access.READ_CARE, consented, NOW, "risk").granted
    assert not decide(relative, Access.READ_CARE, consented, NOW).granted
    assert not decide(relative, Access.READ_IDENTITY, consented, NOW, ANY_PART).granted
    withdrawn = network(*linked, event("FamilyConsentWithdrawn", case_id=CASE, member_id=member))
    assert decide(relative, Access.READ_CARE, withdrawn, NOW, ANY_PART).outcome is Outcome.HIDDEN


def test_a_consent_recorded_late_and_dated_before_a_withdrawal_grants_nothing() -> None:
    member = str(uuid4())
    relative = Actor(member, "family", "family_member")
    scope = {"may_see": ["appointments"], "notified_of": []}

    def linked(days_ago: int) -> Envelope[Any]:
        at = NOW - timedelta(days=days_ago)
        return event("FamilyMemberLinked", at, case_id=CASE, member_id=member, scope=scope)

    no = event("FamilyConsentWithdrawn", NOW - timedelta(days=5), case_id=CASE, member_id=member)
    older_yes = network(*ROUTED, linked(20), no, linked(10))
    assert decide(relative, Access.READ_CARE, older_yes, NOW, ANY_PART).outcome is Outcome.HIDDEN
    newer_yes = network(*ROUTED, linked(20), no, linked(2))
    assert decide(relative, Access.READ_CARE, newer_yes, NOW, "appointments").granted


def test_break_the_glass_grants_reads_to_its_holder_until_it_expires() -> None:
    doctor = Actor("DR-BJ", "H-BJ", "clinician")
    grant = uuid4()
    granted = network(
        *ROUTED,
        event(
            "EmergencyAccessGranted",
            grant_id=grant,
            reader_id="DR-BJ",
            reader_organisation="H-BJ",
            expires_at=NOW + timedelta(hours=4),
        ),
    )
    decision = decide(doctor, Access.READ_IDENTITY, granted, NOW)
    assert (decision.outcome, decision.purpose, decision.emergency_access_id) == (
        Outcome.GRANTED,
        "emergency",
        grant,
    )
    assert not decide(doctor, Access.RECORD_CARE, granted, NOW).granted
    later = NOW + timedelta(hours=4, seconds=1)
    assert decide(doctor, Access.READ_IDENTITY, granted, later).outcome is Outcome.HIDDEN
    colleague = Actor("DR-BJ-2", "H-BJ", "clinician")
    assert decide(colleague, Access.READ_IDENTITY, granted, NOW).outcome is Outcome.HIDDEN
