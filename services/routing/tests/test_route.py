"""Routes and transfers, given / when / then."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from uuid import uuid4

import pytest

from carenet_kit.plausibility import Implausible
from carenet_routing.domain import Conflict, Directory, Route, StaffRole
from carenet_routing.rules import RoutingRules

OP = "OP-1"
RULES = RoutingRules.load()
TODAY = date(2026, 11, 2)


def morning_of(day: date) -> datetime:
    """09:00 in China (01:00 UTC) on that day."""
    return datetime.combine(day, time(1), tzinfo=UTC)


NOW = morning_of(TODAY)


def directory() -> Directory:
    d = Directory()
    d.register_center("CHC-A", "A", ["440305001", "440305002"], OP)
    d.register_center("CHC-B", "B", ["440306"], OP)
    d.staff_joined("CHC-B", "SW-B1", StaffRole.SOCIAL_WORKER, OP)
    return d


DIRECTORY = directory()


def route_for(region_code: str) -> Route:
    return Route(
        patient_id=uuid4(),
        diagnosing_hospital_id="H-1",
        category="schizophrenia",
        risk_level=1,
        region_code=region_code,
    )


def routed(region_code: str) -> Route:
    route = route_for(region_code)
    route.route_by_catchment(DIRECTORY, TODAY, RULES)
    route.collect_events()
    return route


def test_a_patient_is_routed_to_the_center_whose_catchment_holds_the_residence() -> None:
    route = route_for("440305002")
    route.route_by_catchment(DIRECTORY, TODAY, RULES)
    _, event = route.collect_events()
    assert isinstance(event, Route.Routed)
    assert event.center_id == "CHC-A"
    assert event.first_visit_due == date(2026, 11, 16)
    assert event.directory_version == DIRECTORY.version
    assert event.routed_by == "catchment"


def test_the_route_carries_the_centers_social_workers_at_that_version() -> None:
    route = route_for("440306001")
    route.route_by_catchment(DIRECTORY, TODAY, RULES)
    _, event = route.collect_events()
    assert isinstance(event, Route.Routed)
    assert event.social_worker_ids == ["SW-B1"]


def test_no_matching_catchment_puts_the_patient_in_the_manual_queue() -> None:
    route = route_for("110108099")
    route.route_by_catchment(DIRECTORY, TODAY, RULES)
    _, held = route.collect_events()
    assert isinstance(held, Route.HeldForManualRouting)
    assert held.reason == "no catchment holds region 110108099"
    assert held.route_by == date(2026, 11, 5)
    assert not route.is_routed


def test_the_manual_deadline_is_flagged_once_after_it_passed() -> None:
    route = route_for("110108099")
    route.route_by_catchment(DIRECTORY, TODAY, RULES)
    route.collect_events()
    assert not route.flag_if_overdue(date(2026, 11, 5))
    assert route.flag_if_overdue(date(2026, 11, 6))
    assert not route.flag_if_overdue(date(2026, 11, 7))
    [event] = route.collect_events()
    assert isinstance(event, Route.ManualRoutingOverdue)
    assert event.route_by == date(2026, 11, 5)


def test_a_routed_patient_is_not_routed_again_by_hand() -> None:
    with pytest.raises(Conflict, match="already routed to CHC-A"):
        routed("440305001").route_by_hand(DIRECTORY.centers["CHC-B"], 9, TODAY, OP, RULES)


def test_a_move_to_another_catchment_transfers_with_a_new_first_visit_deadline() -> None:
    route = routed("440305001")
    outcome = route.move(
        "440306007", date(2026, 11, 20), DIRECTORY, morning_of(date(2026, 11, 25)), RULES
    )
    assert outcome == "transferred"
    moved, transferred = route.collect_events()
    assert isinstance(moved, Route.ResidenceChanged)
    assert isinstance(transferred, Route.Transferred)
    assert (transferred.from_center_id, transferred.to_center_id) == ("CHC-A", "CHC-B")
    assert transferred.moved_on == date(2026, 11, 20)
    assert transferred.first_visit_due == date(2026, 12, 9)  # 14 days after receipt
    assert transferred.social_worker_ids == ["SW-B1"]


def test_a_move_within_the_same_catchment_records_the_residence_only() -> None:
    route = routed("440305001")
    assert route.move("440305002", TODAY, DIRECTORY, NOW, RULES) == "residence_recorded"
    [moved] = route.collect_events()
    assert isinstance(moved, Route.ResidenceChanged)
    assert route.center_id == "CHC-A"


def test_the_same_residence_again_changes_nothing() -> None:
    route = routed("440305001")
    assert route.move("440305001", TODAY, DIRECTORY, NOW, RULES) == "unchanged"
    assert route.collect_events() == []


def test_a_move_without_catchment_keeps_the_old_center_until_an_operator_transfers() -> None:
    route = routed("440305001")
    assert route.move("110108099", TODAY, DIRECTORY, NOW, RULES) == "pending"
    assert route.center_id == "CHC-A"
    assert route.is_pending
    assert route.route_by_hand(DIRECTORY.centers["CHC-B"], 9, TODAY, OP, RULES) == "transferred"
    *_, transferred = route.collect_events()
    assert isinstance(transferred, Route.Transferred)
    assert transferred.routed_by == OP
    assert transferred.to_center_id == "CHC-B"
    assert not route.is_pending


def test_an_operator_may_keep_a_moved_patient_at_the_current_center() -> None:
    route = routed("440305001")
    route.move("110108099", TODAY, DIRECTORY, NOW, RULES)
    assert route.route_by_hand(DIRECTORY.centers["CHC-A"], 9, TODAY, OP, RULES) == "kept"
    assert not route.is_pending
    assert route.center_id == "CHC-A"


def test_a_move_into_the_future_is_refused_naming_the_field_and_the_rule() -> None:
    with pytest.raises(Implausible) as refused:
        routed("440305001").move("440306001", date(2026, 11, 3), DIRECTORY, NOW, RULES)
    assert (refused.value.field, refused.value.rule) == ("moved_on", "in_future")
    assert "2026" not in str(refused.value)


def test_tomorrow_is_accepted_within_the_clock_tolerance_before_midnight_in_china() -> None:
    """23:57 in Shanghai: a reporter whose clock is 3 minutes ahead already has tomorrow."""
    before_midnight = datetime.combine(TODAY, time(15, 57), tzinfo=UTC)
    tomorrow = TODAY + timedelta(days=1)
    assert routed("440305001").move("440306001", tomorrow, DIRECTORY, before_midnight, RULES) == (
        "transferred"
    )
    with pytest.raises(Implausible, match="moved_on"):
        routed("440305001").move(
            "440306001", tomorrow, DIRECTORY, before_midnight - timedelta(minutes=5), RULES
        )


def test_a_move_reported_late_is_history_and_does_not_undo_a_newer_move() -> None:
    """Given a move to B's catchment on 20 November, when a move to A's dated 10 November is
    reported afterwards, then it is recorded as an earlier residence and the patient stays."""
    route = routed("440305001")
    route.move("440306007", date(2026, 11, 20), DIRECTORY, morning_of(date(2026, 11, 25)), RULES)
    route.collect_events()

    late = route.move(
        "440305002", date(2026, 11, 10), DIRECTORY, morning_of(date(2026, 11, 26)), RULES
    )

    assert late == "earlier_residence_recorded"
    [recorded] = route.collect_events()
    assert isinstance(recorded, Route.EarlierResidenceRecorded)
    assert (recorded.region_code, recorded.moved_on) == ("440305002", date(2026, 11, 10))
    assert (route.center_id, route.region_code) == ("CHC-B", "440306007")
    again = route.move(
        "440305002", date(2026, 11, 10), DIRECTORY, morning_of(date(2026, 11, 26)), RULES
    )
    assert again == "unchanged"
    assert route.collect_events() == []


def test_a_second_move_reported_for_the_same_day_corrects_the_first() -> None:
    route = routed("440305001")
    route.move("440306007", date(2026, 11, 20), DIRECTORY, morning_of(date(2026, 11, 25)), RULES)
    corrected = route.move(
        "440305002", date(2026, 11, 20), DIRECTORY, morning_of(date(2026, 11, 25)), RULES
    )
    assert corrected == "transferred"
    assert route.center_id == "CHC-A"


def waiting_for(region_code: str, directory: Directory) -> Route:
    route = route_for(region_code)
    assert route.route_by_catchment(directory, TODAY, RULES) == "pending"
    route.collect_events()
    return route


def test_a_waiting_patient_is_routed_when_a_new_center_holds_the_region() -> None:
    """Given a patient waiting for region 110108099, when a center holding its district is
    registered, then the patient is routed there by catchment at the new directory version."""
    d = directory()
    route = waiting_for("110108099", d)
    d.register_center("CHC-C", "C", ["110108"], OP)

    assert route.route_if_held_now(d, TODAY + timedelta(days=1), RULES)

    [event] = route.collect_events()
    assert isinstance(event, Route.Routed)
    assert (event.center_id, event.routed_by) == ("CHC-C", "catchment")
    assert event.directory_version == d.version
    assert event.first_visit_due == TODAY + timedelta(days=15)
    assert not route.is_pending
    assert not route.route_if_held_now(d, TODAY, RULES)  # once


def test_a_patient_whose_region_is_still_not_held_keeps_waiting() -> None:
    d = directory()
    route = waiting_for("110108099", d)
    d.register_center("CHC-C", "C", ["110109"], OP)
    assert not route.route_if_held_now(d, TODAY, RULES)
    assert route.is_pending
    assert route.collect_events() == []


def test_a_patient_waiting_for_an_ambiguous_catchment_keeps_waiting() -> None:
    d = directory()
    route = waiting_for("110108099", d)
    d.register_center("CHC-C", "C", ["110108"], OP)
    d._register_center("CHC-D", "D", ["110108099"], OP)  # as no command allows any more
    assert not route.route_if_held_now(d, TODAY, RULES)
    assert route.is_pending


def test_a_patient_waiting_after_a_move_is_transferred_or_kept_when_the_region_is_held() -> None:
    d = directory()
    transferred, kept = routed("440305001"), routed("440305001")
    for route in (transferred, kept):
        assert route.move("110108099", TODAY, d, NOW, RULES) == "pending"
        route.collect_events()
    d.register_center("CHC-C", "C", ["110108"], OP)
    assert transferred.route_if_held_now(d, TODAY, RULES)
    [event] = transferred.collect_events()
    assert isinstance(event, Route.Transferred)
    assert (event.from_center_id, event.to_center_id, event.routed_by) == (
        "CHC-A",
        "CHC-C",
        "catchment",
    )

    d2 = directory()
    d2.add_catchment_area("CHC-A", "110108099", OP)
    assert kept.route_if_held_now(d2, TODAY, RULES)
    [stays] = kept.collect_events()
    assert isinstance(stays, Route.KeptAtCenter)
    assert (stays.center_id, stays.directory_version) == ("CHC-A", d2.version)
