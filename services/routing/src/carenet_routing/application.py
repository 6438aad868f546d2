"""Routing's service layer: the directory, routes and transfers, and the referral saga."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ClassVar
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import JSONTranscoder

from carenet_kit.application import OutboundMapper, ServiceApplication
from carenet_kit.clock import Clock
from carenet_kit.fields import copy_of
from carenet_kit.outbox import Cause
from carenet_kit.plausibility import DEFAULT_CLOCK_TOLERANCE
from carenet_kit.projection import LogFollower
from carenet_kit.read_model_snapshots import SnapshotSchedule
from carenet_kit.reference_data import ReferenceDirectory
from carenet_kit.scheduler import act_once_each
from carenet_routing import deadlines
from carenet_routing.commands import (
    FollowHospital,
    RequestReferral,
    RouteDiagnosedPatient,
    WithdrawReferral,
)
from carenet_routing.domain import (
    DIRECTORY_ID,
    Center,
    Directory,
    Happening,
    Hospital,
    Referral,
    Route,
    StaffRole,
    Unknown,
)
from carenet_routing.rules import AcceptWindows, RoutingRules
from carenet_routing.transcodings import CenterAsDict, HospitalAsDict
from carenet_routing.waiting import WaitingRoutes

log = structlog.get_logger()

REFERENCE_DATA = "reference-data"
"""Who loaded the demo directory (recorded as the operator of its events)."""


@dataclass(frozen=True)
class DirectoryView:
    version: int
    hospitals: list[Hospital]
    centers: list[Center]


@dataclass(frozen=True)
class Moved:
    outcome: str
    """'transferred', 'residence_recorded', 'pending', 'routed', 'earlier_residence_recorded'
    or 'unchanged'."""
    center_id: str | None


class RoutingApplication(ServiceApplication):
    producer: ClassVar = "routing"
    snapshotting_intervals: ClassVar = {**ServiceApplication.snapshotting_intervals, Directory: 10}
    """Every route loads the directory: start from a recent snapshot, not its whole history."""

    def __init__(
        self,
        env: dict[str, str],
        outbound: OutboundMapper,
        clock: Clock | None = None,
        accept_windows: AcceptWindows | None = None,
        clock_tolerance: timedelta = DEFAULT_CLOCK_TOLERANCE,
        snapshots: SnapshotSchedule | None = None,
        rules: RoutingRules | None = None,
    ) -> None:
        super().__init__(env, outbound, clock)
        self.rules = rules or RoutingRules.load()
        """The routing section of the rule set in force (by default the one shipped)."""
        self.accept_windows = accept_windows or AcceptWindows()
        self.clock_tolerance = clock_tolerance
        self.open_deadlines = deadlines.OpenDeadlines()
        self.following_deadlines = LogFollower(
            self, self.open_deadlines, snapshots, events=deadlines.EVENTS
        )
        self.waiting_routes = WaitingRoutes(self, snapshots)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(HospitalAsDict())
        transcoder.register(CenterAsDict())

    # -- the directory ---------------------------------------------------------------------

    def load_directory(self, reference: ReferenceDirectory) -> None:
        """Seed the directory from reference data the first time, through the usual commands."""
        if DIRECTORY_ID in self.repository:
            return
        directory = Directory()
        for h in reference.hospitals:
            district = h.region_code[:6]
            directory.register_hospital(h.id, h.name, district, h.certified, REFERENCE_DATA)
        for c in reference.centers:
            directory.register_center(c.id, c.name, list(c.catchment), REFERENCE_DATA)
            for staff_id in c.social_workers:
                directory.staff_joined(c.id, staff_id, StaffRole.SOCIAL_WORKER, REFERENCE_DATA)
        self.commit(directory, cause=Cause.request())

    def directory(self) -> DirectoryView:
        d = self._directory()
        return DirectoryView(
            d.version,
            copy.deepcopy(list(d.hospitals.values())),
            copy.deepcopy(list(d.centers.values())),
        )

    def register_hospital(
        self, hospital_id: str, name: str, district: str, certified: bool, by: str, cause: Cause
    ) -> int:
        return self._change(
            lambda d: d.register_hospital(hospital_id, name, district, certified, by), cause
        )

    def set_certification(
        self, hospital_id: str, certified: bool, reason: str, by: str, cause: Cause
    ) -> int:
        if certified:
            return self._change(lambda d: d.certify_hospital(hospital_id, by), cause)
        return self._change(lambda d: d.revoke_certification(hospital_id, reason, by), cause)

    def register_center(
        self, center_id: str, name: str, catchment: list[str], by: str, cause: Cause
    ) -> int:
        return self._change(lambda d: d.register_center(center_id, name, catchment, by), cause)

    def add_catchment_area(self, center_id: str, region_code: str, by: str, cause: Cause) -> int:
        return self._change(lambda d: d.add_catchment_area(center_id, region_code, by), cause)

    def remove_catchment_area(
        self, center_id: str, region_code: str, reason: str, by: str, cause: Cause
    ) -> int:
        return self._change(
            lambda d: d.remove_catchment_area(center_id, region_code, reason, by), cause
        )

    def hand_over_catchment_area(
        self, region_code: str, from_id: str, to_id: str, reason: str, by: str, cause: Cause
    ) -> int:
        return self._change(
            lambda d: d.hand_over_catchment_area(region_code, from_id, to_id, reason, by), cause
        )

    def staff_joined(
        self, center_id: str, staff_id: str, role: StaffRole, by: str, cause: Cause
    ) -> int:
        return self._change(lambda d: d.staff_joined(center_id, staff_id, role, by), cause)

    def staff_left(self, center_id: str, staff_id: str, reason: str, by: str, cause: Cause) -> int:
        return self._change(lambda d: d.staff_left(center_id, staff_id, reason, by), cause)

    def _directory(self) -> Directory:
        directory: Directory = self.repository.get(DIRECTORY_ID)
        return directory

    def _change(self, change: Callable[[Directory], None], cause: Cause) -> int:
        """Apply one operator change; a concurrent change makes the commit fail (409)."""
        directory = self._directory()
        change(directory)
        self.commit(directory, cause=cause)
        return directory.version

    # -- routes and transfers --------------------------------------------------------------

    def route_diagnosed_patient(self, command: RouteDiagnosedPatient, cause: Cause) -> None:
        if Route.create_id(command.patient_id) in self.repository:
            return  # a later diagnosis does not move a patient who already has a route
        route = copy_of(Route, command)
        route.route_by_catchment(
            self._directory(), self.rules.local_date(command.recorded_at), self.rules
        )
        self.commit(route, cause=cause)

    def route_by_hand(
        self, patient_id: UUID, center_id: str, operator_id: str, cause: Cause
    ) -> str:
        """An operator routes a patient from the queue; a routed patient is transferred."""
        route = self._route(patient_id)
        directory = self._directory()
        outcome = route.route_by_hand(
            directory.center(center_id), directory.version, self._today(), operator_id, self.rules
        )
        self.commit(route, cause=cause)
        return outcome

    def change_residence(
        self, patient_id: UUID, region_code: str, moved_on: date, cause: Cause
    ) -> Moved:
        route = self._route(patient_id)
        outcome = route.move(
            region_code,
            moved_on,
            self._directory(),
            self.clock.now(),
            self.rules,
            self.clock_tolerance,
        )
        self.commit(route, cause=cause)
        return Moved(outcome, route.center_id)

    def _route(self, patient_id: UUID) -> Route:
        try:
            route: Route = self.repository.get(Route.create_id(patient_id))
        except AggregateNotFoundError:
            raise Unknown("no route for this patient") from None
        return route

    def _today(self) -> date:
        return self.rules.local_date(self.clock.now())

    # -- the referral saga -----------------------------------------------------------------

    def request_referral(self, command: RequestReferral, cause: Cause) -> None:
        if Referral.create_id(command.referral_id) in self.repository:
            return  # the same request again
        route = self._route(command.patient_id)
        directory = self._directory()
        referral = copy_of(Referral, command)
        hospital, why = directory.hospital_for_referral(
            route.diagnosing_hospital_id, route.region_code[:6]
        )
        if hospital is None:
            referral.leave_unplaced(route.diagnosing_hospital_id, why, directory.version)
            log.warning("referral escalated: no hospital", referral_id=str(command.referral_id))
        else:
            accept_by = self.clock.now() + self.accept_windows.for_reason(command.reason)
            referral.issue(hospital.id, accept_by, directory.version, chosen_because=why)
        self.commit(referral, cause=cause)

    def follow_hospital(self, command: FollowHospital, cause: Cause) -> None:
        """Accepted, declined, admitted or discharged: the hospital's side of the saga."""
        referral = self._referral(command.referral_id, command.patient_id)
        when = command.when
        on = self.rules.local_date(when) if isinstance(when, datetime) else when
        ignored = referral.hospital_answered(
            command.happening, command.hospital_id, on, command.detail
        )
        self._commit_or_log(referral, ignored, command.happening, cause)

    def withdraw_referral(self, command: WithdrawReferral, cause: Cause) -> None:
        referral = self._referral(command.referral_id, command.patient_id)
        ignored = referral.withdraw(command.reason)
        self._commit_or_log(referral, ignored, Happening.WITHDRAWN, cause)

    def _referral(self, referral_id: UUID, patient_id: UUID) -> Referral:
        try:
            referral: Referral = self.repository.get(Referral.create_id(referral_id))
        except AggregateNotFoundError:
            raise Unknown(f"unknown referral {referral_id}") from None
        if referral.patient_id != patient_id:
            raise Unknown(f"referral {referral_id} is about another patient")
        return referral

    def _commit_or_log(
        self, referral: Referral, ignored: str | None, happening: Happening, cause: Cause
    ) -> None:
        if ignored is not None:
            log.info(
                "referral unchanged",
                referral_id=str(referral.referral_id),
                happening=happening.value,
                reason=ignored,
            )
            return
        self.commit(referral, cause=cause)

    # -- deadlines -------------------------------------------------------------------------

    def act_on_due(self, now: datetime) -> int:
        """Route the waiting patients whose region the directory has come to hold, then flag
        overdue manual routing and escalate unaccepted referrals, each exactly once."""
        today = self.rules.local_date(now)
        routed = self.waiting_routes.route_those_now_held(today, self.rules)
        self.following_deadlines.catch_up()

        def flag(route: Route) -> bool:
            return route.flag_if_overdue(today)

        def escalate(referral: Referral) -> bool:
            return referral.escalate_if_unaccepted(now)

        return (
            routed
            + act_once_each(self, self.open_deadlines.routes_overdue(today), flag)
            + act_once_each(self, self.open_deadlines.referrals_unaccepted(now), escalate)
        )
