"""Casework's rules, given / when / then."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from carenet_casework.domain import Case, Caseload, Visit
from carenet_casework.rules import Rating, Symptoms, VisitFindings, classify, next_follow_up
from carenet_contracts import VisitClassification as C

GOOD = VisitFindings(
    risk_level=0,
    symptoms=Symptoms.ESSENTIALLY_GONE,
    insight=Rating.GOOD,
    social_functioning=Rating.FAIR,
    acute_adverse_reaction=False,
    serious_physical_illness=False,
)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, C.STABLE),
        ({"risk_level": 1}, C.BASICALLY_STABLE),
        ({"risk_level": 2}, C.BASICALLY_STABLE),
        ({"insight": Rating.POOR}, C.BASICALLY_STABLE),
        ({"symptoms": Symptoms.PRESENT}, C.BASICALLY_STABLE),
        ({"social_functioning": Rating.POOR}, C.BASICALLY_STABLE),
        ({"risk_level": 3}, C.UNSTABLE),
        ({"risk_level": 5}, C.UNSTABLE),
        ({"symptoms": Symptoms.OBVIOUS}, C.UNSTABLE),
        ({"insight": Rating.NONE}, C.UNSTABLE),
        ({"acute_adverse_reaction": True}, C.UNSTABLE),
        ({"serious_physical_illness": True}, C.UNSTABLE),
    ],
)
def test_classification_follows_the_rule_table(changes: dict[str, object], expected: C) -> None:
    assert classify(VisitFindings(**{**GOOD.__dict__, **changes})) == expected


@pytest.mark.parametrize(
    ("classification", "previous", "due"),
    [
        (C.UNSTABLE, None, date(2026, 11, 16)),
        (C.BASICALLY_STABLE, None, date(2026, 11, 16)),
        (C.BASICALLY_STABLE, C.STABLE, date(2026, 11, 16)),
        (C.BASICALLY_STABLE, C.BASICALLY_STABLE, date(2026, 12, 2)),
        (C.STABLE, C.BASICALLY_STABLE, date(2027, 2, 1)),
    ],
)
def test_follow_up_intervals(classification: C, previous: C | None, due: date) -> None:
    assert next_follow_up(classification, date(2026, 11, 2), previous) == due


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


def test_a_center_without_social_workers_assigns_nobody() -> None:
    assert Caseload("CHC-EMPTY", []).choose_case_manager(uuid4()) is None


def test_an_unstable_visit_is_due_again_in_two_weeks_under_the_recorded_rule_set() -> None:
    given = Case(uuid4(), "CHC-A", "H-1", "schizophrenia", 1, date(2026, 11, 16))
    given.assign_manager("SW-1", reason="fewest active cases")
    when = Visit(
        uuid4(),
        date(2026, 11, 10),
        "home",
        "patient",
        GOOD.__class__(**{**GOOD.__dict__, "risk_level": 4}),
        "",
    )
    assert given.record_visit(when) == C.UNSTABLE
    then = given.collect_events()[-1]
    assert isinstance(then, Case.VisitRecorded)
    assert (then.classification, then.next_follow_up_due, then.rule_set_version) == (
        "unstable",
        date(2026, 11, 24),
        "nhc-2018/1",
    )


def test_a_visit_needs_a_case_manager() -> None:
    case = Case(uuid4(), "CHC-A", "H-1", "schizophrenia", 1, date(2026, 11, 16))
    with pytest.raises(ValueError, match="no case manager"):
        case.record_visit(Visit(uuid4(), date(2026, 11, 10), "home", "patient", GOOD, ""))
