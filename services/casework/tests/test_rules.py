"""The follow-up rule table, exhaustively: every classification branch and its interval."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from carenet_casework.rules import Rating, RuleSet, Symptoms, VisitFindings
from carenet_contracts import VisitClassification as C
from carenet_kit.rule_set import DEFAULT_RULE_SET_FILE

RULES = RuleSet.load()

GOOD = VisitFindings(
    risk_level=0,
    symptoms=Symptoms.ESSENTIALLY_GONE,
    insight=Rating.GOOD,
    social_functioning=Rating.FAIR,
    acute_adverse_reaction=False,
    serious_physical_illness=False,
)


def findings(**changes: object) -> VisitFindings:
    return VisitFindings(**{**GOOD.__dict__, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, C.STABLE),
        ({"insight": Rating.FAIR, "social_functioning": Rating.GOOD}, C.STABLE),
        ({"risk_level": 1}, C.BASICALLY_STABLE),
        ({"risk_level": 2}, C.BASICALLY_STABLE),
        ({"symptoms": Symptoms.PRESENT}, C.BASICALLY_STABLE),
        ({"insight": Rating.POOR}, C.BASICALLY_STABLE),
        ({"social_functioning": Rating.POOR}, C.BASICALLY_STABLE),
        ({"social_functioning": Rating.NONE}, C.BASICALLY_STABLE),
        ({"risk_level": 3}, C.UNSTABLE),
        ({"risk_level": 4}, C.UNSTABLE),
        ({"risk_level": 5}, C.UNSTABLE),
        ({"symptoms": Symptoms.OBVIOUS}, C.UNSTABLE),
        ({"insight": Rating.NONE}, C.UNSTABLE),
        ({"acute_adverse_reaction": True}, C.UNSTABLE),
        ({"serious_physical_illness": True}, C.UNSTABLE),
        ({"risk_level": 2, "insight": Rating.NONE}, C.UNSTABLE),
    ],
)
def test_classification_follows_the_rule_table(changes: dict[str, object], expected: C) -> None:
    assert RULES.classify(findings(**changes)) == expected


VISITED = date(2026, 11, 2)


@pytest.mark.parametrize(
    ("classification", "previous", "due"),
    [
        (C.UNSTABLE, None, date(2026, 11, 16)),  # 2 weeks
        (C.UNSTABLE, C.STABLE, date(2026, 11, 16)),
        (C.UNSTABLE, C.UNSTABLE, date(2026, 11, 16)),
        (C.BASICALLY_STABLE, None, date(2026, 11, 16)),  # 2 weeks
        (C.BASICALLY_STABLE, C.STABLE, date(2026, 11, 16)),
        (C.BASICALLY_STABLE, C.UNSTABLE, date(2026, 11, 16)),
        (C.BASICALLY_STABLE, C.BASICALLY_STABLE, date(2026, 12, 2)),  # not stabilised: 1 month
        (C.STABLE, None, date(2027, 2, 1)),  # 3 months
        (C.STABLE, C.BASICALLY_STABLE, date(2027, 2, 1)),  # stabilised: 3 months
        (C.STABLE, C.UNSTABLE, date(2027, 2, 1)),
    ],
)
def test_follow_up_intervals(classification: C, previous: C | None, due: date) -> None:
    assert RULES.next_follow_up(classification, VISITED, previous) == due


@pytest.mark.parametrize(
    ("classification", "risk", "refers"),
    [
        (C.STABLE, 0, False),
        (C.BASICALLY_STABLE, 2, False),
        (C.UNSTABLE, 0, True),
        (C.UNSTABLE, 4, True),
    ],
)
def test_unstable_or_risk_three_asks_for_a_referral(
    classification: C, risk: int, refers: bool
) -> None:
    assert RULES.asks_for_referral(classification, risk) is refers


def test_a_region_replaces_the_intervals_and_its_decisions_say_so(tmp_path: Path) -> None:
    regional = DEFAULT_RULE_SET_FILE.read_text().replace("stable: 91", "stable: 60")
    regional = regional.replace("version: nhc-2018/4", "version: sz-nanshan-2026/1")
    (tmp_path / "rules.yaml").write_text(regional)
    rules = RuleSet.load(tmp_path / "rules.yaml")
    assert rules.version == "sz-nanshan-2026/1"
    assert rules.next_follow_up(C.STABLE, VISITED, None) == date(2027, 1, 1)


def test_a_rule_set_with_an_unknown_entry_is_refused(tmp_path: Path) -> None:
    misspelt = DEFAULT_RULE_SET_FILE.read_text().replace("refer_from_risk:", "surprise:")
    (tmp_path / "rules.yaml").write_text(misspelt)
    with pytest.raises(ValueError, match="surprise"):
        RuleSet.load(tmp_path / "rules.yaml")
