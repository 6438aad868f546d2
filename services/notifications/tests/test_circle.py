"""Recipient resolution: what notifications keeps of a patient's circle, event by event."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from carenet_access.relations import CareNetwork, PatientRelations
from carenet_contracts import Envelope, parse_message
from carenet_devtools.stored_events import as_stored_before
from carenet_notifications.domain import PatientCircle

HOUR = timedelta(hours=1)
AT_TEN = datetime(2026, 11, 22, 10, tzinfo=UTC)
AT_ELEVEN = AT_TEN + HOUR


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
    circle.family_linked("FM-1", ["visits"], ["VisitCompleted"], uuid4(), AT_TEN)
    assert circle.view().family_notified_of("VisitCompleted") == ["FM-1"]
    circle.family_consent_withdrawn("FM-1", AT_ELEVEN)
    assert circle.view().family_notified_of("VisitCompleted") == []
    assert not circle.is_consented("FM-1")


def test_a_consent_recorded_after_a_newer_withdrawal_tells_the_relative_nothing() -> None:
    circle = PatientCircle(uuid4())
    case = uuid4()
    circle.family_linked("FM-1", ["visits"], ["VisitCompleted"], case, AT_TEN)
    circle.family_consent_withdrawn("FM-1", AT_ELEVEN)
    circle.family_linked("FM-1", ["visits"], ["VisitCompleted"], case, AT_TEN)  # late record
    assert circle.view().family_notified_of("VisitCompleted") == []
    circle.family_linked("FM-1", ["visits"], ["VisitCompleted"], case, AT_ELEVEN + HOUR)
    assert circle.view().family_notified_of("VisitCompleted") == ["FM-1"]


def test_a_consent_ends_with_the_case_it_was_given_in() -> None:
    circle = PatientCircle(uuid4())
    old_case, new_case = uuid4(), uuid4()
    circle.family_linked("FM-1", ["visits"], ["VisitCompleted"], old_case, AT_TEN)
    circle.family_linked("FM-2", ["visits"], ["VisitCompleted"], new_case, AT_TEN)
    circle.case_closed(old_case)
    assert circle.view().family_notified_of("VisitCompleted") == ["FM-2"]


def replayed(*events: Any) -> PatientCircle:
    circle = None
    for domain_event in events:
        circle = domain_event.mutate(circle)
    assert isinstance(circle, PatientCircle)
    return circle


def test_a_consent_stored_without_case_nor_time_ends_with_the_next_case_closing() -> None:
    circle = PatientCircle(uuid4())
    circle.family_linked("FM-1", ["visits"], ["VisitCompleted"], uuid4(), AT_TEN)
    started, stored = circle.collect_events()
    restored = as_stored_before(stored, "case_id", "consented_at")
    assert isinstance(restored, PatientCircle.FamilyLinked)
    assert (restored.case_id, restored.consented_at) == (None, None)
    old = replayed(started, restored)
    assert old.view().family_notified_of("VisitCompleted") == ["FM-1"]
    old.case_closed(uuid4())
    assert old.view().family_notified_of("VisitCompleted") == []


def test_a_withdrawal_stored_without_its_time_counts_as_of_when_it_was_recorded() -> None:
    circle = PatientCircle(uuid4())
    circle.family_consent_withdrawn("FM-1", AT_TEN)
    started, stored = circle.collect_events()
    restored = as_stored_before(stored, "withdrawn_at")
    assert isinstance(restored, PatientCircle.FamilyConsentWithdrawn)
    assert restored.withdrawn_at == stored.timestamp
    old = replayed(started, restored)
    old.family_linked("FM-1", ["visits"], ["VisitCompleted"], uuid4(), stored.timestamp - HOUR)
    assert not old.is_consented("FM-1")
    # a consent of unknown time after a known withdrawal may be the older one
    old.family_linked("FM-1", ["visits"], ["VisitCompleted"], None, None)
    assert not old.is_consented("FM-1")


# --- the circle and the access graph, folded from one pathway ----------------------------------

MESSAGES = Path(__file__).parents[3] / "contracts" / "tests" / "messages"
PATIENT = uuid4()
CASE = uuid4()


def event(event_type: str, at: datetime = AT_TEN, **data: Any) -> Envelope[Any]:
    """The committed example of a contract, about PATIENT, happened `at`, with some fields
    changed."""
    raw = json.loads((MESSAGES / f"{event_type}.v1.json").read_text())
    raw["patient_id"] = str(PATIENT)
    raw["occurred_at"] = raw["recorded_at"] = at.isoformat()
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
    event("FamilyConsentWithdrawn", AT_ELEVEN, case_id=CASE, member_id="FM-1"),
    # recorded late, given before the withdrawal: grants nothing
    event(
        "FamilyMemberLinked", AT_TEN + HOUR / 2, case_id=CASE, member_id="FM-1", scope=consent([])
    ),
    event("PatientTransferred", from_center_id="CHC-A", to_center_id="CHC-B"),
)


@pytest.mark.parametrize("told", range(len(PATHWAY) + 1))
def test_the_circle_and_the_access_graph_agree_on_who_surrounds_the_patient(told: int) -> None:
    """Where both keep the same fact, each step of a pathway leaves them alike: the center,
    the diagnosing hospital among those involved, the care team (with its case manager), and
    the relatives with consent and what they may see.

    Not the team once a case closes or two overlap (a transfer): the graph keeps every open
    case's team, the circle the current case manager."""
    circle, network = PatientCircle(PATIENT), CareNetwork()
    for envelope in PATHWAY[:told]:
        circle.learn(envelope.data, envelope.occurred_at)
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


def test_once_the_case_closes_neither_keeps_its_relatives() -> None:
    """The center and case manager differ once the current case closes (see above); the
    relatives with consent do not."""
    circle, network = PatientCircle(PATIENT), CareNetwork()
    for envelope in (*PATHWAY, event("CaseClosed", AT_ELEVEN, case_id=CASE)):
        circle.learn(envelope.data, envelope.occurred_at)
        network.apply(envelope)
    relations = network.relations(PATIENT) or PatientRelations()
    assert circle.view().family == {} == relations.family
