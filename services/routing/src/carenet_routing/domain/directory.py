"""The directory of the care network: hospitals, community health centers, catchments, staff.

One event-sourced aggregate; its version is the directory version that every routing and
referral decision records. Each operator change is one intention-revealing event, refused with
a reason when it would make the directory ambiguous (two centers for one residence).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_routing.domain.errors import Conflict, Refused, Unknown

DIRECTORY_ID = uuid5(NAMESPACE_URL, "urn:carenet:routing:directory")
REGION_CODE = re.compile(r"^\d{6}(\d{3})?$")
DISTRICT_CODE = re.compile(r"^\d{6}$")


class StaffRole(StrEnum):
    SOCIAL_WORKER = "social_worker"
    COMMUNITY_DOCTOR = "community_doctor"
    LEAD = "lead"
    POLICE_LIAISON = "police_liaison"
    GRID_WORKER = "grid_worker"
    CIVIL_AFFAIRS = "civil_affairs"
    PEER_SUPPORTER = "peer_supporter"


@dataclass
class Hospital:
    id: str
    name: str
    district: str
    certified: bool


@dataclass
class Center:
    id: str
    name: str
    catchment: list[str]
    """Subdistrict (9-digit) or whole-district (6-digit) region codes."""
    staff: dict[str, StaffRole] = field(default_factory=dict)

    def covers(self, region_code: str) -> bool:
        return any(region_code.startswith(area) for area in self.catchment)

    @property
    def social_worker_ids(self) -> list[str]:
        """The case-manager pool, in the order the social workers joined."""
        return [s for s, role in self.staff.items() if role is StaffRole.SOCIAL_WORKER]


def _overlap(a: str, b: str) -> bool:
    """A district and one of its subdistricts overlap, as do equal codes."""
    return a.startswith(b) or b.startswith(a)


def _check_region(region_code: str) -> None:
    if not REGION_CODE.fullmatch(region_code):
        raise Refused(f"malformed region code {region_code!r}: 6 (district) or 9 digits")


class Directory(Aggregate):
    @staticmethod
    def create_id() -> UUID:
        return DIRECTORY_ID

    @event("Opened")
    def __init__(self) -> None:
        self.hospitals: dict[str, Hospital] = {}
        self.centers: dict[str, Center] = {}

    # -- queries ---------------------------------------------------------------------------

    def center(self, center_id: str) -> Center:
        if center_id not in self.centers:
            raise Unknown(f"unknown community health center {center_id}")
        return self.centers[center_id]

    def hospital(self, hospital_id: str) -> Hospital:
        if hospital_id not in self.hospitals:
            raise Unknown(f"unknown hospital {hospital_id}")
        return self.hospitals[hospital_id]

    def centers_covering(self, region_code: str) -> list[Center]:
        return [c for c in self.centers.values() if c.covers(region_code)]

    def holders_of(self, region_code: str, besides: str | None = None) -> list[str]:
        """Centers whose catchment overlaps the region (other than `besides`)."""
        return sorted(
            c.id
            for c in self.centers.values()
            if c.id != besides and any(_overlap(region_code, a) for a in c.catchment)
        )

    def workplace_of(self, staff_id: str) -> str | None:
        return next((c.id for c in self.centers.values() if staff_id in c.staff), None)

    def hospital_for_referral(
        self, diagnosing_hospital_id: str, residence_district: str
    ) -> tuple[Hospital | None, str]:
        """The diagnosing hospital if certified, else a certified one of its district.

        An unknown diagnosing hospital has no district in the directory: the patient's
        residence district is searched instead. Returns the choice and why it was made.
        """
        diagnosing = self.hospitals.get(diagnosing_hospital_id)
        if diagnosing is not None and diagnosing.certified:
            return diagnosing, "the diagnosing hospital"
        district = diagnosing.district if diagnosing is not None else residence_district
        status = "is not certified" if diagnosing else "is not in the directory"
        others = sorted(
            h.id
            for h in self.hospitals.values()
            if h.certified and h.district == district and h.id != diagnosing_hospital_id
        )
        if others:
            why = f"{diagnosing_hospital_id} {status}; {others[0]} is certified in {district}"
            return self.hospitals[others[0]], why
        return None, f"{diagnosing_hospital_id} {status} and no certified hospital in {district}"

    # -- hospitals -------------------------------------------------------------------------

    def register_hospital(
        self, hospital_id: str, name: str, district: str, certified: bool, by: str
    ) -> None:
        if hospital_id in self.hospitals:
            raise Conflict(f"hospital {hospital_id} is already in the directory")
        if not DISTRICT_CODE.fullmatch(district):
            raise Refused(f"malformed district code {district!r}: 6 digits")
        self._register_hospital(hospital_id, name, district, certified, by)

    @event("HospitalRegistered")
    def _register_hospital(
        self, hospital_id: str, name: str, district: str, certified: bool, by: str
    ) -> None:
        self.hospitals[hospital_id] = Hospital(hospital_id, name, district, certified)

    def certify_hospital(self, hospital_id: str, by: str) -> None:
        if not self.hospital(hospital_id).certified:
            self._certify_hospital(hospital_id, by)

    @event("HospitalCertified")
    def _certify_hospital(self, hospital_id: str, by: str) -> None:
        self.hospitals[hospital_id].certified = True

    def revoke_certification(self, hospital_id: str, reason: str, by: str) -> None:
        if self.hospital(hospital_id).certified:
            self._revoke_certification(hospital_id, reason, by)

    @event("HospitalCertificationRevoked")
    def _revoke_certification(self, hospital_id: str, reason: str, by: str) -> None:
        self.hospitals[hospital_id].certified = False

    # -- centers and catchments ------------------------------------------------------------

    def register_center(self, center_id: str, name: str, catchment: list[str], by: str) -> None:
        if center_id in self.centers:
            raise Conflict(f"community health center {center_id} is already in the directory")
        for i, region_code in enumerate(catchment):
            _check_region(region_code)
            if any(_overlap(region_code, other) for other in catchment[:i]):
                raise Refused(f"region {region_code} overlaps another area of this catchment")
            self._refuse_if_held(region_code, besides=None)
        self._register_center(center_id, name, catchment, by)

    class CenterRegistered(Aggregate.Event):
        """A new center; its catchment may hold the residence of patients waiting for one."""

        center_id: str
        name: str
        catchment: list[str]
        by: str

    @event(CenterRegistered)
    def _register_center(self, center_id: str, name: str, catchment: list[str], by: str) -> None:
        self.centers[center_id] = Center(center_id, name, list(catchment))

    def add_catchment_area(self, center_id: str, region_code: str, by: str) -> None:
        center = self.center(center_id)
        _check_region(region_code)
        if region_code in center.catchment:
            return
        self._refuse_if_held(region_code, besides=None)
        self._add_catchment_area(center_id, region_code, by)

    class CatchmentAreaAdded(Aggregate.Event):
        center_id: str
        region_code: str
        by: str

    @event(CatchmentAreaAdded)
    def _add_catchment_area(self, center_id: str, region_code: str, by: str) -> None:
        self.centers[center_id].catchment.append(region_code)

    def remove_catchment_area(self, center_id: str, region_code: str, reason: str, by: str) -> None:
        if region_code not in self.center(center_id).catchment:
            raise Unknown(f"region {region_code} is not in the catchment of {center_id}")
        self._remove_catchment_area(center_id, region_code, reason, by)

    @event("CatchmentAreaRemoved")
    def _remove_catchment_area(
        self, center_id: str, region_code: str, reason: str, by: str
    ) -> None:
        self.centers[center_id].catchment.remove(region_code)

    def hand_over_catchment_area(
        self, region_code: str, from_center_id: str, to_center_id: str, reason: str, by: str
    ) -> None:
        """The deliberate way to move an area from one center to another."""
        if region_code not in self.center(from_center_id).catchment:
            raise Unknown(f"region {region_code} is not in the catchment of {from_center_id}")
        self.center(to_center_id)
        if from_center_id == to_center_id:
            raise Refused("a handover needs two different centers")
        self._hand_over_catchment_area(region_code, from_center_id, to_center_id, reason, by)

    class CatchmentAreaHandedOver(Aggregate.Event):
        region_code: str
        from_center_id: str
        to_center_id: str
        reason: str
        by: str

    @event(CatchmentAreaHandedOver)
    def _hand_over_catchment_area(
        self, region_code: str, from_center_id: str, to_center_id: str, reason: str, by: str
    ) -> None:
        self.centers[from_center_id].catchment.remove(region_code)
        self.centers[to_center_id].catchment.append(region_code)

    def _refuse_if_held(self, region_code: str, besides: str | None) -> None:
        holders = self.holders_of(region_code, besides)
        if holders:
            raise Conflict(
                f"region {region_code} overlaps the catchment of {', '.join(holders)}; "
                "move it with a catchment handover"
            )

    # -- staff -----------------------------------------------------------------------------

    def staff_joined(self, center_id: str, staff_id: str, role: StaffRole, by: str) -> None:
        self.center(center_id)
        workplace = self.workplace_of(staff_id)
        if workplace is not None:
            raise Conflict(f"staff member {staff_id} is already on the staff of {workplace}")
        self._staff_joined(center_id, staff_id, role.value, by)

    @event("StaffJoined")
    def _staff_joined(self, center_id: str, staff_id: str, role: str, by: str) -> None:
        self.centers[center_id].staff[staff_id] = StaffRole(role)

    def staff_left(self, center_id: str, staff_id: str, reason: str, by: str) -> None:
        if staff_id not in self.center(center_id).staff:
            raise Unknown(f"{staff_id} is not on the staff of {center_id}")
        self._staff_left(center_id, staff_id, reason, by)

    @event("StaffLeft")
    def _staff_left(self, center_id: str, staff_id: str, reason: str, by: str) -> None:
        del self.centers[center_id].staff[staff_id]
