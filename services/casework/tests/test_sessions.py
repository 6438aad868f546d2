"""Peer-support sessions and group activities, given / when / then."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from carenet_casework.domain import RehabilitationSession
from carenet_casework.domain.errors import RuleBroken
from carenet_casework.domain.sessions import SessionPlan
from carenet_contracts.casework import SessionKind

from .conftest import Casework

HELD_ON = date(2026, 11, 2)


def plan(
    kind: SessionKind = SessionKind.PEER_SUPPORT, topic: str = "social_skills", minutes: int = 60
) -> SessionPlan:
    return SessionPlan(uuid4(), "CHC-A", kind, topic, HELD_ON, minutes, "PS-3")


@pytest.mark.parametrize(
    ("kind", "topic", "minutes", "reason"),
    [
        (SessionKind.PEER_SUPPORT, "painting", 60, "not a peer_support topic"),
        (SessionKind.GROUP_ACTIVITY, "social_skills", 60, "not a group_activity topic"),
        (SessionKind.PEER_SUPPORT, "social_skills", 39, "40-120 minutes"),
        (SessionKind.PEER_SUPPORT, "social_skills", 121, "40-120 minutes"),
    ],
)
def test_a_session_keeps_to_the_topics_and_durations_of_its_kind(
    kind: SessionKind, topic: str, minutes: int, reason: str
) -> None:
    with pytest.raises(RuleBroken, match=reason):
        RehabilitationSession.hold(plan(kind, topic, minutes))


@pytest.mark.parametrize("minutes", [40, 120])
def test_peer_support_may_last_from_40_to_120_minutes(minutes: int) -> None:
    assert RehabilitationSession.hold(plan(minutes=minutes)).plan.duration_minutes == minutes


def test_each_attendee_is_recorded_once_with_the_sessions_details() -> None:
    given = RehabilitationSession.hold(plan(SessionKind.GROUP_ACTIVITY, "painting", 90))
    a, b = uuid4(), uuid4()
    assert given.record_attendance([a, a, b], today=HELD_ON) == [a, b]
    assert given.record_attendance([b], today=HELD_ON) == []
    then = given.collect_events()[1:]
    assert [(e.patient_id, e.topic, e.duration_minutes) for e in then] == [  # type: ignore[attr-defined]
        (a, "painting", 90),
        (b, "painting", 90),
    ]


def test_attendance_waits_until_the_session_has_taken_place() -> None:
    given = RehabilitationSession.hold(plan())
    with pytest.raises(RuleBroken, match="taken place"):
        given.record_attendance([uuid4()], today=HELD_ON - timedelta(days=1))


def test_attendance_reaches_each_patients_own_history(casework: Casework) -> None:
    first = casework.case(casework.route("CHC-A")).patient_id
    second = casework.case(casework.route("CHC-A")).patient_id
    http = casework.http()
    session = {
        "kind": "peer_support",
        "topic": "illness_knowledge",
        "held_on": "2026-11-02",
        "duration_minutes": 90,
        "facilitator_id": "PS-3",
        "attendees": [str(first)],
    }
    held = http.post("/v1/centers/CHC-A/sessions", json=session)
    assert held.status_code == 201, held.text
    session_id = held.json()["session_id"]

    later = http.post(
        f"/v1/sessions/{session_id}/attendance", json={"patient_ids": [str(first), str(second)]}
    )
    assert later.status_code == 200, later.text
    assert later.json()["recorded"] == [str(second)]
    assert later.json()["already_recorded"] == [str(first)]

    for patient in (first, second):
        history = http.get(f"/v1/patients/{patient}/sessions").json()
        assert [(s["session_id"], s["topic"]) for s in history] == [
            (session_id, "illness_knowledge")
        ]
        attended = casework.published(patient)[-1]
        assert attended["event_type"] == "RehabilitationSessionAttended"
        assert attended["patient_id"] == str(patient)
        assert attended["data"]["duration_minutes"] == 90
    assert http.get(f"/v1/sessions/{session_id}").json()["attendees"] == [
        str(first),
        str(second),
    ]


@pytest.mark.parametrize(
    ("path", "change", "status"),
    [
        ("/v1/centers/CHC-B/sessions", {}, 403),
        ("/v1/centers/CHC-A/sessions", {"topic": "karaoke"}, 422),
        ("/v1/centers/CHC-A/sessions", {"duration_minutes": 30}, 422),
        ("/v1/centers/CHC-A/sessions", {"attendees": [str(uuid4())]}, 422),
    ],
)
def test_a_session_that_breaks_a_rule_or_is_not_for_the_callers_center_is_refused(
    casework: Casework, path: str, change: dict[str, object], status: int
) -> None:
    body = {
        "kind": "peer_support",
        "topic": "social_skills",
        "held_on": "2026-11-02",
        "duration_minutes": 60,
        "facilitator_id": "PS-3",
        **change,
    }
    response = casework.http().post(path, json=body)
    assert response.status_code == status
    assert response.json()["detail"]


def test_a_session_at_a_center_casework_does_not_know_is_refused(casework: Casework) -> None:
    """Casework knows a center from routing: a patient was routed there (its caseload)."""
    casework.route("CHC-A")
    nowhere = casework.http(caller=("SW-X", "CHC-NOWHERE", "social_worker"))
    body = {
        "kind": "peer_support",
        "topic": "social_skills",
        "held_on": "2026-11-02",
        "duration_minutes": 60,
        "facilitator_id": "PS-3",
    }
    response = nowhere.post("/v1/centers/CHC-NOWHERE/sessions", json=body)
    assert response.status_code == 422
    assert "CHC-NOWHERE" in response.json()["detail"]


def test_a_retried_session_is_a_conflict_and_an_unknown_session_is_not_found(
    casework: Casework,
) -> None:
    casework.route("CHC-A")  # a center casework knows: routing sends patients there
    http = casework.http()
    body = {
        "session_id": str(uuid4()),
        "kind": "group_activity",
        "topic": "storytelling",
        "held_on": "2026-11-02",
        "duration_minutes": 60,
        "facilitator_id": "SW-1",
    }
    assert http.post("/v1/centers/CHC-A/sessions", json=body).status_code == 201
    assert http.post("/v1/centers/CHC-A/sessions", json=body).status_code == 409
    unknown = http.post(f"/v1/sessions/{uuid4()}/attendance", json={"patient_ids": [str(uuid4())]})
    assert unknown.status_code == 404


def test_a_prevention_activity_is_counted_at_its_center_without_persons(
    casework: Casework,
) -> None:
    casework.route("CHC-A")  # the center is one routing sends patients to
    activity = {
        "kind": "school_talk",
        "topic": "stress before the exams",
        "audience": "students",
        "held_on": "2026-10-30",
        "attendance": 120,
    }
    held = casework.http().post("/v1/centers/CHC-A/prevention-activities", json=activity)
    assert held.status_code == 201, held.text
    again = casework.http().post(
        "/v1/centers/CHC-A/prevention-activities",
        json=activity | {"activity_id": held.json()["activity_id"]},
    )
    assert again.status_code == 409  # the same activity twice is not counted twice
    ahead = casework.http().post(
        "/v1/centers/CHC-A/prevention-activities", json=activity | {"held_on": "2026-11-09"}
    )
    assert ahead.status_code == 422
    assert "held_on" in ahead.text
    listed = casework.http().get("/v1/centers/CHC-A/prevention-activities").json()
    assert [(a["kind"], a["attendance"]) for a in listed] == [("school_talk", 120)]
