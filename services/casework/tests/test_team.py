"""The care team and case-manager reassignment, given / when / then."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

import pytest

from carenet_casework.domain import CareTeam, Caseload
from carenet_casework.domain.errors import AlreadyRecorded, NotRecorded, RuleBroken
from carenet_casework.domain.team import LeaveReason, ReassignmentReason
from carenet_contracts.common import CareTeamRole as Role
from carenet_kit.outbox import Cause
from carenet_kit.refusals import Conflict, Refused

from .conftest import Casework, open_case


def new_team() -> CareTeam:
    team = CareTeam(uuid4(), uuid4(), "CHC-A")
    team.collect_events()
    return team


def test_a_member_holds_a_role_once() -> None:
    given = new_team()
    given.add_member("GW-7", Role.GRID_WORKER)
    with pytest.raises(AlreadyRecorded):
        given.add_member("GW-7", Role.GRID_WORKER)
    given.add_member("GW-7", Role.POLICE_LIAISON)  # another role is another membership
    assert given.holders(Role.GRID_WORKER) == ["GW-7"]
    assert given.holders(Role.POLICE_LIAISON) == ["GW-7"]


@pytest.mark.parametrize("role", [Role.CASE_MANAGER, Role.FAMILY_MEMBER, Role.GUARDIAN])
def test_roles_that_follow_from_another_fact_are_not_added_by_hand(role: Role) -> None:
    with pytest.raises(RuleBroken):
        new_team().add_member("X-1", role)


def test_leaving_records_the_reason_and_a_non_member_cannot_leave() -> None:
    given = new_team()
    given.add_member("DR-1", Role.COMMUNITY_DOCTOR)
    given.remove_member("DR-1", Role.COMMUNITY_DOCTOR, LeaveReason.LEFT_THE_ORGANISATION)
    then = given.collect_events()[-1]
    assert isinstance(then, CareTeam.MemberLeft)
    assert (then.member_id, then.role, then.reason) == (
        "DR-1",
        "community_doctor",
        "left_the_organisation",
    )
    with pytest.raises(NotRecorded):
        given.remove_member("DR-1", Role.COMMUNITY_DOCTOR, LeaveReason.STEPPED_DOWN)


def test_a_move_to_another_center_keeps_the_family_and_lets_local_staff_go() -> None:
    given = new_team()
    given.change_case_manager("SW-1", "fewest active cases")
    given.add_member("GW-7", Role.GRID_WORKER)
    given.join("fam-1", Role.GUARDIAN)
    given.follow_case(uuid4(), "CHC-B")
    assert given.members == {("fam-1", Role.GUARDIAN)}
    assert given.center_id == "CHC-B"


def test_opening_a_case_forms_the_team_with_its_case_manager(casework: Casework) -> None:
    case_id = casework.route("CHC-A")
    patient = casework.case(case_id).patient_id
    team: CareTeam = casework.app.repository.get(CareTeam.create_id(patient))
    assert team.case_id == case_id
    assert team.holders(Role.CASE_MANAGER) == ["SW-1"]
    assert casework.published_types(patient) == [
        "CaseOpened",
        "CaseManagerAssigned",
        "CareTeamMemberJoined",
    ]


def test_reassignment_moves_case_caseload_and_team_with_the_reason(casework: Casework) -> None:
    case_id = casework.route("CHC-A")
    patient = casework.case(case_id).patient_id

    previous = casework.app.reassign_case_manager(
        case_id, "SW-2", ReassignmentReason.LEAVE, Cause.request()
    )

    assert previous == "SW-1"
    assert casework.case(case_id).case_manager_id == "SW-2"
    caseload: Caseload = casework.app.repository.get(Caseload.create_id("CHC-A"))
    assert caseload.active_cases == {"SW-1": 0, "SW-2": 1}
    then = casework.published(patient)[-3:]
    assert [(m["event_type"], m["data"].get("member_id")) for m in then] == [
        ("CaseManagerAssigned", None),
        ("CareTeamMemberLeft", "SW-1"),
        ("CareTeamMemberJoined", "SW-2"),
    ]
    assert then[0]["data"]["previous_case_manager_id"] == "SW-1"
    assert then[0]["data"]["reason"] == then[1]["data"]["reason"] == "leave"


def test_the_new_case_manager_must_be_a_social_worker_of_the_center(casework: Casework) -> None:
    case_id = casework.route("CHC-A")
    with pytest.raises(Refused, match="not a social worker of CHC-A"):
        casework.app.reassign_case_manager(
            case_id, "SW-9", ReassignmentReason.CASELOAD, Cause.request()
        )
    with pytest.raises(Conflict, match="already the case manager"):
        casework.app.reassign_case_manager(
            case_id, "SW-1", ReassignmentReason.CASELOAD, Cause.request()
        )


def test_the_next_case_goes_to_the_worker_relieved_by_a_reassignment(casework: Casework) -> None:
    first = casework.route("CHC-A")  # SW-1
    casework.app.reassign_case_manager(first, "SW-2", ReassignmentReason.LEAVE, Cause.request())
    second = casework.route("CHC-A")
    assert casework.case(second).case_manager_id == "SW-1"


def test_team_members_are_added_and_removed_over_http(casework: Casework) -> None:
    patient = casework.case(casework.route("CHC-A")).patient_id
    http = casework.http()

    added = http.post(
        f"/v1/patients/{patient}/care-team", json={"member_id": "GW-7", "role": "grid_worker"}
    )
    assert added.status_code == 201, added.text
    again = http.post(
        f"/v1/patients/{patient}/care-team", json={"member_id": "GW-7", "role": "grid_worker"}
    )
    assert again.status_code == 409
    guardian = http.post(
        f"/v1/patients/{patient}/care-team", json={"member_id": "X", "role": "guardian"}
    )
    assert guardian.status_code == 422
    assert "consent" in guardian.json()["detail"]

    team = http.get(f"/v1/patients/{patient}/care-team").json()
    assert {(m["member_id"], m["role"]) for m in team["members"]} == {
        ("SW-1", "case_manager"),
        ("GW-7", "grid_worker"),
    }
    removed = http.delete(
        f"/v1/patients/{patient}/care-team/GW-7",
        params={"role": "grid_worker", "reason": "stepped_down"},
    )
    assert removed.status_code == 204, removed.text
    gone = http.delete(
        f"/v1/patients/{patient}/care-team/GW-7",
        params={"role": "grid_worker", "reason": "stepped_down"},
    )
    assert gone.status_code == 404
    assert http.get(f"/v1/patients/{uuid4()}/care-team").status_code == 404


def test_a_patient_without_a_case_has_no_team(casework: Casework) -> None:
    with pytest.raises(NotRecorded):
        casework.app.add_team_member(uuid4(), "GW-7", Role.GRID_WORKER, Cause.request())


def test_reassignment_over_http_answers_the_previous_manager(casework: Casework) -> None:
    case_id = casework.route("CHC-A")
    http = casework.http()
    body = {"case_manager_id": "SW-2", "reason": "caseload"}
    response = http.post(f"/v1/cases/{case_id}/case-manager", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["previous_case_manager_id"] == "SW-1"
    assert http.get(f"/v1/cases/{case_id}").json()["case_manager_id"] == "SW-2"
    assert http.post(f"/v1/cases/{uuid4()}/case-manager", json=body).status_code == 404
    bad = {"case_manager_id": "SW-2", "reason": "because"}
    assert http.post(f"/v1/cases/{case_id}/case-manager", json=bad).status_code == 422


def test_a_patient_routed_to_another_center_keeps_one_team_there(casework: Casework) -> None:
    first = casework.route("CHC-A")
    patient = casework.case(first).patient_id
    casework.app.add_team_member(patient, "GW-7", Role.GRID_WORKER, Cause.request())

    second = casework.route("CHC-B", patient_id=patient)

    team: CareTeam = casework.app.repository.get(CareTeam.create_id(patient))
    assert (team.case_id, team.center_id) == (second, "CHC-B")
    assert team.members == {("SW-9", Role.CASE_MANAGER)}
    left = [
        m["data"] for m in casework.published(patient) if m["event_type"] == "CareTeamMemberLeft"
    ]
    assert {(d["member_id"], d["case_id"], d["reason"]) for d in left} == {
        ("SW-1", str(first), "case_moved_to_another_center"),
        ("GW-7", str(first), "case_moved_to_another_center"),
    }


def test_the_case_manager_is_one_of_the_social_workers_routing_sent(casework: Casework) -> None:
    """Routing's directory is casework's only roster: each route carries the center's social
    workers; a route carrying none leaves the roster as the last one set it."""
    first = casework.route("CHC-A")
    assert casework.case(first).case_manager_id in {"SW-1", "SW-2"}

    directory_changed = replace(open_case(uuid4(), "CHC-A"), social_worker_ids=("SW-7",))
    casework.app.open_case(directory_changed, Cause.request())
    second = casework.app.active_case_id(directory_changed.patient_id)
    assert second is not None
    assert casework.case(second).case_manager_id == "SW-7"

    without_workers = replace(open_case(uuid4(), "CHC-A"), social_worker_ids=())
    casework.app.open_case(without_workers, Cause.request())
    third = casework.app.active_case_id(without_workers.patient_id)
    assert third is not None
    assert casework.case(third).case_manager_id == "SW-7"

    elsewhere = replace(open_case(uuid4(), "CHC-NEW"), social_worker_ids=())
    casework.app.open_case(elsewhere, Cause.request())
    nobody = casework.app.active_case_id(elsewhere.patient_id)
    assert nobody is not None
    assert casework.case(nobody).case_manager_id is None
