"""End to end: two-way referral through a hospital stay, and a transfer between two centers.

Both tests drive the service processes over HTTP as their users do (a case manager, a
hospital's staff, a residence change recorded at routing) and read the producers' topics.
Patient serials 2000-2099 belong to this module.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from carenet_contracts import Envelope

from .conftest import System, eventually
from .pathway import (
    AUDITOR,
    CENTER_STAFF,
    CLINICIAN,
    HOSPITAL,
    diagnose_new_patient,
    events,
    inbox,
    visit,
)

pytestmark = [pytest.mark.e2e, pytest.mark.own_system]

NANTOU, SHEKOU = "CHC-NS-NANTOU", "CHC-NS-SHEKOU"
NANTOU_SOCIAL_WORKERS = {"SW-NS-LI", "SW-NS-CHEN"}
SHEKOU_SOCIAL_WORKERS = {"SW-NS-WANG", "SW-NS-ZHAO", "SW-NS-HUANG"}
SHEKOU_REGION = "440305005"
SHEKOU_STAFF = "SW-NS-WANG"
"""A subdistrict in Shekou's catchment (reference/demo-directory.yaml)."""


@pytest.fixture(scope="module")
def system_env() -> dict[str, str]:
    # casework looks for missed deadlines every half second: a follow-up wrongly demanded
    # (from a due date in the past) would be recorded at once
    return {"CARENET_SCHEDULER_SECONDS": "0.5"}


# -- reading the system ------------------------------------------------------------------------


def china_today() -> date:
    """Deadlines count calendar days in China, whatever the test machine's time zone."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def days_from(day: date, days: int) -> str:
    return (day + timedelta(days=days)).isoformat()


def kinds(messages: list[Envelope[Any]]) -> list[str]:
    return [m.event_type for m in messages]


def at_least(system: System, producer: str, patient_id: str, count: int) -> list[Envelope[Any]]:
    """The patient's events on the producer's topic, once there are `count` of them."""

    def probe() -> list[Envelope[Any]] | None:
        found = events(system, producer, patient_id)
        return found if len(found) >= count else None

    return eventually(probe)


def cases_of(system: System, patient_id: str) -> list[dict[str, Any]]:
    """The patient's cases, as an auditor reads them (wherever the patient is now)."""
    with system.client("casework", AUDITOR) as casework:
        response = casework.get("/v1/cases", params={"patient_id": patient_id})
    assert response.status_code == 200, response.text
    cases: list[dict[str, Any]] = response.json()
    return cases


def only_case(system: System, patient_id: str, status: str = "active") -> dict[str, Any] | None:
    """The patient's one case, once it has a case manager and is in that status."""
    cases = cases_of(system, patient_id)
    if len(cases) == 1 and cases[0]["case_manager_id"] and cases[0]["status"] == status:
        return cases[0]
    return None


def told(system: System, patient_id: str) -> Counter[tuple[str, str]]:
    """(recipient, event type) of every notification delivered about the patient."""
    return Counter(
        (m.data.recipient, m.data.about_event_type)
        for m in events(system, "notifications", patient_id)
    )


def everyone_told(
    system: System, patient_id: str, expected: Counter[tuple[str, str]]
) -> Counter[tuple[str, str]]:
    """Who was told what, once as many notifications as expected are out and all is consumed."""
    eventually(lambda: sum(told(system, patient_id).values()) >= sum(expected.values()))
    system.wait_until_consumed("notifications", ["intake", "routing", "casework"])
    return told(system, patient_id)


def worklist_entry(system: System, referral_id: str, status: str) -> dict[str, Any] | None:
    """The referral on the hospital's worklist filtered by `status` ('open', 'admitted', ...)."""
    with system.client("intake", CLINICIAN) as intake:
        response = intake.get("/v1/referrals", params={"hospital_id": HOSPITAL, "status": status})
    assert response.status_code == 200, response.text
    return next((r for r in response.json() if r["referral_id"] == referral_id), None)


