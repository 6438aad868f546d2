"""A patient's case at a community health center: the one aggregate, composed by use case.

`Case` adds the case manager and closing to what its bases do (`case_visits`, `case_referrals`,
`case_deadlines`, on the case file of `case_file`). Each event is a module-level class of the
use case that records it, with its own `apply()`; only opening is the library's `@event`
`__init__` (`CaseFile.Opened`, stored as `Case.Opened`).

Until the split every event class was nested in `Case`, and the library stores an event under
the Python path of its class: `STORED_BEFORE_THE_SPLIT` registers each old topic for the class
that now holds it, so the events stored under those topics still load.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import register_topic

from carenet_casework.domain import case_deadlines, case_referrals, case_visits
from carenet_casework.domain.case_file import CLOSED
from carenet_casework.domain.case_visits import CaseVisits


class ManagerAssigned(Aggregate.Event):
    patient_id: UUID
    center_id: str
    case_manager_id: str
    reason: str

    def apply(self, case: Case) -> None:
        case.case_manager_id = self.case_manager_id


class ManagerReassigned(Aggregate.Event):
    patient_id: UUID
    center_id: str
    case_manager_id: str
    previous_case_manager_id: str | None
    reason: str

    def apply(self, case: Case) -> None:
        case.case_manager_id = self.case_manager_id


class Closed(Aggregate.Event):
    patient_id: UUID
    center_id: str
    reason: str
    continued_by_case_id: UUID | None

    def apply(self, case: Case) -> None:
        case.closed = True


class Case(CaseVisits):
    """One patient's case file at one community health center.

    Every event of a case is a class of its own whose `apply()` changes the case, triggered by
    a command method (`trigger_event`); only opening goes through the library's `@event`
    `__init__` (`case_file.CaseFile`).
    """

    # -- case manager ----------------------------------------------------------------------------

    def assign_manager(self, case_manager_id: str, reason: str) -> None:
        self.trigger_event(
            ManagerAssigned,
            patient_id=self.patient_id,
            center_id=self.center_id,
            case_manager_id=case_manager_id,
            reason=reason,
        )

    def reassign_manager(self, case_manager_id: str, reason: str) -> str | None:
        """Another social worker takes the case; returns the previous case manager."""
        previous = self.case_manager_id
        self.trigger_event(
            ManagerReassigned,
            patient_id=self.patient_id,
            center_id=self.center_id,
            case_manager_id=case_manager_id,
            previous_case_manager_id=previous,
            reason=reason,
        )
        return previous

    # -- closing ---------------------------------------------------------------------------------

    def close(self, reason: str, continued_by_case_id: UUID | None) -> None:
        if self.status != CLOSED:
            self.trigger_event(
                Closed,
                patient_id=self.patient_id,
                center_id=self.center_id,
                reason=reason,
                continued_by_case_id=continued_by_case_id,
            )


STORED_BEFORE_THE_SPLIT = {
    f"carenet_casework.domain.case:Case.{event_class.__name__}": event_class
    for event_class in (
        ManagerAssigned,
        ManagerReassigned,
        Closed,
        case_visits.VisitRecorded,
        case_visits.EmergencyRecorded,
        case_referrals.ReferralRequested,
        case_referrals.ReferralWithdrawn,
        case_referrals.ReferralEnded,
        case_referrals.JointFollowUpScheduled,
        case_referrals.Admitted,
        case_referrals.ResumedAfterDischarge,
        case_deadlines.FollowUpMissed,
        case_deadlines.LostToFollowUp,
        case_deadlines.FollowUpMissWithdrawn,
        case_deadlines.LostToFollowUpWithdrawn,
        case_deadlines.NextFollowUpRevised,
        case_deadlines.YearChecked,
        case_deadlines.YearRecounted,
    )
}
"""The topic each case event was stored under before the split, and the class it loads as."""

for old_topic, event_class in STORED_BEFORE_THE_SPLIT.items():
    register_topic(old_topic, event_class)
