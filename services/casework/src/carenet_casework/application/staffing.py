"""Casework's use case "staffing": a center's roster and the training its staff attend."""

from __future__ import annotations

from carenet_casework.application.base import CaseworkBase
from carenet_casework.domain.staffing import CenterStaff, Member, Training
from carenet_kit.outbox import Cause


class Staffing(CaseworkBase):
    """Each center's staff, kept by its lead."""

    def set_staff_roster(
        self, center_id: str, members: list[Member], by: str, cause: Cause
    ) -> CenterStaff:
        staff = self._staff_of(center_id)
        staff.set_roster(members, by, self.today())
        self.commit(staff, cause=cause)
        return staff

    def record_training(
        self, center_id: str, training: Training, by: str, cause: Cause
    ) -> CenterStaff:
        staff = self._staff_of(center_id)
        staff.complete_training(training, by, self.today())
        self.commit(staff, cause=cause)
        return staff

    def staffing(self, center_id: str) -> CenterStaff | None:
        staff: CenterStaff | None = self.find(CenterStaff.create_id(center_id))
        return staff

    def _staff_of(self, center_id: str) -> CenterStaff:
        self._require_center(center_id)
        return self.staffing(center_id) or CenterStaff(center_id)