def saga_reaches(system: System, referral_id: str, stage: str) -> bool:
    def probe() -> bool:
        with system.client("routing", AUDITOR) as routing:
            return bool(routing.get(f"/v1/referrals/{referral_id}").json()["stage"] == stage)

    return eventually(probe)


# -- steps ---------------------------------------------------------------------------------


def routed_patient_with_case_manager(system: System, serial: int) -> tuple[str, dict[str, Any]]:
    with system.client("intake", CLINICIAN) as intake:
        patient_id = diagnose_new_patient(intake, serial)
    case = eventually(lambda: only_case(system, patient_id))
    assert case["center_id"] == NANTOU
    assert case["case_manager_id"] in NANTOU_SOCIAL_WORKERS
    return patient_id, case


def record_visit(
    system: System,
    case_id: str,
    risk_level: int,
    visited_on: date,
    thread: UUID | None = None,
    user: str = CENTER_STAFF,
) -> dict[str, Any]:
    body = visit(risk_level) | {"visited_on": visited_on.isoformat()}
    headers = {"X-Correlation-ID": str(thread)} if thread else {}
    with system.client("casework", user) as casework:
        response = casework.post(f"/v1/cases/{case_id}/visits", json=body, headers=headers)
    assert response.status_code == 201, response.text
    recorded: dict[str, Any] = response.json()
    return recorded


@dataclass(frozen=True)
class Stay:
    referral_id: str
    admission_id: str


def hospital_takes_the_referral(
    system: System, patient_id: str, case_id: str, referral_id: str
) -> Stay:
    """The referral reaches the worklist; the hospital accepts it and admits the patient."""
    issued = eventually(lambda: worklist_entry(system, referral_id, "open"))
    assert (issued["patient_id"], issued["case_id"], issued["status"]) == (
        patient_id,
        case_id,
        "issued",
    )
    assert (issued["from_center_id"], issued["reason"], issued["risk_level"]) == (NANTOU, "risk", 4)
    assert saga_reaches(system, referral_id, "issued")

    with system.client("intake", CLINICIAN) as intake:
        accepted = intake.post(
            f"/v1/referrals/{referral_id}/accept", json={"hospital_id": HOSPITAL}
        )
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["status"] == "accepted"
        assert saga_reaches(system, referral_id, "accepted")
        admitted = intake.post(
            f"/v1/patients/{patient_id}/admissions",
            json={"hospital_id": HOSPITAL, "referral_id": referral_id},
        )
        assert admitted.status_code == 201, admitted.text
    # the worklist is a read model that follows intake's log: it shows the stay shortly after
    assert eventually(lambda: worklist_entry(system, referral_id, "admitted"))
    assert worklist_entry(system, referral_id, "open") is None  # no longer to be expected
    assert saga_reaches(system, referral_id, "admitted")
    return Stay(referral_id, admitted.json()["admission_id"])


def hospital_discharges(system: System, patient_id: str, stay: Stay) -> None:
    with system.client("intake", CLINICIAN) as intake:
        discharged = intake.post(
            f"/v1/patients/{patient_id}/discharge", json={"hospital_id": HOSPITAL}
        )
    assert discharged.status_code == 200, discharged.text
    assert discharged.json() == {
        "patient_id": patient_id,
        "admission_id": stay.admission_id,
        "referral_id": stay.referral_id,
    }
    assert saga_reaches(system, stay.referral_id, "discharged")


def move_to_shekou(system: System, patient_id: str, moved_on: date, thread: UUID) -> None:
    with system.client("routing", CENTER_STAFF) as routing:
        moved = routing.post(
            f"/v1/routes/{patient_id}/residence",
            json={"region_code": SHEKOU_REGION, "moved_on": moved_on.isoformat()},
            headers={"X-Correlation-ID": str(thread)},
        )
    assert moved.status_code == 202, moved.text
    assert moved.json() == {"outcome": "transferred", "center_id": SHEKOU}


