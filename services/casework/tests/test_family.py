"""Family consent and what a relative may see, given / when / then."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import uuid4

import pytest

from carenet_casework.domain import Family
from carenet_casework.domain.errors import (
    AlreadyRecorded,
    NotRecorded,
    RuleBroken,
)
from carenet_casework.domain.family import (
    NOTIFIABLE_EVENT_TYPES,
    ConsentGiver,
    Relationship,
    Scope,
    Withdrawer,
)
from carenet_contracts.registry import CONTRACTS
from carenet_kit.plausibility import Implausible

from .conftest import Casework

EVERYTHING = Scope(("appointments", "visits", "risk"), ("VisitCompleted",))
TODAY = date(2026, 11, 2)


def link(
    family: Family,
    member: str,
    *,
    guardian: bool = False,
    by: str = "patient",
    on: date = TODAY,
) -> None:
    family.link(uuid4(), member, Relationship.PARENT, guardian, ConsentGiver(by), EVERYTHING, on)


def test_a_relative_is_linked_once_until_the_consent_is_withdrawn() -> None:
    given = Family(uuid4())
    link(given, "m-1")
    with pytest.raises(AlreadyRecorded):
        link(given, "m-1")
    given.withdraw(uuid4(), "m-1", Withdrawer.PATIENT, TODAY)
    link(given, "m-1")  # a new consent
    kinds = [type(e).__name__ for e in given.collect_events()]
    assert kinds == ["Started", "Linked", "ConsentWithdrawn", "Linked"]


def test_a_consent_entered_late_and_dated_before_the_withdrawal_does_not_grant_again() -> None:
    given = Family(uuid4())
    link(given, "m-1", on=TODAY - timedelta(days=20))
    given.withdraw(uuid4(), "m-1", Withdrawer.PATIENT, TODAY - timedelta(days=5))
    given.collect_events()
    with pytest.raises(Implausible, match="given_on must not be before the consent was"):
        link(given, "m-1", on=TODAY - timedelta(days=10))  # a form signed before the "no"
    assert given.consents == {}
    assert given.collect_events() == []
    link(given, "m-1", on=TODAY - timedelta(days=5))  # given again on the day or after: a new yes
    assert set(given.consents) == {"m-1"}


def test_a_withdrawal_cannot_be_dated_before_the_consent_it_withdraws() -> None:
    given = Family(uuid4())
    link(given, "m-1", on=TODAY - timedelta(days=3))
    with pytest.raises(Implausible, match="withdrawn_on must not be before the consent"):
        given.withdraw(uuid4(), "m-1", Withdrawer.RELATIVE, TODAY - timedelta(days=4))


def test_the_guardian_consents_for_others_only_once_linked() -> None:
    given = Family(uuid4())
    with pytest.raises(RuleBroken, match="linked guardian"):
        link(given, "m-1", by="guardian")
    link(given, "g-1", guardian=True, by="guardian")
    link(given, "m-1", by="guardian")
    assert set(given.consents) == {"g-1", "m-1"}


def test_a_consent_without_standing_cannot_be_withdrawn() -> None:
    with pytest.raises(NotRecorded):
        Family(uuid4()).withdraw(uuid4(), "m-1", Withdrawer.RELATIVE, TODAY)


@pytest.mark.parametrize(
    ("scope", "reason"),
    [
        (Scope(("diagnosis",), ()), "no such part of the record: diagnosis"),
        (Scope((), ("DiagnosisRecorded",)), "not an event a relative can be told about"),
    ],
)
def test_a_scope_names_only_known_parts_and_events(scope: Scope, reason: str) -> None:
    with pytest.raises(RuleBroken, match=reason):
        Family(uuid4()).link(
            uuid4(), "m", Relationship.SPOUSE, False, ConsentGiver.PATIENT, scope, TODAY
        )


def test_every_notifiable_event_type_is_a_published_contract() -> None:
    assert set(NOTIFIABLE_EVENT_TYPES) <= {event_type for event_type, _ in CONTRACTS}


def visit(risk_level: int) -> dict[str, Any]:
    return {
        "visited_on": "2026-11-02",
        "mode": "home",
        "seen": "patient",
        "risk_level": risk_level,
        "symptoms": "essentially_gone",
        "insight": "good",
        "social_functioning": "fair",
        "medication_adherence": "regular",
    }


def test_a_relative_sees_only_the_consented_parts_and_nothing_after_withdrawal(
    casework: Casework,
) -> None:
    case_id = casework.route("CHC-A")
    patient = casework.case(case_id).patient_id
    http = casework.http()
    assert http.post(f"/v1/cases/{case_id}/visits", json=visit(risk_level=1)).status_code == 201
    linked = http.post(
        f"/v1/patients/{patient}/family",
        json={
            "relationship": "parent",
            "consent_given_by": "patient",
            "scope": {"may_see": ["appointments", "visits"], "notified_of": ["VisitCompleted"]},
        },
    )
    assert linked.status_code == 201, linked.text
    member = linked.json()["member_id"]
    assert linked.json()["notification_recipient"] == f"family:{member}"

    view = http.get(f"/v1/patients/{patient}/family/{member}/view")
    assert view.status_code == 200, view.text
    assert view.json() == {
        "patient_id": str(patient),
        "member_id": member,
        "may_see": ["appointments", "visits"],
        "next_appointment": "2026-11-16",
        "visits": [{"visited_on": "2026-11-02", "classification": "basically_stable"}],
    }  # no risk level: not consented

    withdrawn = http.post(
        f"/v1/patients/{patient}/family/{member}/withdraw", json={"withdrawn_by": "patient"}
    )
    assert withdrawn.status_code == 204, withdrawn.text
    after = http.get(f"/v1/patients/{patient}/family/{member}/view")
    assert after.status_code == 404
    assert "next_appointment" not in after.text
    assert http.get(f"/v1/patients/{patient}/family/{uuid4()}/view").status_code == 404


def test_linking_and_withdrawing_move_the_relative_on_and_off_the_team(
    casework: Casework,
) -> None:
    patient = casework.case(casework.route("CHC-A")).patient_id
    http = casework.http()
    member = str(uuid4())
    body = {
        "member_id": member,
        "relationship": "spouse",
        "is_guardian": True,
        "consent_given_by": "guardian",
        "scope": {"may_see": ["risk"], "notified_of": ["EmergencyRecorded"]},
    }
    assert http.post(f"/v1/patients/{patient}/family", json=body).status_code == 201
    assert http.post(f"/v1/patients/{patient}/family", json=body).status_code == 409
    team = http.get(f"/v1/patients/{patient}/care-team").json()
    assert (member, "guardian") in {(m["member_id"], m["role"]) for m in team["members"]}

    http.post(f"/v1/patients/{patient}/family/{member}/withdraw", json={"withdrawn_by": "relative"})
    team = http.get(f"/v1/patients/{patient}/care-team").json()
    assert member not in {m["member_id"] for m in team["members"]}
    relatives = http.get(f"/v1/patients/{patient}/family").json()
    assert [(r["member_id"], r["withdrawn_by"]) for r in relatives] == [(member, "relative")]

    relinked = http.post(f"/v1/patients/{patient}/family", json=body)
    assert relinked.status_code == 201  # a new consent, the same pseudonym
    published = casework.published(patient)
    assert [m["event_type"] for m in published[3:]] == [
        "FamilyMemberLinked",
        "CareTeamMemberJoined",
        "FamilyConsentWithdrawn",
        "CareTeamMemberLeft",
        "FamilyMemberLinked",
        "CareTeamMemberJoined",
    ]
    linked = published[3]["data"]
    assert linked["member_id"] == member
    assert linked["scope"] == {"may_see": ["risk"], "notified_of": ["EmergencyRecorded"]}
    assert published[6]["data"]["reason"] == "consent_withdrawn"


def test_a_bad_scope_is_refused_with_the_reason(casework: Casework) -> None:
    patient = casework.case(casework.route("CHC-A")).patient_id
    response = casework.http().post(
        f"/v1/patients/{patient}/family",
        json={
            "relationship": "parent",
            "consent_given_by": "patient",
            "scope": {"may_see": ["diagnosis"]},
        },
    )
    assert response.status_code == 422
    assert "diagnosis" in response.json()["detail"]


def test_linking_needs_a_patient_with_a_case(casework: Casework) -> None:
    response = casework.http().post(
        f"/v1/patients/{uuid4()}/family",
        json={"relationship": "parent", "consent_given_by": "patient", "scope": {}},
    )
    assert response.status_code == 404
