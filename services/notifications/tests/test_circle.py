"""Recipient resolution: what notifications keeps of a patient's circle, event by event."""

from __future__ import annotations

from uuid import uuid4

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
