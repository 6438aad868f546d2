"""Casework's use case "team, family and sessions": who is on the patient's care team and why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from carenet_casework.application.base import CaseworkBase
from carenet_casework.domain import Case
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
from carenet_contracts.common import CareTeamRole
from carenet_kit.outbox import Cause


@dataclass(frozen=True)
class FamilyLink:
    member_id: str
    relationship: Relationship
    is_guardian: bool
    given_by: ConsentGiver
    scope: Scope
    given_on: date | None = None
    """The day the consent was given, when it is entered later; today if not said."""


class TeamFamilyAndSessions(CaseworkBase):
    """Team members, the case manager, relatives by consent, rehabilitation sessions."""

    def add_team_member(
        self, patient_id: UUID, member_id: str, role: CareTeamRole, cause: Cause
    ) -> None:
        team = self._team(patient_id)
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
        team.remove_member(member_id, role, reason)
        self.commit(team, cause=cause)

    def reassign_case_manager(
        self, case_id: UUID, case_manager_id: str, reason: ReassignmentReason, cause: Cause
    ) -> str | None:
        """Another social worker of the center takes the case; caseload and care team follow.

        Returns the previous case manager.
        """
        case: Case = self.repository.get(case_id)
        caseload = self._caseload(case.center_id, [])
        caseload.move_case(case.id, case.case_manager_id, case_manager_id)
        previous = case.reassign_manager(case_manager_id, reason.value)
        team: CareTeam | None = self.find(CareTeam.create_id(case.patient_id))
        if team is None or team.case_id != case.id:  # a closed case: the team followed the next
            self.commit(case, caseload, cause=cause)
        else:
            team.change_case_manager(case_manager_id, reason.value)
            self.commit(case, caseload, team, cause=cause)
        return previous

    def link_family_member(self, patient_id: UUID, link: FamilyLink, cause: Cause) -> None:
        """Record the consent and put the relative on the care team, in one transaction."""
        team = self._team(patient_id)
        family = self._family(patient_id)
        given_on = link.given_on or self.today()
        self.dates.consent("given_on", given_on, self._opened_on(team.case_id), self.clock.now())
        family.link(
            team.case_id,
            link.member_id,
            link.relationship,
            link.is_guardian,
            link.given_by,
            link.scope,
            given_on,
        )
        team.join(link.member_id, relative_role(link.is_guardian))
        self.commit(family, team, cause=cause)

    def withdraw_family_consent(
        self,
        patient_id: UUID,
        member_id: str,
        withdrawn_by: Withdrawer,
        cause: Cause,
        withdrawn_on: date | None = None,
    ) -> None:
        team = self._team(patient_id)
        family = self._family(patient_id)
        withdrawn_on = withdrawn_on or self.today()
        now = self.clock.now()
        self.dates.consent("withdrawn_on", withdrawn_on, self._opened_on(team.case_id), now)
        consent = family.withdraw(team.case_id, member_id, withdrawn_by, withdrawn_on)
        team.leave(member_id, relative_role(consent.is_guardian), CONSENT_WITHDRAWN)
        self.commit(family, team, cause=cause)

    def family_consent(self, patient_id: UUID, member_id: str) -> Consent | None:
        """The relative's standing consent, read from the store: a withdrawal counts at once."""
        family: Family | None = self.find(Family.create_id(patient_id))
        return None if family is None else family.consents.get(member_id)

    def hold_session(self, plan: SessionPlan, attendees: list[UUID], cause: Cause) -> None:
        """Record a session or activity, and who attended if that is known already."""
        self._require_center(plan.center_id)
        if plan.session_id in self.repository:
            raise AlreadyRecorded("this session is already recorded")
        self.dates.session(plan.held_on, self.clock.now())
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
            raise NotRecorded("no such session") from None
        new = self._attend(session, patient_ids)
        if new:
            self.commit(session, cause=cause)
        return new

    def _attend(self, session: RehabilitationSession, patient_ids: list[UUID]) -> list[UUID]:
        if not patient_ids:
            return []
        if unknown := [p for p in patient_ids if CareTeam.create_id(p) not in self.repository]:
            raise RuleBroken(f"no case for patient(s): {', '.join(map(str, unknown))}")
        return session.record_attendance(patient_ids, self.today())
