"""The notification rule table, given a patient's circle / when an event / then who is told."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from carenet_contracts import Payload
from carenet_devtools.policies import sample
from carenet_kit.rule_set import DEFAULT_RULE_SET_FILE
from carenet_notifications.circle import Circle, FamilyConsent
from carenet_notifications.rules import Planned, RuleTable, Urgency, default_table, plan

TEAM = Circle(
    center_id="CHC-NS-NANTOU",
    case_manager_id="SW-NS-LI",
    hospital_id="H-SZ-KANGNING",
    team=frozenset(
        {
            ("case_manager", "SW-NS-LI"),
            ("community_doctor", "DR-NS-ZHAO"),
            ("police_liaison", "PL-NS-WU"),
            ("grid_worker", "GW-NS-SUN"),
            ("family_member", "FM-5c1e0d"),
        }
    ),
)


def event(name: str, **changes: Any) -> Payload:
    """The payload of the contract's committed sample: one example of every event type."""
    payload: Payload = sample(name, **changes).data
    return payload


NOBODY_KNOWN = Circle()


def told(name: str, circle: Circle = NOBODY_KNOWN, **data: Any) -> dict[str, Planned]:
    return {p.recipient: p for p in plan(default_table(), event(name, **data), circle)}


def told_of_visit(circle: Circle, **data: Any) -> dict[str, Planned]:
    """`told` of a `VisitCompleted` as producers write it now (version 2: medication)."""
    visit = sample("VisitCompleted", version=2, **data).data
    return {p.recipient: p for p in plan(default_table(), visit, circle)}


def with_family(*notified_of: str, may_see: tuple[str, ...] = ()) -> Circle:
    consent = FamilyConsent(frozenset(may_see), frozenset(notified_of))
    return Circle(center_id="CHC-NS-NANTOU", family={"FM-5c1e0d": consent})


def test_the_center_hears_of_a_routed_patient() -> None:
    assert list(told("PatientRouted")) == ["center:CHC-NS-NANTOU"]


def test_the_case_manager_hears_of_the_assignment_and_the_previous_one_of_the_handover() -> None:
    assert list(told("CaseManagerAssigned")) == ["staff:SW-NS-LI"]
    handover = told("CaseManagerAssigned", previous_case_manager_id="SW-NS-CHEN")
    assert list(handover) == ["staff:SW-NS-LI", "staff:SW-NS-CHEN"]


def test_an_unstable_visit_is_urgent_for_the_case_manager_and_the_centers_doctors() -> None:
    planned = told("VisitCompleted", classification="unstable", risk_level=3)
    assert {r: p.urgency for r, p in planned.items()} == {
        "staff:SW-NS-LI": Urgency.URGENT,
        "role:CHC-NS-NANTOU/community_doctor": Urgency.URGENT,
    }
    assert planned["staff:SW-NS-LI"].channels == {"webhook", "email"}


def test_an_unstable_visit_at_risk_3_reaches_the_teams_doctor_and_police_liaison() -> None:
    planned = told("VisitCompleted", TEAM, classification="unstable", risk_level=4)
    assert set(planned) == {"staff:SW-NS-LI", "staff:DR-NS-ZHAO", "staff:PL-NS-WU"}
    assert {p.urgency for p in planned.values()} == {Urgency.URGENT}


def test_a_stable_visit_notifies_no_staff() -> None:
    assert told("VisitCompleted", TEAM, classification="stable", risk_level=0) == {}


def test_a_patient_found_without_medication_is_urgent_for_the_doctor_even_when_stable() -> None:
    planned = told_of_visit(
        TEAM,
        classification="stable",
        risk_level=0,
        medication_adherence="none",
        nonadherence_reason="side_effects",
    )
    assert {r: p.urgency for r, p in planned.items()} == {
        "staff:SW-NS-LI": Urgency.URGENT,
        "staff:DR-NS-ZHAO": Urgency.URGENT,
    }
    assert "no medication (side_effects)" in str(planned["staff:DR-NS-ZHAO"].summary)
    taken_at_times = told_of_visit(
        TEAM,
        classification="stable",
        risk_level=0,
        medication_adherence="intermittent",
        nonadherence_reason="forgets",
    )
    assert taken_at_times == {}  # the case manager's guidance, not yet the doctor's


def test_a_screening_with_thoughts_of_self_harm_reaches_the_doctor_at_once() -> None:
    urgent = told("ScreeningCompleted", TEAM)
    assert {r: p.urgency for r, p in urgent.items()} == {
        "staff:SW-NS-LI": Urgency.URGENT,
        "staff:DR-NS-ZHAO": Urgency.URGENT,
    }
    review = told("ScreeningCompleted", TEAM, urgent=False)
    assert {r: p.urgency for r, p in review.items()} == {"staff:SW-NS-LI": Urgency.ROUTINE}
    assert "review the risk level" in str(review["staff:SW-NS-LI"].summary)
    mild = told("ScreeningCompleted", TEAM, urgent=False, proposes_risk_review=False, band="mild")
    assert mild == {}


