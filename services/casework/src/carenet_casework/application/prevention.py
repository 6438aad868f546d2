"""Casework's use case "prevention": the center's prevention and education activities."""

from __future__ import annotations

from carenet_casework.application.base import CaseworkBase
from carenet_casework.domain.errors import AlreadyRecorded
from carenet_casework.domain.prevention import Activity, PreventionActivity
from carenet_kit.outbox import Cause


class Prevention(CaseworkBase):
    """Activities held in the community, counted by topic, audience and attendance."""

    def record_prevention_activity(self, activity: Activity, cause: Cause) -> PreventionActivity:
        self._require_center(activity.center_id)
        if PreventionActivity.create_id(activity.activity_id) in self.repository:
            raise AlreadyRecorded("this activity is already recorded")
        self.dates.prevention(activity.held_on, self.clock.now())
        held = PreventionActivity.hold(activity)
        self.commit(held, cause=cause)
        return held
