"""Casework's service layer: open cases for routed patients, assign case managers, record visits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import ClassVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from carenet_casework import rules
from carenet_casework.domain import Case, Caseload, Visit
from carenet_casework.domain.errors import AlreadyRecorded, NotRecorded, RuleBroken
from carenet_casework.domain.family import (
    Consent,
    ConsentGiver,
    Family,
    Relationship,
    Scope,
    Withdrawer,
)
from carenet_casework.domain.sessions import RehabilitationSession, SessionPlan
from carenet_casework.domain.team import (
    CONSENT_WITHDRAWN,
    CareTeam,
    LeaveReason,
    ReassignmentReason,
    relative_role,
)
from carenet_contracts import Envelope, VisitClassification
from carenet_contracts.common import CareTeamRole
from carenet_contracts.routing import PatientRouted
from carenet_kit.application import OutboundMapper, ServiceApplication
from carenet_kit.inbound import CommandConflict, CommandRejected
from carenet_kit.outbox import Cause


@dataclass(frozen=True)
class VisitOutcome:
    classification: VisitClassification
    next_follow_up_due: date
    rule_set_version: str


class CaseworkApplication(ServiceApplication):
    producer: ClassVar = "casework"

    def __init__(
        self, env: dict[str, str], outbound: OutboundMapper, rosters: dict[str, list[str]]
    ) -> None:
        super().__init__(env, outbound)
        self.rosters = rosters
        """Social workers per community health center, from reference data."""

    def open_case(self, routed: Envelope[PatientRouted], cause: Cause) -> None:
        """Open the case at the center and give it the social worker with the fewest cases."""
        data = routed.data
        case_id = Case.create_id(routed.patient_id, data.center_id)
        if case_id in self.repository:
            return
        case = Case(
            patient_id=routed.patient_id,
            center_id=data.center_id,
            diagnosing_hospital_id=data.diagnosing_hospital_id,
            category=data.category.value,
            risk_level=data.risk_level,
            first_visit_due=data.first_visit_due,
        )
        caseload = self._caseload(data.center_id)
        manager = caseload.choose_case_manager(case.id)
        if manager is not None:
            case.assign_manager(manager, reason="fewest active cases at the center")
        self.commit(case, caseload, cause=cause)

    def record_visit(self, case_id: UUID, visit: Visit, cause: Cause) -> VisitOutcome:
        case: Case = self.repository.get(case_id)
        if visit.visit_id in case.visits:
            raise CommandConflict("this visit is already recorded")
        try:
            classification = case.record_visit(visit)
        except ValueError as error:
            raise CommandConflict(str(error)) from None
        self.commit(case, cause=cause)
        return VisitOutcome(classification, case.next_due, rules.RULE_SET.version)

    def _caseload(self, center_id: str) -> Caseload:
        caseload_id = Caseload.create_id(center_id)
        if caseload_id in self.repository:
            caseload: Caseload = self.repository.get(caseload_id)
            return caseload
        return Caseload(center_id, self.rosters.get(center_id, []))

    # ---- Care team, family consent, rehabilitation sessions, case-manager reassignment ----

    def commit(self, *aggregates: Aggregate, cause: Cause) -> None:
        """Every change to a case carries its care team along, in the same transaction.

        A case opened forms the patient's team (or moves it there, after a transfer); a case
        manager assigned or reassigned becomes the team's case_manager member. Doing it here,
        from the cases' new events, keeps the team right whichever command changed the case.
        """
        teams = self._teams_following(aggregates)
        super().commit(*aggregates, *teams, cause=cause)

    def add_team_member(
        self, patient_id: UUID, member_id: str, role: CareTeamRole, cause: Cause
    ) -> None:
        team = self._team(patient_id)
        with refusals():
            team.add_member(member_id, role)
        self.commit(team, cause=cause)

    def remove_team_member(
        self,
        patient_id: UUID,
        member_id: str,
        role: CareTeamRole,
        reason: LeaveReason,
        cause: Cause,
    ) -> None:
        team = self._team(patient_id)
        with refusals():
            team.remove_member(member_id, role, reason)
        self.commit(team, cause=cause)

    def reassign_case_manager(
        self, case_id: UUID, case_manager_id: str, reason: ReassignmentReason, cause: Cause
    ) -> str | None:
        """Another social worker of the center takes the case; caseload and team follow.

        Returns the previous case manager.
        """
        case: Case = self.repository.get(case_id)
        previous = case.case_manager_id
        caseload = self._caseload(case.center_id)
        with refusals():
            caseload.move_case(case.id, previous, case_manager_id)
        case.reassign_manager(
            patient_id=case.patient_id,
            center_id=case.center_id,
            case_manager_id=case_manager_id,
            previous_case_manager_id=previous,
            reason=reason.value,
        )
        self.commit(case, caseload, cause=cause)
        return previous

    def link_family_member(self, patient_id: UUID, link: FamilyLink, cause: Cause) -> None:
        """Record the consent and put the relative on the care team, in one transaction."""
        team = self._team(patient_id)
        family = self._family(patient_id)
        with refusals():
            family.link(
                team.case_id,
                link.member_id,
                link.relationship,
                link.is_guardian,
                link.given_by,
                link.scope,
            )
            team.join(link.member_id, relative_role(link.is_guardian))
        self.commit(family, team, cause=cause)

    def withdraw_family_consent(
        self, patient_id: UUID, member_id: str, withdrawn_by: Withdrawer, cause: Cause
    ) -> None:
        team = self._team(patient_id)
        family = self._family(patient_id)
        with refusals():
            consent = family.withdraw(team.case_id, member_id, withdrawn_by)
            team.leave(member_id, relative_role(consent.is_guardian), CONSENT_WITHDRAWN)
        self.commit(family, team, cause=cause)

    def family_consent(self, patient_id: UUID, member_id: str) -> Consent | None:
        """The relative's standing consent, read from the store: a withdrawal counts at once."""
        family_id = Family.create_id(patient_id)
        if family_id not in self.repository:
            return None
        family: Family = self.repository.get(family_id)
        return family.consents.get(member_id)

    def hold_session(self, plan: SessionPlan, attendees: list[UUID], cause: Cause) -> None:
        """Record a session or activity, and who attended if that is known already."""
        if plan.center_id not in self.rosters:
            raise CommandRejected(f"{plan.center_id} is not a community health center")
        if plan.session_id in self.repository:
            raise CommandConflict("this session is already recorded")
        with refusals():
            session = RehabilitationSession.hold(plan)
        self._attend(session, attendees)
        self.commit(session, cause=cause)

    def record_attendance(
        self, session_id: UUID, patient_ids: list[UUID], cause: Cause
    ) -> list[UUID]:
        """Each new attendee gets the session in their own history; returns who was new."""
        try:
            session: RehabilitationSession = self.repository.get(session_id)
        except AggregateNotFoundError:
            raise Unknown("no such session") from None
        new = self._attend(session, patient_ids)
        if new:
            self.commit(session, cause=cause)
        return new

    def _attend(self, session: RehabilitationSession, patient_ids: list[UUID]) -> list[UUID]:
        if not patient_ids:
            return []
        if unknown := [p for p in patient_ids if CareTeam.create_id(p) not in self.repository]:
            raise CommandRejected(f"no case for patient(s): {', '.join(map(str, unknown))}")
        with refusals():
            return session.record_attendance(patient_ids, self.clock.now().date())

    def _team(self, patient_id: UUID) -> CareTeam:
        team_id = CareTeam.create_id(patient_id)
        if team_id not in self.repository:
            raise Unknown("no case, hence no care team, for this patient")
        team: CareTeam = self.repository.get(team_id)
        return team

    def _family(self, patient_id: UUID) -> Family:
        family_id = Family.create_id(patient_id)
        if family_id in self.repository:
            family: Family = self.repository.get(family_id)
            return family
        return Family(patient_id)

    def _teams_following(self, aggregates: tuple[Aggregate, ...]) -> list[CareTeam]:
        """The teams of the cases among `aggregates`, brought in step with their new events."""
        teams: dict[UUID, CareTeam] = {}
        for case in aggregates:
            if not isinstance(case, Case):
                continue
            for domain_event in case.pending_events:
                team_id = CareTeam.create_id(case.patient_id)
                team = teams.get(team_id)
                if team is None and team_id in self.repository:
                    team = self.repository.get(team_id)
                match domain_event:
                    case Case.Opened():
                        if team is None:
                            team = CareTeam(case.patient_id, case.id, case.center_id)
                        team.follow_case(case.id, case.center_id)
                    case Case.ManagerAssigned() | Case.ManagerReassigned() if (
                        team is not None and team.case_id == case.id
                    ):
                        team.change_case_manager(domain_event.case_manager_id, domain_event.reason)
                if team is not None:
                    teams[team_id] = team
        return [team for team in teams.values() if team not in aggregates]


class Unknown(LookupError):
    """The command names a patient, member or session casework does not know (HTTP 404)."""


@contextmanager
def refusals() -> Iterator[None]:
    """The domain's refusals, as the inbound and HTTP layers know them."""
    try:
        yield
    except RuleBroken as error:
        raise CommandRejected(str(error)) from None
    except AlreadyRecorded as error:
        raise CommandConflict(str(error)) from None
    except NotRecorded as error:
        raise Unknown(str(error)) from None


@dataclass(frozen=True)
class FamilyLink:
    member_id: str
    relationship: Relationship
    is_guardian: bool
    given_by: ConsentGiver
    scope: Scope