def test_a_relative_hears_of_a_visit_only_as_far_as_their_consent_lets_them_see() -> None:
    sees = told("VisitCompleted", with_family("VisitCompleted", may_see=("visits",)))
    assert sees["family:FM-5c1e0d"].summary is not None
    assert "visited on" in sees["family:FM-5c1e0d"].summary
    assert sees["family:FM-5c1e0d"].dates
    blind = told("VisitCompleted", with_family("VisitCompleted", may_see=("appointments",)))
    assert blind["family:FM-5c1e0d"].summary is None
    assert blind["family:FM-5c1e0d"].dates == {}


def test_a_relative_not_notified_of_an_event_type_hears_nothing_of_it() -> None:
    assert told("VisitCompleted", with_family("FollowUpScheduled"), classification="stable") == {}


def test_a_relative_in_the_care_team_is_not_reached_as_staff() -> None:
    planned = told("EmergencyRecorded", TEAM)
    assert "staff:FM-5c1e0d" not in planned
    assert set(planned) == {
        "staff:SW-NS-LI",
        "staff:DR-NS-ZHAO",
        "staff:PL-NS-WU",
        "staff:GW-NS-SUN",
    }


def test_an_emergency_without_a_police_liaison_in_the_team_reaches_the_centers() -> None:
    planned = told("EmergencyRecorded", Circle(center_id="CHC-NS-NANTOU"))
    assert "role:CHC-NS-NANTOU/police_liaison" in planned
    assert {p.urgency for p in planned.values()} == {Urgency.URGENT}


def test_a_missed_reporting_deadline_reaches_the_hospital_and_the_auditors() -> None:
    assert set(told("ReportingDeadlineMissed")) == {
        "role:H-SZ-KANGNING/clinician",
        "role:auditors-office/auditor",
    }


def test_the_center_hears_of_a_hospital_joining_its_patient_and_of_no_ordinary_read() -> None:
    joined = told(
        "RecordAccessed",
        TEAM,
        access="join-care-network",
        reader_id="DR-BJ-ZHANG",
        reader_organisation="H-BJ-ANDING",
        record="intake.record_diagnosis",
    )
    assert list(joined) == ["center:CHC-NS-NANTOU"]
    assert "H-BJ-ANDING joined the care" in (joined["center:CHC-NS-NANTOU"].summary or "")
    assert told("RecordAccessed", TEAM) == {}


def test_a_transfer_reaches_both_centers_and_the_closed_case_its_case_manager() -> None:
    assert set(
        told(
            "PatientTransferred", TEAM, from_center_id="CHC-NS-NANTOU", to_center_id="CHC-NS-SHEKOU"
        )
    ) == {"center:CHC-NS-NANTOU", "center:CHC-NS-SHEKOU"}
    assert set(told("CaseClosed", TEAM)) == {"staff:SW-NS-LI"}


def test_an_escalated_referral_is_urgent_for_hospital_case_manager_and_center_lead() -> None:
    planned = told("ReferralEscalated", TEAM)
    assert set(planned) == {
        "role:H-SZ-KANGNING/clinician",
        "staff:SW-NS-LI",
        f"role:{planned_center(planned)}/lead",
    }
    assert {p.urgency for p in planned.values()} == {Urgency.URGENT}


def planned_center(planned: dict[str, Planned]) -> str:
    lead = next(r for r in planned if r.endswith("/lead"))
    return lead.removeprefix("role:").removesuffix("/lead")


def test_an_overdue_first_visit_without_a_case_manager_reaches_the_center() -> None:
    assert set(told("FirstVisitOverdue", case_manager_id=None)) == {
        "center:CHC-NS-NANTOU",
        "role:CHC-NS-NANTOU/lead",
    }


@pytest.mark.parametrize(
    "event_type",
    [
        "CaseManagerAssigned",
        "PatientRouted",
        "RoutingPending",
        "ManualRoutingOverdue",
        "VisitCompleted",
        "FollowUpScheduled",
        "FirstVisitOverdue",
        "FollowUpOverdue",
        "LostToFollowUp",
        "FollowUpMissWithdrawn",
        "LostToFollowUpWithdrawn",
        "FollowUpsBelowYearlyMinimum",
        "FollowUpsBelowYearlyMinimumWithdrawn",
        "EmergencyRecorded",
        "ReferralIssued",
        "ReferralEscalated",
        "ReferralCancelled",
        "PatientAdmitted",
        "PatientDischarged",
        "PatientTransferred",
        "CaseClosed",
        "ReportingDeadlineMissed",
    ],
)
def test_every_care_event_of_the_pathway_tells_someone(event_type: str) -> None:
    changes = {"classification": "unstable"} if event_type == "VisitCompleted" else {}
    assert told(event_type, TEAM, **changes)


@pytest.mark.parametrize("event_type", ["LostToFollowUp", "EmergencyRecorded", "ReferralEscalated"])
def test_the_gravest_events_are_urgent(event_type: str) -> None:
    assert {p.urgency for p in told(event_type, TEAM).values()} == {Urgency.URGENT}


def test_deliveries_themselves_notify_nobody() -> None:
    assert told("NotificationDelivered") == {}


def test_a_table_naming_a_field_the_event_lacks_is_refused_at_start(tmp_path: Path) -> None:
    text = DEFAULT_RULE_SET_FILE.read_text()
    misnamed = text.replace("first visit due by {first_visit_due}", "routed to {national_id}")
    assert misnamed != text
    (tmp_path / "rules.yaml").write_text(misnamed)
    with pytest.raises(ValueError, match="national_id"):
        RuleTable.load(tmp_path / "rules.yaml")
