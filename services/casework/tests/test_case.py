"""A case's follow-up, deadlines, referrals and emergencies, given / when / then."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from carenet_casework.domain import Case, CaseConflict, Caseload, Emergency, Visit
from carenet_casework.domain.case_deadlines import FollowUpMissed, LostToFollowUp, YearChecked
from carenet_casework.domain.case_referrals import (
    JointFollowUpScheduled,
    ReferralRequested,
    ResumedAfterDischarge,
)
from carenet_casework.domain.case_visits import EmergencyRecorded, VisitRecorded
from carenet_casework.rules import Rating, RuleSet, Symptoms, VisitFindings
from carenet_contracts import VisitClassification as C

RULES = RuleSet.load()
OPENED = date(2026, 1, 5)
FIRST_DUE = date(2026, 1, 19)


def stable(risk_level: int = 0) -> VisitFindings:
    return VisitFindings(
        risk_level, Symptoms.ESSENTIALLY_GONE, Rating.GOOD, Rating.GOOD, False, False
    )


def a_case() -> Case:
    case = Case(uuid4(), "CHC-A", "H-1", "schizophrenia", 1, FIRST_DUE, OPENED)
    case.assign_manager("SW-1", reason="fewest active cases")
    return case


def visit(on: date, findings: VisitFindings | None = None) -> Visit:
    return Visit(uuid4(), on, "home", "patient", findings or stable(), "regular")


def new_events(case: Case) -> list[object]:
    return list(case.collect_events())


def test_an_unstable_visit_is_due_in_two_weeks_and_asks_for_a_referral_under_its_rule_set() -> None:
    case = a_case()
    new_events(case)
    assert case.record_visit(visit(date(2026, 1, 10), stable(risk_level=4)), RULES) == C.UNSTABLE
    recorded, referral = new_events(case)
    assert isinstance(recorded, VisitRecorded)
    assert (recorded.next_follow_up_due, recorded.rule_set_version) == (
        date(2026, 1, 24),
        "nhc-2018/4",
    )
    assert isinstance(referral, ReferralRequested)
    assert (referral.reason, referral.risk_level) == ("risk", 4)


def test_only_one_referral_is_open_at_a_time() -> None:
    case = a_case()
    case.record_visit(visit(date(2026, 1, 10), stable(risk_level=4)), RULES)
    new_events(case)
    case.record_visit(visit(date(2026, 1, 20), stable(risk_level=5)), RULES)
    assert [type(e) for e in new_events(case)] == [VisitRecorded]


def test_a_visit_needs_a_case_manager() -> None:
    case = Case(uuid4(), "CHC-A", "H-1", "schizophrenia", 1, FIRST_DUE, OPENED)
    with pytest.raises(CaseConflict, match="no case manager"):
        case.record_visit(visit(date(2026, 1, 10)), RULES)


def test_nothing_is_due_on_the_due_day_itself() -> None:
    case = a_case()
    new_events(case)
    assert case.handle_deadlines(FIRST_DUE, RULES) is False
    assert new_events(case) == []


def test_a_missed_first_visit_is_recorded_once_and_rescheduled() -> None:
    case = a_case()
    new_events(case)
    assert case.handle_deadlines(FIRST_DUE + timedelta(days=1), RULES)
    (missed,) = new_events(case)
    assert isinstance(missed, FollowUpMissed)
    assert (missed.first_visit, missed.due_on, missed.rescheduled_to) == (
        True,
        FIRST_DUE,
        FIRST_DUE + timedelta(days=14),
    )
    assert case.handle_deadlines(FIRST_DUE + timedelta(days=2), RULES) is False


def test_three_consecutive_misses_make_the_patient_lost_to_follow_up_once() -> None:
    case = a_case()
    new_events(case)
    case.handle_deadlines(date(2026, 3, 1), RULES)  # a scheduler that was down for weeks
    events = new_events(case)
    misses = [e for e in events if isinstance(e, FollowUpMissed)]
    lost = [e for e in events if isinstance(e, LostToFollowUp)]
    assert [m.due_on for m in misses] == [date(2026, 1, 19), date(2026, 2, 2), date(2026, 2, 16)]
    assert [m.consecutive_misses for m in misses] == [1, 2, 3]
    assert [m.first_visit for m in misses] == [True, False, False]
    assert [lost_event.missed_due_dates for lost_event in lost] == [[m.due_on for m in misses]]
    assert case.handle_deadlines(date(2026, 6, 1), RULES) is False


def test_a_visit_ends_the_streak_of_misses() -> None:
    case = a_case()
    case.handle_deadlines(FIRST_DUE + timedelta(days=1), RULES)
    case.record_visit(visit(date(2026, 1, 25)), RULES)
    new_events(case)
    case.handle_deadlines(date(2026, 4, 27), RULES)  # due 2026-04-26 (3 months), missed
    (missed,) = new_events(case)
    assert isinstance(missed, FollowUpMissed)
    assert (missed.consecutive_misses, missed.first_visit) == (1, False)


def test_the_yearly_check_counts_the_follow_ups_of_the_case_year() -> None:
    case = a_case()
    for day in (date(2026, 1, 10), date(2026, 4, 10), date(2026, 7, 10)):
        case.record_visit(visit(day), RULES)
    case.record_visit(visit(date(2027, 1, 5)), RULES)  # the next case year
    new_events(case)
    case.handle_deadlines(date(2027, 1, 6), RULES)
    (check,) = [e for e in new_events(case) if isinstance(e, YearChecked)]
    assert (check.year_from, check.year_to, check.follow_ups, check.below_minimum) == (
        OPENED,
        date(2027, 1, 5),
        3,
        True,
    )


def test_in_hospital_no_follow_up_is_missed_and_discharge_resumes_within_two_weeks() -> None:
    case = a_case()
    admission = uuid4()
    assert case.admitted(admission, "H-1", date(2026, 1, 12), RULES)
    new_events(case)
    assert case.handle_deadlines(date(2026, 3, 1), RULES) is False
    assert case.discharged(admission, date(2026, 3, 2), RULES)
    (resumed,) = new_events(case)
    assert isinstance(resumed, ResumedAfterDischarge)
    assert resumed.due_on == date(2026, 3, 16)


def test_an_emergency_recorded_after_24_hours_is_late_and_refers_the_patient() -> None:
    case = a_case()
    new_events(case)
    began = datetime(2026, 1, 20, 22, 0, tzinfo=UTC)
    emergency = Emergency(uuid4(), "self_harm", began, "SW-1", "accompanied to the ER")
    assert case.record_emergency(emergency, began + timedelta(hours=25), RULES) is True
    recorded, referral = new_events(case)
    assert isinstance(recorded, EmergencyRecorded)
    assert isinstance(referral, ReferralRequested)
    assert referral.reason == "emergency"


def test_a_referral_cannot_be_withdrawn_once_the_patient_is_admitted() -> None:
    case = a_case()
    case.record_visit(visit(date(2026, 1, 10), stable(risk_level=3)), RULES)
    assert case.open_referral_id is not None
    case.admitted(uuid4(), "H-1", date(2026, 1, 11), RULES)
    with pytest.raises(CaseConflict, match="admitted"):
        case.withdraw_referral(case.open_referral_id, "withdrawn")


def test_a_referral_ended_without_admission_asks_for_a_joint_follow_up_and_allows_another() -> None:
    case = a_case()
    case.record_visit(visit(date(2026, 1, 10), stable(risk_level=4)), RULES)
    referral_id = case.open_referral_id
    assert referral_id is not None
    new_events(case)
    assert not case.referral_not_admitted(
        uuid4(), "declined by H-1: no bed", date(2026, 1, 11), RULES
    )
    assert case.referral_not_admitted(
        referral_id, "declined by H-1: no bed", date(2026, 1, 11), RULES
    )
    (joint,) = new_events(case)
    assert isinstance(joint, JointFollowUpScheduled)
    assert joint.due_on == date(2026, 1, 24)  # the unstable visit's date stands: it is earlier
    case.record_visit(visit(date(2026, 1, 20), stable(risk_level=4)), RULES)
    assert [type(e) for e in new_events(case)] == [VisitRecorded, ReferralRequested]


def test_the_case_manager_is_the_social_worker_with_the_fewest_active_cases() -> None:
    caseload = Caseload("CHC-A", ["SW-1", "SW-2", "SW-3"])
    chosen = [caseload.choose_case_manager(uuid4()) for _ in range(4)]
    # all equal: ties go to the one longest since last assigned (never assigned first)
    assert chosen == ["SW-1", "SW-2", "SW-3", "SW-1"]


def test_ties_go_to_the_worker_longest_since_last_assignment() -> None:
    caseload = Caseload("CHC-A", ["SW-1", "SW-2"])
    caseload.active_cases.update({"SW-1": 2, "SW-2": 2})
    caseload.last_assigned.update({"SW-1": 7, "SW-2": 3})
    assert caseload.choose_case_manager(uuid4()) == "SW-2"


def test_a_social_worker_who_left_the_roster_is_no_longer_chosen() -> None:
    caseload = Caseload("CHC-A", ["SW-1", "SW-2"])
    caseload.update_roster(["SW-2", "SW-3"])
    assert {caseload.choose_case_manager(uuid4()) for _ in range(4)} == {"SW-2", "SW-3"}


def test_a_center_without_social_workers_assigns_nobody() -> None:
    assert Caseload("CHC-EMPTY", []).choose_case_manager(uuid4()) is None
