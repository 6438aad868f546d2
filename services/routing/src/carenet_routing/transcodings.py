"""How the directory's state is stored in its snapshots.

The directory is one aggregate that every routing decision loads; rather than replay its whole
history each time, the application keeps a snapshot every few changes
(`RoutingApplication.snapshotting_intervals`). A snapshot holds the aggregate's state, whose
hospitals and centers are dataclasses the library's JSON transcoder does not know: these say
how to write and read them. The staff roles are stored by their values.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Transcoding

from carenet_routing.domain import Center, Hospital, StaffRole


class HospitalAsDict(Transcoding):
    type = Hospital
    name = "routing_hospital"

    def encode(self, obj: Hospital) -> dict[str, Any]:
        return {
            "id": obj.id,
            "name": obj.name,
            "district": obj.district,
            "certified": obj.certified,
        }

    def decode(self, data: dict[str, Any]) -> Hospital:
        return Hospital(**data)


class CenterAsDict(Transcoding):
    type = Center
    name = "routing_center"

    def encode(self, obj: Center) -> dict[str, Any]:
        return {
            "id": obj.id,
            "name": obj.name,
            "catchment": list(obj.catchment),
            "staff": {staff_id: role.value for staff_id, role in obj.staff.items()},
        }

    def decode(self, data: dict[str, Any]) -> Center:
        staff = {staff_id: StaffRole(role) for staff_id, role in data["staff"].items()}
        return Center(data["id"], data["name"], list(data["catchment"]), staff)
