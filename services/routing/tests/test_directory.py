"""The directory, given / when / then: operators' changes and the refusals that keep it clear."""

from __future__ import annotations

import pytest

from carenet_routing.domain import Conflict, Directory, Refused, StaffRole, Unknown

OP = "OP-1"


def directory() -> Directory:
    d = Directory()
    d.register_hospital("H-A", "A", "440305", True, OP)
    d.register_hospital("H-B", "B", "440305", True, OP)
    d.register_hospital("H-X", "X", "440305", False, OP)
    d.register_center("CHC-A", "A", ["440305001", "440305002"], OP)
    d.register_center("CHC-B", "B", ["440306"], OP)
    d.staff_joined("CHC-A", "SW-1", StaffRole.SOCIAL_WORKER, OP)
    d.staff_joined("CHC-A", "DR-1", StaffRole.COMMUNITY_DOCTOR, OP)
    d.staff_joined("CHC-A", "SW-2", StaffRole.SOCIAL_WORKER, OP)
    return d


def new_events(d: Directory) -> list[str]:
    return [type(e).__name__ for e in d.collect_events()]


def test_every_change_is_one_named_event_and_a_new_version() -> None:
    d = directory()
    d.collect_events()
    before = d.version
    d.add_catchment_area("CHC-A", "440305003", OP)
    d.hand_over_catchment_area("440305003", "CHC-A", "CHC-B", "reorganisation", OP)
    d.staff_left("CHC-A", "SW-1", "retired", OP)
    d.revoke_certification("H-A", "licence lapsed", OP)
    assert new_events(d) == [
        "CatchmentAreaAdded",
        "CatchmentAreaHandedOver",
        "StaffLeft",
        "HospitalCertificationRevoked",
    ]
    assert d.version == before + 4
    assert d.centers["CHC-B"].covers("440305003")
    assert not d.centers["CHC-A"].covers("440305003")


def test_the_social_workers_are_the_case_manager_pool_in_joining_order() -> None:
    assert directory().centers["CHC-A"].social_worker_ids == ["SW-1", "SW-2"]


def test_an_area_held_by_another_center_is_a_conflict_that_names_the_handover() -> None:
    d = directory()
    with pytest.raises(Conflict, match="catchment of CHC-A; move it with a catchment handover"):
        d.add_catchment_area("CHC-B", "440305001", OP)


def test_a_district_overlapping_a_held_subdistrict_is_a_conflict() -> None:
    d = directory()
    with pytest.raises(Conflict, match="region 440305 overlaps the catchment of CHC-A"):
        d.register_center("CHC-C", "C", ["440305"], OP)
    with pytest.raises(Conflict, match="CHC-B"):
        d.add_catchment_area("CHC-A", "440306001", OP)


def test_adding_an_area_the_center_already_holds_changes_nothing() -> None:
    d = directory()
    d.collect_events()
    d.add_catchment_area("CHC-A", "440305001", OP)
    assert new_events(d) == []


@pytest.mark.parametrize("code", ["44030", "4403050011", "44030500A", ""])
def test_a_malformed_region_code_is_refused(code: str) -> None:
    with pytest.raises(Refused, match="malformed region code"):
        directory().add_catchment_area("CHC-A", code, OP)


def test_an_unknown_center_is_named_in_the_refusal() -> None:
    with pytest.raises(Unknown, match="unknown community health center CHC-Z"):
        directory().add_catchment_area("CHC-Z", "440399001", OP)


def test_a_staff_member_works_at_one_center_at_a_time() -> None:
    d = directory()
    with pytest.raises(Conflict, match="SW-1 is already on the staff of CHC-A"):
        d.staff_joined("CHC-B", "SW-1", StaffRole.SOCIAL_WORKER, OP)
    d.staff_left("CHC-A", "SW-1", "moved", OP)
    d.staff_joined("CHC-B", "SW-1", StaffRole.LEAD, OP)
    assert d.centers["CHC-B"].staff == {"SW-1": StaffRole.LEAD}


def test_a_handover_needs_the_area_at_the_giving_center() -> None:
    with pytest.raises(Unknown, match="not in the catchment of CHC-B"):
        directory().hand_over_catchment_area("440305001", "CHC-B", "CHC-A", "r", OP)


def test_a_duplicate_hospital_or_center_is_a_conflict() -> None:
    d = directory()
    with pytest.raises(Conflict):
        d.register_hospital("H-A", "A again", "440305", True, OP)
    with pytest.raises(Conflict):
        d.register_center("CHC-A", "A again", [], OP)


def test_a_referral_goes_to_the_diagnosing_hospital_when_it_is_certified() -> None:
    hospital, why = directory().hospital_for_referral("H-B", "440305")
    assert hospital is not None
    assert (hospital.id, why) == ("H-B", "the diagnosing hospital")


def test_an_uncertified_diagnosing_hospital_gives_way_to_a_certified_one_of_its_district() -> None:
    hospital, why = directory().hospital_for_referral("H-X", "110108")
    assert hospital is not None
    assert hospital.id == "H-A"
    assert why == "H-X is not certified; H-A is certified in 440305"


def test_no_certified_hospital_in_the_district_leaves_the_referral_unplaced() -> None:
    d = directory()
    d.revoke_certification("H-A", "lapsed", OP)
    d.revoke_certification("H-B", "lapsed", OP)
    hospital, why = d.hospital_for_referral("H-B", "440305")
    assert hospital is None
    assert why == "H-B is not certified and no certified hospital in 440305"


def test_an_unknown_diagnosing_hospital_is_replaced_from_the_residence_district() -> None:
    hospital, why = directory().hospital_for_referral("H-GONE", "440305")
    assert hospital is not None
    assert why == "H-GONE is not in the directory; H-A is certified in 440305"
