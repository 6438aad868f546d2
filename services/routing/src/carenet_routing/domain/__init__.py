"""The network tier's aggregates: the directory, each patient's route, each referral."""

from carenet_routing.domain.directory import DIRECTORY_ID, Center, Directory, Hospital, StaffRole
from carenet_routing.domain.errors import Conflict, Refused, Unknown
from carenet_routing.domain.referral import Referral
from carenet_routing.domain.route import Route
from carenet_routing.domain.saga import Happening, Stage

__all__ = [
    "DIRECTORY_ID",
    "Center",
    "Conflict",
    "Directory",
    "Happening",
    "Hospital",
    "Referral",
    "Refused",
    "Route",
    "StaffRole",
    "Stage",
    "Unknown",
]
