"""Routing's rules, given / when / then."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

from carenet_routing.domain import Directory, Route

DIRECTORY = Directory(
    [
        {"id": "CHC-A", "name": "A", "catchment": ["440305001", "440305002"]},
        {"id": "CHC-B", "name": "B", "catchment": ["440306"]},
        {"id": "CHC-C", "name": "C", "catchment": ["440306009"]},
    ]
)
TODAY = date(2026, 11, 2)


def route_for(region_code: str) -> Route:
    return Route(
        patient_id=uuid4(),
        diagnosing_hospital_id="H-1",
        category="schizophrenia",
        risk_level=1,
        region_code=region_code,
    )


def test_a_patient_is_routed_to_the_center_whose_catchment_holds_the_residence() -> None:
    route = route_for("440305002")
    route.route_by_catchment(DIRECTORY, TODAY)
    _, routed = route.collect_events()
    assert isinstance(routed, Route.Routed)
    assert routed.center_id == "CHC-A"
    assert routed.first_visit_due == date(2026, 11, 16)
    assert routed.directory_version == DIRECTORY.version
    assert routed.routed_by == "catchment"


def test_a_whole_district_catchment_holds_its_subdistricts() -> None:
    route = route_for("440306001")
    route.route_by_catchment(DIRECTORY, TODAY)
    assert route.center_id == "CHC-B"


def test_no_matching_catchment_puts_the_patient_in_the_manual_queue() -> None:
    route = route_for("110108099")
    route.route_by_catchment(DIRECTORY, TODAY)
    _, held = route.collect_events()
    assert isinstance(held, Route.HeldForManualRouting)
    assert held.reason == "no catchment holds region 110108099"
    assert held.route_by == date(2026, 11, 5)
    assert not route.is_routed


def test_an_ambiguous_catchment_goes_to_the_manual_queue_naming_the_candidates() -> None:
    route = route_for("440306009")
    route.route_by_catchment(DIRECTORY, TODAY)
    assert route.pending_reason == "region 440306009 is in the catchments of CHC-B, CHC-C"
