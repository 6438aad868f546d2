"""The personal recovery plan: goals in the rule set's life domains, reviewed with a reason, revised
whole; a review that falls due is recorded once and reaches the case manager; a late review never
overrules a newer one; the plan's words stay in casework; relatives see the goals shared with
them, if their consent covers them."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from .conftest import Casework

TODAY = date(2026, 11, 2)  # the fixture's clock, at the centers


def goal(domain: str = "work_or_study", review_in_days: int = 60, **more: Any) -> dict[str, Any]:
    return {
        "domain": domain,
        "wants": "to work again, part time",
        "steps": ["employment training at the Disabled Persons' Federation"],
        "helpers": ["SW-1", "family"],
        "review_on": (TODAY + timedelta(days=review_in_days)).isoformat(),
        **more,
    }


def planned(casework: Casework, *goals: dict[str, Any]) -> tuple[UUID, dict[str, Any]]:
    patient = casework.case(casework.route("CHC-A")).patient_id
    agreed = casework.http().post(
        f"/v1/patients/{patient}/recovery-plan", json={"goals": list(goals) or [goal()]}
    )
    assert agreed.status_code == 201, agreed.text
    return patient, agreed.json()


def review(casework: Casework, patient: UUID, goal_id: str, **body: Any) -> Any:
    return casework.http().post(
        f"/v1/patients/{patient}/recovery-plan/goals/{goal_id}/reviews", json=body
    )


def due_now(casework: Casework, now: datetime) -> int:
    today = casework.app.rules.local_date(now)
    return casework.app.handle_reviews_due(casework.board().reviews_falling_due(today), now)


def test_a_plan_is_published_by_domain_and_date_without_its_words(casework: Casework) -> None:
    patient, plan = planned(casework, goal(), goal("housing", 90, shared_with_family=True))
    assert [g["progress"] for g in plan["goals"]] == ["not_started", "not_started"]
    assert plan["review_due"] == (TODAY + timedelta(days=60)).isoformat()
    [agreed] = [m for m in casework.published(patient) if m["event_type"] == "RecoveryPlanAgreed"]
    assert [g["domain"] for g in agreed["data"]["goals"]] == ["work_or_study", "housing"]
    assert "part time" not in str(agreed)
    assert "Federation" not in str(agreed)
    assert agreed["data"]["rule_set_version"] == casework.app.rules.version


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"domain": "astrology"}, "goals.domain: not a life domain of rule set"),
        ({"review_on": TODAY.isoformat()}, "goals.review_on: must be after the day it is set"),
        ({"review_on": (TODAY + timedelta(days=184)).isoformat()}, "the rule set's review period"),
    ],
)
def test_a_goal_outside_the_rules_is_refused_naming_the_field(
    casework: Casework, change: dict[str, Any], says: str
) -> None:
    patient = casework.case(casework.route("CHC-A")).patient_id
    refused = casework.http().post(
        f"/v1/patients/{patient}/recovery-plan", json={"goals": [goal() | change]}
    )
    assert refused.status_code == 422
    assert says in refused.text
    assert "RecoveryPlanAgreed" not in casework.published_types(patient)


def test_a_review_records_progress_and_a_late_one_never_overrules_a_newer(
    casework: Casework,
) -> None:
    patient, plan = planned(casework)
    goal_id = plan["goals"][0]["goal_id"]
    casework.clock.advance(timedelta(days=1))
    newer = review(
        casework,
        patient,
        goal_id,
        progress="in_progress",
        reason="two training sessions attended",
        next_review_on=(TODAY + timedelta(days=30)).isoformat(),
    )
    assert newer.status_code == 201, newer.text
    late = review(
        casework,
        patient,
        goal_id,
        progress="dropped",
        reason="entered late: the form of an earlier talk",
        reviewed_on=TODAY.isoformat(),
    )
    assert late.status_code == 201, late.text
    [current] = late.json()["goals"]
    tomorrow = TODAY + timedelta(days=1)
    assert (current["progress"], current["last_reviewed_on"]) == ("in_progress", str(tomorrow))
    assert [r["progress"] for r in late.json()["reviews"]] == ["in_progress", "dropped"]
    missing = review(casework, patient, goal_id, progress="in_progress", reason="going on")
    assert missing.status_code == 422
    assert "next_review_on: required while the goal is open" in missing.text


def test_a_review_falling_due_is_recorded_once_and_goes_to_the_case_manager(
    casework: Casework,
) -> None:
    patient, plan = planned(casework, goal(review_in_days=10), goal("housing", 40))
    assert due_now(casework, casework.clock.now() + timedelta(days=9)) == 0
    on_the_day = casework.clock.now() + timedelta(days=10)
    assert due_now(casework, on_the_day) == 1
    assert due_now(casework, on_the_day) == 0  # recorded once
    stale = [UUID(plan["plan_id"])]  # a second scheduler, or one reading a stale read model
    assert casework.app.handle_reviews_due(stale, on_the_day) == 0
    assert due_now(casework, on_the_day + timedelta(days=20)) == 0
    [due] = [m for m in casework.published(patient) if m["event_type"] == "RecoveryReviewDue"]
    assert due["data"]["goal_ids"] == [plan["goals"][0]["goal_id"]]
    assert due["data"]["case_manager_id"] == casework.case(UUID(plan["case_id"])).case_manager_id
    assert due_now(casework, on_the_day + timedelta(days=30)) == 1  # the housing goal's turn


def test_a_revision_keeps_the_progress_of_the_goals_it_keeps(casework: Casework) -> None:
    patient, plan = planned(casework)
    kept = plan["goals"][0]["goal_id"]
    review(
        casework,
        patient,
        kept,
        progress="achieved",
        reason="works three mornings a week",
    )
    revised = casework.http().put(
        f"/v1/patients/{patient}/recovery-plan",
        json={
            "reason": "a new goal after the job",
            "goals": [goal(goal_id=kept), goal("social_participation", 30)],
        },
    )
    assert revised.status_code == 200, revised.text
    assert revised.json()["revision"] == 2
    assert [g["progress"] for g in revised.json()["goals"]] == ["in_progress", "not_started"]
    assert "RecoveryPlanRevised" in casework.published_types(patient)
    casework.clock.advance(timedelta(days=5))

    def revised_on(day: date) -> Any:
        body = {"reason": "agreed again", "goals": [goal()], "agreed_on": day.isoformat()}
        return casework.http().put(f"/v1/patients/{patient}/recovery-plan", json=body)

    assert revised_on(TODAY + timedelta(days=3)).status_code == 200
    older = revised_on(TODAY + timedelta(days=1))  # entered late, after a newer revision
    assert older.status_code == 422
    assert "revised_on: must not be before the agreement in force" in older.text


def test_a_relative_sees_only_the_shared_goals_and_only_with_consent(casework: Casework) -> None:
    patient, _ = planned(casework, goal(), goal("housing", 90, shared_with_family=True))
    views = {}
    for may_see in (["appointments"], ["recovery_goals"]):
        linked = casework.http().post(
            f"/v1/patients/{patient}/family",
            json={
                "relationship": "parent",
                "consent_given_by": "patient",
                "scope": {"may_see": may_see, "notified_of": []},
            },
        )
        assert linked.status_code == 201, linked.text
        member = linked.json()["member_id"]
        views[may_see[0]] = (
            casework.http().get(f"/v1/patients/{patient}/family/{member}/view").json()
        )
    assert "recovery_goals" not in views["appointments"]
    assert [g["domain"] for g in views["recovery_goals"]["recovery_goals"]] == ["housing"]


def test_no_plan_without_an_active_case_and_one_plan_per_case(casework: Casework) -> None:
    nobody = casework.http().post(f"/v1/patients/{uuid4()}/recovery-plan", json={"goals": [goal()]})
    assert nobody.status_code == 404
    patient, _ = planned(casework)
    again = casework.http().post(f"/v1/patients/{patient}/recovery-plan", json={"goals": [goal()]})
    assert again.status_code == 409
