"""One rule set for the network: every service reads its own section of one file, and a region's
file changes every service's decisions, each naming the region's version."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from uuid import uuid4

from carenet_casework.rules import RuleSet
from carenet_contracts import VisitClassification
from carenet_intake.rules import IntakeRules
from carenet_intake.workdays import WorkingDayCalendar
from carenet_kit.rule_set import DEFAULT_RULE_SET_FILE, RuleSection
from carenet_notifications.rules import RuleTable
from carenet_routing.domain import Directory, Route
from carenet_routing.rules import RoutingRules

REPOSITORY = Path(__file__).parents[2]
SECTIONS: tuple[type[RuleSection], ...] = (IntakeRules, RoutingRules, RuleSet, RuleTable)
MONDAY = date(2026, 11, 2)


def regional(tmp_path: Path) -> Path:
    """A region's rule set: other numbers, and a version of its own."""
    text = (REPOSITORY / DEFAULT_RULE_SET_FILE).read_text()
    for old, new in [
        ("version: nhc-2018/4", "version: sz-nanshan-2026/1"),
        ("reporting_working_days: 10", "reporting_working_days: 5"),
        ("first_visit_within_days: 14", "first_visit_within_days: 10"),
        ("stable: 91", "stable: 60"),
    ]:
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "sz-nanshan-2026.yaml"
    path.write_text(text)
    return path


def routed_under(rules: RoutingRules) -> Route.Routed:
    directory = Directory()
    directory.register_center("CHC-A", "A", ["440305001"], "OP-1")
    route = Route(uuid4(), "H-1", "schizophrenia", 1, "440305001")
    route.route_by_catchment(directory, MONDAY, rules)
    routed = route.collect_events()[-1]
    assert isinstance(routed, Route.Routed)
    return routed


def test_every_service_reads_its_section_under_one_version_and_one_time_zone() -> None:
    sections = [section.load(REPOSITORY / DEFAULT_RULE_SET_FILE) for section in SECTIONS]
    assert {(s.version, s.timezone) for s in sections} == {("nhc-2018/4", "Asia/Shanghai")}


def test_the_shipped_rules_are_those_of_the_national_standard() -> None:
    routed = routed_under(RoutingRules.load(REPOSITORY / DEFAULT_RULE_SET_FILE))
    assert (routed.first_visit_due, routed.rule_set_version) == (date(2026, 11, 16), "nhc-2018/4")


def test_a_regions_rule_set_changes_every_services_decisions_and_each_names_its_version(
    tmp_path: Path,
) -> None:
    path = regional(tmp_path)
    assert {section.load(path).version for section in SECTIONS} == {"sz-nanshan-2026/1"}

    routed = routed_under(RoutingRules.load(path))
    assert (routed.first_visit_due, routed.rule_set_version) == (
        date(2026, 11, 12),
        "sz-nanshan-2026/1",
    )
    reporting = IntakeRules.load(path).reporting_timeliness(
        MONDAY, MONDAY, WorkingDayCalendar("national")
    )
    assert reporting.deadline == date(2026, 11, 9)  # 5 working days, the weekend not counted
    follow_up = RuleSet.load(path).next_follow_up(VisitClassification.STABLE, MONDAY, None)
    assert follow_up == date(2027, 1, 1)


def test_the_centers_day_comes_from_the_rule_set() -> None:
    rules = RoutingRules.load(REPOSITORY / DEFAULT_RULE_SET_FILE)
    assert rules.local_date(datetime(2026, 11, 1, 16, 30, tzinfo=UTC)) == MONDAY
