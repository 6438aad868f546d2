"""Recipient resolution: what notifications keeps of a patient's circle, event by event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from carenet_access.relations import CareNetwork, PatientRelations
from carenet_contracts import Envelope, parse_message
from carenet_notifications.domain import PatientCircle


def test_a_transfer_moves_the_center_and_the_case_manager_goes_with_their_closed_case() -> None:
    circle = PatientCircle(uuid4())
    case = uuid4()
    circle.case_opened(case, "CHC-NS-NANTOU")
    circle.case_manager_assigned(case, "CHC-NS-NANTOU", "SW-NS-LI")
    circle.transferred("CHC-NS-NANTOU", "CHC-NS-SHEKOU")
    # the outgoing case manager is still the one to hear of their case's closing
    assert (circle.view().center_id, circle.view().case_manager_id) == ("CHC-NS-SHEKOU", "SW-NS-LI")
    circle.case_closed(case)
    assert circle.view().case_manager_id is None


def test_a_transfer_arriving_after_the_new_case_changes_nothing() -> None:
    circle = PatientCircle(uuid4())
    new_case = uuid4()
    circle.case_manager_assigned(new_case, "CHC-NS-SHEKOU", "SW-NS-WANG")
    circle.transferred("CHC-NS-NANTOU", "CHC-NS-SHEKOU")
    assert circle.view().case_manager_id == "SW-NS-WANG"


def test_closing_the_current_case_clears_its_manager_and_team() -> None:
    circle = PatientCircle(uuid4())
    case = uuid4()
    circle.case_manager_assigned(case, "CHC-NS-NANTOU", "SW-NS-LI")
    circle.member_joined(case, "DR-NS-ZHAO", "community_doctor")
    circle.case_closed(case)
    view = circle.view()
    assert (view.case_manager_id, view.team_members()) == (None, [])


def test_a_member_who_left_is_no_longer_told() -> None:
    circle = PatientCircle(uuid4())
    case = uuid4()
    circle.member_joined(case, "PL-NS-WU", "police_liaison")
    circle.member_left("PL-NS-WU", "police_liaison")
    assert circle.view().team_members("police_liaison") == []


def test_withdrawn_consent_removes_the_relative_from_every_audience() -> None:
    circle = PatientCircle(uuid4())
    circle.family_linked("FM-1", ["visits"], ["VisitCompleted"])
    assert circle.view().family_notified_of("VisitCompleted") == ["FM-1"]
    circle.family_consent_withdrawn("FM-1")
    assert circle.view().family_notified_of("VisitCompleted") == []
    assert not circle.is_consented("FM-1")


# --- the circle and the access graph, folded from one pathway ----------------------------------

MESSAGES = Path(__file__).parents[3] / "contracts" / "tests" / "messages"
PATIENT = uuid4()
CASE = uuid4()


def event(event_type: str, **data: Any) -> Envelope[Any]:
    """The committed example of a contract, about PATIENT, with some fields changed."""
    raw = json.loads((MESSAGES / f"{event_type}.v1.json").read_text())
    raw["patient_id"] = str(PATIENT)
    raw["data"].update({k: str(v) if isinstance(v, UUID) else v for k, v in data.items()})
    return parse_message(json.dumps(raw).encode())


def consent(may_see: list[str]) -> dict[str, list[str]]:
    return {"may_see": may_see, "notified_of": ["VisitCompleted"]}


PATHWAY = (
    event("DiagnosisRecorded", hospital_id="H-A"),
    event("PatientRouted", center_id="CHC-A", diagnosing_hospital_id="H-A"),
    event("CaseOpened", case_id=CASE, center_id="CHC-A"),
    event("CaseManagerAssigned", case_id=CASE, center_id="CHC-A", case_manager_id="SW-1"),
    event("CareTeamMemberJoined", case_id=CASE, member_id="PL-7", role="police_liaison"),
    event("CareTeamMemberJoined", case_id=CASE, member_id="DR-3", role="community_doctor"),
    event("FamilyMemberLinked", case_id=CASE, member_id="FM-1", scope=consent(["visits"])),
    event("FamilyMemberLinked", case_id=CASE, member_id="FM-2", scope=consent(["risk"])),
    event("CareTeamMemberLeft", case_id=CASE, member_id="PL-7", role="police_liaison"),
    event("FamilyConsentWithdrawn", case_id=CASE, member_id="FM-1"),
    event("PatientTransferred", from_center_id="CHC-A", to_center_id="CHC-B"),
)


@pytest.mark.parametrize("told", range(len(PATHWAY) + 1))
def test_the_circle_and_the_access_graph_agree_on_who_surrounds_the_patient(told: int) -> None:
    """Where both keep the same fact, each step of a pathway leaves them alike: the center,
    the diagnosing hospital among those involved, the care team (with its case manager), and
    the relatives with consent and what they may see.

    Not once a case closes or two overlap (a transfer): the graph keeps every open case's team
    and consents, the circle the current case manager and every relative not withdrawn."""
    circle, network = PatientCircle(PATIENT), CareNetwork()
    for envelope in PATHWAY[:told]:
        circle.learn(envelope.data)
        network.apply(envelope)
    view, relations = circle.view(), network.relations(PATIENT) or PatientRelations()
    assert view.center_id == relations.center
    assert view.hospital_id is None or view.hospital_id in relations.hospitals
    manager = {view.case_manager_id} - {None}
    assert {*view.team_members(), *manager} == set().union(*relations.teams.values())
    relatives = set().union(*relations.family.values())
    assert {m: c.may_see for m, c in view.family.items()} == {
        m: relations.consented_parts(m) for m in relatives
    }
