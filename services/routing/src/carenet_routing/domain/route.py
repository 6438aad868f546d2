"""Each patient's route to a community health center: by catchment, by hand, or by transfer."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_kit.fields import fields_of
from carenet_kit.plausibility import DEFAULT_CLOCK_TOLERANCE, refuse_future
from carenet_routing.domain.directory import Center, Directory
from carenet_routing.domain.errors import Conflict
from carenet_routing.rules import RoutingRules

ROUTE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:routing:route")


class Route(Aggregate):
    """Where one patient is cared for in the community, and how that was decided."""

    @staticmethod
    def create_id(patient_id: UUID) -> UUID:
        return uuid5(ROUTE_NAMESPACE, str(patient_id))

    @event("Requested")
    def __init__(
        self,
        patient_id: UUID,
        diagnosing_hospital_id: str,
        category: str,
        risk_level: int,
        region_code: str,
    ) -> None:
        self.patient_id = patient_id
        self.diagnosing_hospital_id = diagnosing_hospital_id
        self.category = category
        self.risk_level = risk_level
        self.region_code = region_code
        self.moved_on: date | None = None
        self.earlier_residences: list[tuple[date, str]] = []
        self.center_id: str | None = None
        self.pending_reason: str | None = None
        self.route_by: date | None = None
        self.overdue = False

    class Routed(Aggregate.Event):
        """The patient goes to a center; the event keeps what the center needs to know."""

        patient_id: UUID
        center_id: str
        region_code: str
        diagnosing_hospital_id: str
        category: str
        risk_level: int
        routed_on: date
        first_visit_due: date
        directory_version: int
        routed_by: str
        rule_set_version: str
        social_worker_ids: list[str]

    @event(Routed)
    def _route_to(
        self,
        patient_id: UUID,
        center_id: str,
        region_code: str,
        diagnosing_hospital_id: str,
        category: str,
        risk_level: int,
        routed_on: date,
        first_visit_due: date,
        directory_version: int,
        routed_by: str,
        rule_set_version: str,
        social_worker_ids: list[str],
    ) -> None:
        self.center_id = center_id
        self._release_hold()

    class HeldForManualRouting(Aggregate.Event):
        patient_id: UUID
        region_code: str
        reason: str
        route_by: date
        directory_version: int

    @event(HeldForManualRouting)
    def _hold(
        self,
        patient_id: UUID,
        region_code: str,
        reason: str,
        route_by: date,
        directory_version: int,
    ) -> None:
        self.pending_reason = reason
        self.route_by = route_by
        self.overdue = False

    class ManualRoutingOverdue(Aggregate.Event):
        patient_id: UUID
        region_code: str
        route_by: date

    @event(ManualRoutingOverdue)
    def _mark_overdue(self, patient_id: UUID, region_code: str, route_by: date) -> None:
        self.overdue = True

    class ResidenceChanged(Aggregate.Event):
        """The patient moved; any earlier hold is void and the new residence is decided anew."""

        patient_id: UUID
        region_code: str
        moved_on: date

    @event(ResidenceChanged)
    def _change_residence(self, patient_id: UUID, region_code: str, moved_on: date) -> None:
        self.region_code = region_code
        self.moved_on = moved_on
        self._release_hold()

    class EarlierResidenceRecorded(Aggregate.Event):
        """A move reported late, dated before the current residence: history, not a transfer."""

        patient_id: UUID
        region_code: str
        moved_on: date

    @event(EarlierResidenceRecorded)
    def _record_earlier_residence(self, patient_id: UUID, region_code: str, moved_on: date) -> None:
        self.earlier_residences.append((moved_on, region_code))

    class Transferred(Aggregate.Event):
        patient_id: UUID
        from_center_id: str
        to_center_id: str
        region_code: str
        moved_on: date
        transferred_on: date
        first_visit_due: date
        directory_version: int
        routed_by: str
        rule_set_version: str
        social_worker_ids: list[str]

    @event(Transferred)
    def _transfer(
        self,
        patient_id: UUID,
        from_center_id: str,
        to_center_id: str,
        region_code: str,
        moved_on: date,
        transferred_on: date,
        first_visit_due: date,
        directory_version: int,
        routed_by: str,
        rule_set_version: str,
        social_worker_ids: list[str],
    ) -> None:
        self.center_id = to_center_id
        self._release_hold()

    class KeptAtCenter(Aggregate.Event):
        """An operator decided that the current center keeps the patient after a move."""

        patient_id: UUID
        center_id: str
        routed_by: str
        directory_version: int

    @event(KeptAtCenter)
    def _keep(
        self, patient_id: UUID, center_id: str, routed_by: str, directory_version: int
    ) -> None:
        self._release_hold()

    def _release_hold(self) -> None:
        self.pending_reason = None
        self.route_by = None
        self.overdue = False

    @property
    def is_routed(self) -> bool:
        return self.center_id is not None

    @property
    def is_pending(self) -> bool:
        return self.pending_reason is not None

    # -- decisions -------------------------------------------------------------------------

    def route_by_catchment(self, directory: Directory, today: date, rules: RoutingRules) -> str:
        """To the one center whose catchment holds the residence; otherwise to the manual queue.

        Returns the outcome: 'routed', 'transferred', 'pending' or 'residence_recorded'.
        """
        centers = directory.centers_covering(self.region_code)
        if len(centers) == 1:
            if centers[0].id == self.center_id:
                return "residence_recorded"
            return self.send_to(centers[0], directory.version, today, "catchment", rules)
        reason = (
            f"no catchment holds region {self.region_code}"
            if not centers
            else f"region {self.region_code} is in the catchments of "
            + ", ".join(sorted(c.id for c in centers))
        )
        self._hold(
            patient_id=self.patient_id,
            region_code=self.region_code,
            reason=reason,
            route_by=rules.manual_routing_due(today),
            directory_version=directory.version,
        )
        return "pending"

    def route_by_hand(
        self, center: Center, directory_version: int, today: date, by: str, rules: RoutingRules
    ) -> str:
        if not self.is_pending:
            raise Conflict(f"the patient is already routed to {self.center_id}")
        if center.id == self.center_id:
            self._keep(self.patient_id, center.id, by, directory_version)
            return "kept"
        return self.send_to(center, directory_version, today, by, rules)

    def send_to(
        self,
        center: Center,
        directory_version: int,
        today: date,
        routed_by: str,
        rules: RoutingRules,
    ) -> str:
        """Route a new patient there, or transfer a routed one; the first visit is due anew."""
        if self.center_id is None:
            routing = fields_of(
                self.Routed,
                self,
                center_id=center.id,
                routed_on=today,
                first_visit_due=rules.first_visit_due(today),
                directory_version=directory_version,
                routed_by=routed_by,
                rule_set_version=rules.version,
                social_worker_ids=center.social_worker_ids,
            )
            self._route_to(**routing)
            return "routed"
        self._transfer(
            patient_id=self.patient_id,
            from_center_id=self.center_id,
            to_center_id=center.id,
            region_code=self.region_code,
            moved_on=self.moved_on or today,
            transferred_on=today,
            first_visit_due=rules.first_visit_due(today),
            directory_version=directory_version,
            routed_by=routed_by,
            rule_set_version=rules.version,
            social_worker_ids=center.social_worker_ids,
        )
        return "transferred"

    def route_if_held_now(self, directory: Directory, today: date, rules: RoutingRules) -> bool:
        """A waiting patient whose region the directory has come to hold: route them there.

        Only when exactly one center holds the region (an ambiguous or still unheld region
        keeps the patient waiting); a patient waiting after a move is transferred, or kept
        when the new residence is their own center's. Returns whether anything was decided.
        """
        if not self.is_pending:
            return False
        centers = directory.centers_covering(self.region_code)
        if len(centers) != 1:
            return False
        if centers[0].id == self.center_id:
            self._keep(self.patient_id, centers[0].id, "catchment", directory.version)
        else:
            self.send_to(centers[0], directory.version, today, "catchment", rules)
        return True

    def move(
        self,
        region_code: str,
        moved_on: date,
        directory: Directory,
        now: datetime,
        rules: RoutingRules,
        clock_tolerance: timedelta = DEFAULT_CLOCK_TOLERANCE,
    ) -> str:
        """A change of residence: transfer, record only, or hold for an operator.

        Moves take effect in the order they happened, not the order they were reported: one
        dated before the move to the current residence is recorded as an earlier residence and
        changes nothing else ('earlier_residence_recorded'). On the same day the later report
        wins, as a correction. Returns 'unchanged' when the residence is the one already
        recorded (a retry).
        """
        refuse_future("moved_on", moved_on, now, rules.zone, clock_tolerance)
        if self.moved_on is not None and moved_on < self.moved_on:
            if (moved_on, region_code) in self.earlier_residences:
                return "unchanged"
            self._record_earlier_residence(self.patient_id, region_code, moved_on)
            return "earlier_residence_recorded"
        if region_code == self.region_code:
            return "unchanged"
        self._change_residence(self.patient_id, region_code, moved_on)
        return self.route_by_catchment(directory, rules.local_date(now), rules)

    def flag_if_overdue(self, today: date) -> bool:
        """Once per hold, when its deadline has passed without a route."""
        if self.route_by is None or self.overdue or today <= self.route_by:
            return False
        self._mark_overdue(self.patient_id, self.region_code, self.route_by)
        return True
