"""Recording visits, emergencies and sessions over the API: which dates are refused, and how.

A refusal is the kit's 422 for an implausible value (`loc`, `msg`, `type: implausible.<rule>`):
it names the field and the rule and never echoes the date, which is personal data.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from fastapi.testclient import TestClient

from .conftest import Casework
from .test_family import visit


def refusal(response: Any, field: str) -> str:
    """The rule a 422 names for `field` (and that the refused value is not in the answer)."""
    assert response.status_code == 422, response.text
    (problem,) = response.json()["detail"]
    assert problem["loc"] == ["body", field]
    assert problem["type"].startswith("implausible.")
    rule: str = problem["msg"]
    return rule


def emergency(occurred_at: datetime) -> dict[str, str]:
    return {
        "kind": "relapse",
        "occurred_at": occurred_at.isoformat(),
        "handled_by": "SW-1",
        "handling": "accompanied to the clinic",
    }


def test_a_visit_dated_after_today_at_the_centers_is_refused(casework: Casework) -> None:
    case_id = casework.route("CHC-A")
    http = casework.http()
    tomorrow = casework.clock.now().date() + timedelta(days=1)
    refused = http.post(
        f"/v1/cases/{case_id}/visits", json=visit(1) | {"visited_on": str(tomorrow)}
    )
    assert refusal(refused, "visited_on") == "is in the future (clock tolerance 5 minutes)"
    assert str(tomorrow) not in refused.text
    assert casework.case(case_id).visits == []
    # a day later at the centers it is today, and the same visit is taken
    casework.clock.advance(timedelta(days=1))
    taken = http.post(f"/v1/cases/{case_id}/visits", json=visit(1) | {"visited_on": str(tomorrow)})
    assert taken.status_code == 201, taken.text


def test_a_visit_dated_before_the_case_opened_is_refused(casework: Casework) -> None:
    """Issue 14: a visit dated 1900-01-01 was taken, and set the next due day to 1900-01-15."""
    case_id = casework.route("CHC-A")
    http = casework.http()
    refused = http.post(f"/v1/cases/{case_id}/visits", json=visit(1) | {"visited_on": "1900-01-01"})
    assert refusal(refused, "visited_on") == "must not be before the case was opened"
    assert "1900" not in refused.text
    day_before = casework.case(case_id).opened_on - timedelta(days=1)
    refused = http.post(
        f"/v1/cases/{case_id}/visits", json=visit(1) | {"visited_on": str(day_before)}
    )
    assert refusal(refused, "visited_on") == "must not be before the case was opened"
    assert casework.case(case_id).visits == []


def test_a_client_clock_a_little_ahead_is_within_the_tolerance(casework: Casework) -> None:
    case_id = casework.route("CHC-A")
    http = casework.http()
    # 23:57 at the centers (UTC+8): a tablet already showing tomorrow is 3 minutes ahead
    casework.clock.advance(timedelta(hours=6, minutes=57))
    tomorrow = casework.clock.now().date() + timedelta(days=1)
    taken = http.post(f"/v1/cases/{case_id}/visits", json=visit(1) | {"visited_on": str(tomorrow)})
    assert taken.status_code == 201, taken.text


def test_an_emergency_in_the_future_or_before_the_case_is_refused(casework: Casework) -> None:
    case_id = casework.route("CHC-A")
    http = casework.http()
    now = casework.clock.now()
    path = f"/v1/cases/{case_id}/emergencies"
    ahead = http.post(path, json=emergency(now + timedelta(minutes=30)))
    assert refusal(ahead, "occurred_at").startswith("is in the future")
    before = http.post(path, json=emergency(now - timedelta(days=3650)))
    assert refusal(before, "occurred_at") == "must not be before the case was opened"
    assert casework.case(case_id).emergencies == []
    taken = http.post(path, json=emergency(now + timedelta(minutes=2)))  # a clock 2 min ahead
    assert taken.status_code == 201, taken.text


def test_a_session_more_than_a_year_away_is_refused(casework: Casework) -> None:
    casework.route("CHC-A")  # a center casework knows: routing sends patients there
    http: TestClient = casework.http()
    today = casework.clock.now().date()
    for held_on in ("1900-01-01", str(today + timedelta(days=400))):
        body = {
            "session_id": str(uuid4()),
            "kind": "peer_support",
            "topic": "social_skills",
            "held_on": held_on,
            "duration_minutes": 60,
            "facilitator_id": "PS-1",
        }
        refused = http.post("/v1/centers/CHC-A/sessions", json=body)
        assert refusal(refused, "held_on") == "must be within a year of today"
        assert held_on not in refused.text


def test_a_consent_dated_in_the_future_before_the_case_or_before_its_withdrawal_is_refused(
    casework: Casework,
) -> None:
    case_id = casework.route("CHC-A")
    patient = casework.case(case_id).patient_id
    http = casework.http()
    today = casework.clock.now().date()
    path = f"/v1/patients/{patient}/family"
    consent = {
        "member_id": str(uuid4()),
        "relationship": "parent",
        "consent_given_by": "patient",
        "scope": {"may_see": ["visits"], "notified_of": []},
    }
    ahead = http.post(path, json=consent | {"given_on": str(today + timedelta(days=30))})
    assert refusal(ahead, "given_on").startswith("is in the future")
    ancient = http.post(path, json=consent | {"given_on": "1900-01-01"})
    assert refusal(ancient, "given_on") == "must not be before the case was opened"

    casework.clock.advance(timedelta(days=10))
    signed = str(today + timedelta(days=2))  # a paper form, entered eight days later
    assert http.post(path, json=consent | {"given_on": signed}).status_code == 201
    (linked,) = [m for m in casework.published(patient) if m["event_type"] == "FamilyMemberLinked"]
    assert linked["occurred_at"].startswith(signed)  # the day it happened, recorded today
    withdraw = f"{path}/{consent['member_id']}/withdraw"
    too_early = http.post(withdraw, json={"withdrawn_by": "patient", "withdrawn_on": str(today)})
    assert refusal(too_early, "withdrawn_on") == "must not be before the consent was given"
    withdrawn_on = str(today + timedelta(days=6))
    no = http.post(withdraw, json={"withdrawn_by": "patient", "withdrawn_on": withdrawn_on})
    assert no.status_code == 204, no.text
    # an older "yes", entered after the "no", does not grant again
    older_yes = http.post(path, json=consent | {"given_on": str(today + timedelta(days=4))})
    assert refusal(older_yes, "given_on") == "must not be before the consent was withdrawn"
    assert casework.app.family_consent(patient, consent["member_id"]) is None


def test_attendance_counts_days_in_the_centers_calendar(casework: Casework) -> None:
    """01:00 at the centers is still the day before in UTC: today's session has taken place."""
    case_id = casework.route("CHC-A")
    patient = casework.case(case_id).patient_id
    casework.clock.advance(timedelta(hours=8))  # 2026-11-02 17:00 UTC, 2026-11-03 01:00 there
    body = {
        "kind": "peer_support",
        "topic": "social_skills",
        "held_on": "2026-11-03",
        "duration_minutes": 60,
        "facilitator_id": "PS-1",
        "attendees": [str(patient)],
    }
    held = casework.http().post("/v1/centers/CHC-A/sessions", json=body)
    assert held.status_code == 201, held.text