def cases_after_the_move(
    system: System, patient_id: str, old_case_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The closed case at Nantou and the active one at Shekou that continues it."""

    def old_and_new() -> tuple[dict[str, Any], dict[str, Any]] | None:
        cases = cases_of(system, patient_id)
        new = [c for c in cases if c["case_id"] != old_case_id and c["case_manager_id"]]
        old = [c for c in cases if c["case_id"] == old_case_id]
        return (old[0], new[0]) if len(cases) == 2 and new else None

    old, new = eventually(old_and_new)
    assert [old["status"], new["status"]] == ["closed", "active"]  # exactly one active case
    assert (new["center_id"], new["transferred_from_case_id"]) == (SHEKOU, old_case_id)
    assert (new["category"], new["risk_level"]) == (old["category"], old["risk_level"])
    assert new["case_manager_id"] in SHEKOU_SOCIAL_WORKERS
    with system.client("casework", SHEKOU_STAFF) as casework:
        team = casework.get(f"/v1/patients/{patient_id}/care-team").json()
    assert [(m["member_id"], m["role"]) for m in team["members"]] == [
        (new["case_manager_id"], "case_manager")
    ]
    return old, new


# -- risk-4 visit -> referral -> admission -> discharge -> follow-up -----------------------


def test_a_risk_4_visit_refers_the_patient_and_the_case_resumes_within_2_weeks_of_discharge(
    system: System,
) -> None:
    patient_id, case = routed_patient_with_case_manager(system, serial=2000)
    case_id, manager = case["case_id"], case["case_manager_id"]
    today = china_today()

    thread = uuid4()
    recorded = record_visit(system, case_id, 4, visited_on=today, thread=thread)
    assert recorded["classification"] == "unstable"
    assert recorded["next_follow_up_due"] == days_from(today, 14)  # 2 weeks after the visit
    referral_id = recorded["referral_id"]
    assert referral_id is not None

    stay = hospital_takes_the_referral(system, patient_id, case_id, referral_id)

    # in hospital the case pauses: it keeps its referral and nothing new is asked of it
    in_hospital = eventually(lambda: only_case(system, patient_id, status="in_hospital"))
    assert in_hospital["next_follow_up_due"] == days_from(today, 14)
    assert in_hospital["open_referral_id"] == referral_id
    system.wait_until_consumed("casework", ["routing", "intake"])
    assert kinds(events(system, "casework", patient_id)) == [
        "CaseOpened",
        "CaseManagerAssigned",
        "CareTeamMemberJoined",
        "VisitCompleted",
        "ReferralRequested",
    ]

    hospital_discharges(system, patient_id, stay)
    resumed = eventually(lambda: only_case(system, patient_id, status="active"))
    assert resumed["next_follow_up_due"] == days_from(today, 14)  # discharged today + 2 weeks
    assert resumed["open_referral_id"] is None

    casework_events = at_least(system, "casework", patient_id, 6)
    assert kinds(casework_events) == [
        "CaseOpened",
        "CaseManagerAssigned",
        "CareTeamMemberJoined",
        "VisitCompleted",
        "ReferralRequested",
        "FollowUpScheduled",
    ]
    routing_events = events(system, "routing", patient_id)
    assert kinds(routing_events) == ["PatientRouted", "ReferralIssued"]
    intake_events = events(system, "intake", patient_id)
    assert kinds(intake_events) == [
        "DiagnosisRecorded",
        "ContactDetailsShared",
        "ReferralAccepted",
        "PatientAdmitted",
        "PatientDischarged",
    ]
    requested, issued, scheduled = casework_events[4], routing_events[1], casework_events[5]
    accepted, admitted, discharged = intake_events[2:]
    referral = UUID(referral_id)
    assert requested.data.referral_id == issued.data.referral_id == referral
    assert (issued.data.hospital_id, str(issued.data.case_id)) == (HOSPITAL, case_id)
    assert accepted.data.referral_id == admitted.data.referral_id == referral
    assert discharged.data.referral_id == referral
    assert discharged.data.discharged_on == today
    assert scheduled.data.due_on == discharged.data.discharged_on + timedelta(days=14)
    assert str(scheduled.data.case_id) == case_id
    # one thread: the visit's correlation id reaches the hospital; each hop names its cause
    assert requested.correlation_id == issued.correlation_id == thread
    assert issued.causation_id == requested.event_id
    assert scheduled.causation_id == discharged.event_id
    assert scheduled.correlation_id == discharged.correlation_id

    expected = Counter(
        {
            (f"center:{NANTOU}", "PatientRouted"): 1,
            (f"staff:{manager}", "CaseManagerAssigned"): 1,
            (f"staff:{manager}", "VisitCompleted"): 1,
            (f"role:{NANTOU}/community_doctor", "VisitCompleted"): 1,
            (f"role:{HOSPITAL}/clinician", "ReferralIssued"): 1,
            (f"staff:{manager}", "PatientAdmitted"): 1,
            (f"staff:{manager}", "PatientDischarged"): 1,
            (f"staff:{manager}", "FollowUpScheduled"): 1,
        }
    )
    assert everyone_told(system, patient_id, expected) == expected
    manager_inbox = {
        i["about_event_type"]: i for i in inbox(system, f"staff:{manager}", patient_id)
    }
    assert len(manager_inbox) == 5
    for about in (admitted, discharged, scheduled):
        assert manager_inbox[about.event_type]["about_event_id"] == str(about.event_id)
    assert manager_inbox["FollowUpScheduled"]["dates"]["due_on"] == days_from(today, 14)


# -- a transfer between two centers ----------------------------------------------------------


def test_a_move_to_another_catchment_transfers_the_case_with_its_history(system: System) -> None:
    patient_id, old_case = routed_patient_with_case_manager(system, serial=2001)
    old_case_id, old_manager = old_case["case_id"], old_case["case_manager_id"]
    today = china_today()
    first_visit_due = days_from(today, 14)  # 2 weeks from the new center's receipt

    # basically stable at Nantou (risk 1): the next follow-up in 2 weeks
    recorded = record_visit(system, old_case_id, 1, visited_on=today)
    assert (recorded["classification"], recorded["next_follow_up_due"]) == (
        "basically_stable",
        days_from(today, 14),
    )

    thread = uuid4()
    move_to_shekou(system, patient_id, moved_on=today, thread=thread)
    with system.client("routing", SHEKOU_STAFF) as routing:
        # the route is a read model: it follows the 202 shortly, and Shekou's staff may read it
        # once their service's access graph has the transfer (a 404 until then)
        route = eventually(
            lambda: (r := routing.get(f"/v1/routes/{patient_id}").json()).get("center_id") == SHEKOU
            and r
        )
    assert (route["status"], route["region_code"], route["first_visit_due"]) == (
        "routed",
        SHEKOU_REGION,
        first_visit_due,
    )

    old, new = cases_after_the_move(system, patient_id, old_case_id)
    assert old["closed_reason"] == f"moved on {today}: transferred to {SHEKOU}"
    assert [v["visit_id"] for v in old["visits"]] == [recorded["visit_id"]]
    assert new["next_follow_up_due"] == first_visit_due
    new_manager = new["case_manager_id"]

    routing_events = at_least(system, "routing", patient_id, 2)
    assert kinds(routing_events) == ["PatientRouted", "PatientTransferred"]
    transferred = routing_events[1]
    assert (transferred.data.from_center_id, transferred.data.to_center_id) == (NANTOU, SHEKOU)
    assert (transferred.data.moved_on, transferred.data.first_visit_due.isoformat()) == (
        today,
        first_visit_due,
    )
    assert transferred.correlation_id == thread
    # each center gets the contact details sealed to its own case's key
    intake_events = at_least(system, "intake", patient_id, 3)
    assert kinds(intake_events) == [
        "DiagnosisRecorded",
        "ContactDetailsShared",
        "ContactDetailsShared",
    ]
    assert [(str(e.data.case_id), e.data.center_id) for e in intake_events[1:]] == [
        (old_case_id, NANTOU),
        (new["case_id"], SHEKOU),
    ]

    casework_events = at_least(system, "casework", patient_id, 9)
    assert kinds(casework_events) == [
        "CaseOpened",
        "CaseManagerAssigned",
        "CareTeamMemberJoined",
        "VisitCompleted",
        "CaseClosed",  # the old case closes first, in the same transaction ...
        "CaseOpened",  # ... as the new center's case opens
        "CaseManagerAssigned",
        "CareTeamMemberLeft",  # the old center's staff leave the care team
        "CareTeamMemberJoined",
    ]
    closed, opened, assigned, left, joined = casework_events[4:]
    assert (str(closed.data.case_id), closed.data.center_id) == (old_case_id, NANTOU)
    assert (closed.data.reason, str(closed.data.continued_by_case_id)) == (
        old["closed_reason"],
        new["case_id"],
    )
    assert (str(opened.data.case_id), str(opened.data.transferred_from_case_id)) == (
        new["case_id"],
        old_case_id,
    )
    assert (opened.data.center_id, opened.data.first_visit_due.isoformat()) == (
        SHEKOU,
        first_visit_due,
    )
    assert (assigned.data.center_id, assigned.data.case_manager_id) == (SHEKOU, new_manager)
    assert (left.data.member_id, left.data.role) == (old_manager, "case_manager")
    assert (joined.data.member_id, joined.data.role) == (new_manager, "case_manager")
    assert {(e.correlation_id, e.causation_id) for e in casework_events[4:]} == {
        (thread, transferred.event_id)
    }

    expected = Counter(
        {
            (f"center:{NANTOU}", "PatientRouted"): 1,
            (f"staff:{old_manager}", "CaseManagerAssigned"): 1,
            (f"center:{NANTOU}", "PatientTransferred"): 1,
            (f"center:{SHEKOU}", "PatientTransferred"): 1,
            (f"staff:{old_manager}", "CaseClosed"): 1,
            (f"staff:{new_manager}", "CaseManagerAssigned"): 1,
        }
    )
    assert everyone_told(system, patient_id, expected) == expected
    for recipient, about in [
        (f"center:{NANTOU}", transferred),
        (f"center:{SHEKOU}", transferred),
        (f"staff:{old_manager}", closed),
        (f"staff:{new_manager}", assigned),
    ]:
        ids = [
            i["about_event_id"]
            for i in inbox(system, recipient, patient_id)
            if i["about_event_type"] == about.event_type
        ]
        assert ids == [str(about.event_id)], recipient

    # the history carries over: still basically stable at the new center's first visit, the
    # rules ask a psychiatrist and set the next follow-up a month out, not 2 weeks
    again = record_visit(system, new["case_id"], 1, visited_on=today, user=SHEKOU_STAFF)
    assert (again["classification"], again["next_follow_up_due"]) == (
        "basically_stable",
        days_from(today, 30),
    )
    late_visit = visit(1) | {"visited_on": today.isoformat()}
    with system.client("casework", SHEKOU_STAFF) as casework:
        at_old_center = casework.post(f"/v1/cases/{old_case_id}/visits", json=late_visit)
    assert at_old_center.status_code == 409
    assert "the case is closed" in at_old_center.text
    with system.client("casework", CENTER_STAFF) as casework:  # Nantou let the patient go
        assert casework.post(f"/v1/cases/{old_case_id}/visits", json=late_visit).status_code == 404
