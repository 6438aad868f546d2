"""The social workers of a center and the cases they carry: who becomes case manager."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_casework.domain.errors import AlreadyRecorded, RuleBroken

CASELOAD_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:casework:caseload")


class Caseload(Aggregate):
    """The social workers of one center and how many active cases each carries.

    Choosing the case manager here, under optimistic concurrency, keeps the choice fair even
    when cases are opened concurrently.
    """

    @staticmethod
    def create_id(center_id: str) -> UUID:
        return uuid5(CASELOAD_NAMESPACE, center_id)

    @event("Started")
    def __init__(self, center_id: str, social_workers: list[str]) -> None:
        self.center_id = center_id
        self.active_cases = dict.fromkeys(social_workers, 0)
        self.assignments = 0
        self.last_assigned: dict[str, int] = {}
        """Ordinal of each worker's latest assignment (0: never)."""

    def choose_case_manager(self, case_id: UUID) -> str | None:
        """The social worker with the fewest active cases; ties: longest since last assigned."""
        if not self.active_cases:
            return None
        chosen = min(
            self.active_cases,
            key=lambda w: (self.active_cases[w], self.last_assigned.get(w, 0), w),
        )
        self._case_taken(case_id=case_id, social_worker_id=chosen)
        return chosen

    @event("CaseTaken")
    def _case_taken(self, case_id: UUID, social_worker_id: str) -> None:
        self.active_cases[social_worker_id] += 1
        self.assignments += 1
        self.last_assigned[social_worker_id] = self.assignments

    def update_roster(self, social_workers: list[str]) -> None:
        """The directory's current social workers; those who left are no longer chosen."""
        if sorted(social_workers) != sorted(self.active_cases):
            self._roster_updated(social_workers=sorted(social_workers))

    @event("RosterUpdated")
    def _roster_updated(self, social_workers: list[str]) -> None:
        self.active_cases = {w: self.active_cases.get(w, 0) for w in social_workers}

    @event("CaseReleased")
    def case_closed(self, case_id: UUID, social_worker_id: str) -> None:
        if self.active_cases.get(social_worker_id, 0) > 0:
            self.active_cases[social_worker_id] -= 1

    def move_case(self, case_id: UUID, from_worker: str | None, to_worker: str) -> None:
        """A reassignment: the active case counts against the new case manager, not the old."""
        if to_worker not in self.active_cases:
            raise RuleBroken(f"{to_worker} is not a social worker of {self.center_id}")
        if to_worker == from_worker:
            raise AlreadyRecorded(f"{to_worker} is already the case manager")
        self._case_moved(case_id=case_id, from_worker=from_worker, to_worker=to_worker)

    @event("CaseMoved")
    def _case_moved(self, case_id: UUID, from_worker: str | None, to_worker: str) -> None:
        if from_worker in self.active_cases:
            self.active_cases[from_worker] -= 1
        self.active_cases[to_worker] += 1
        self.assignments += 1
        self.last_assigned[to_worker] = self.assignments
