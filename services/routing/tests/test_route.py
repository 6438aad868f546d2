"""Routes and transfers, given / when / then."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from carenet_routing.domain import Conflict, Directory, Refused, Route, StaffRole

OP = "OP-1"
TODAY = date(2026, 11, 2)


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
    route.route_by_catchment(DIRECTORY, TODAY)
    route.collect_events()
    return route


def test_a_patient_is_routed_to_the_center_whose_catchment_holds_the_residence() -> None:
    route = route_for("440305002")
    route.route_by_catchment(DIRECTORY, TODAY)
    _, event = route.collect_events()
    assert isinstance(event, Route.Routed)
    assert event.center_id == "CHC-A"
    assert event.first_visit_due == date(2026, 11, 16)
    assert event.directory_version == DIRECTORY.version
    assert event.routed_by == "catchment"


def test_the_route_carries_the_centers_social_workers_at_that_version() -> None:
    route = route_for("440306001")
    route.route_by_catchment(DIRECTORY, TODAY)
    _, event = route.collect_events()
    assert isinstance(event, Route.Routed)
    assert event.social_worker_ids == ["SW-B1"]


def test_no_matching_catchment_puts_the_patient_in_the_manual_queue() -> None:
    route = route_for("110108099")
    route.route_by_catchment(DIRECTORY, TODAY)
    _, held = route.collect_events()
    assert isinstance(held, Route.HeldForManualRouting)
    assert held.reason == "no catchment holds region 110108099"
    assert held.route_by == date(2026, 11, 5)
    assert not route.is_routed


def test_the_manual_deadline_is_flagged_once_after_it_passed() -> None:
    route = route_for("110108099")
    route.route_by_catchment(DIRECTORY, TODAY)
    route.collect_events()
    assert not route.flag_if_overdue(date(2026, 11, 5))
    assert route.flag_if_overdue(date(2026, 11, 6))
    assert not route.flag_if_overdue(date(2026, 11, 7))
    [event] = route.collect_events()
    assert isinstance(event, Route.ManualRoutingOverdue)
    assert event.route_by == date(2026, 11, 5)


def test_a_routed_patient_is_not_routed_again_by_hand() -> None:
    with pytest.raises(Conflict, match="already routed to CHC-A"):
        routed("440305001").route_by_hand(DIRECTORY.centers["CHC-B"], 9, TODAY, OP)


def test_a_move_to_another_catchment_transfers_with_a_new_first_visit_deadline() -> None:
    route = routed("440305001")
    outcome = route.move("440306007", date(2026, 11, 20), DIRECTORY, date(2026, 11, 25))
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
    assert route.move("440305002", TODAY, DIRECTORY, TODAY) == "residence_recorded"
    [moved] = route.collect_events()
    assert isinstance(moved, Route.ResidenceChanged)
    assert route.center_id == "CHC-A"


def test_the_same_residence_again_changes_nothing() -> None:
    route = routed("440305001")
    assert route.move("440305001", TODAY, DIRECTORY, TODAY) == "unchanged"
    assert route.collect_events() == []


def test_a_move_without_catchment_keeps_the_old_center_until_an_operator_transfers() -> None:
    route = routed("440305001")
    assert route.move("110108099", TODAY, DIRECTORY, TODAY) == "pending"
    assert route.center_id == "CHC-A"
    assert route.is_pending
    assert route.route_by_hand(DIRECTORY.centers["CHC-B"], 9, TODAY, OP) == "transferred"
    *_, transferred = route.collect_events()
    assert isinstance(transferred, Route.Transferred)
    assert transferred.routed_by == OP
    assert transferred.to_center_id == "CHC-B"
    assert not route.is_pending


def test_an_operator_may_keep_a_moved_patient_at_the_current_center() -> None:
    route = routed("440305001")
    route.move("110108099", TODAY, DIRECTORY, TODAY)
    assert route.route_by_hand(DIRECTORY.centers["CHC-A"], 9, TODAY, OP) == "kept"
    assert not route.is_pending
    assert route.center_id == "CHC-A"


def test_a_move_into_the_future_is_refused() -> None:
    with pytest.raises(Refused, match="future"):
        routed("440305001").move("440306001", date(2026, 11, 3), DIRECTORY, TODAY)
