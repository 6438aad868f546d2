"""A patient's care-and-assistance team (关爱帮扶小组): who is on it, in which role, since when.

The team follows the patient's current case; the application keeps it in step with the case
(opening, case manager, transfer) in the same transaction as the case changes.
"""

from __future__ import annotations

from enum import StrEnum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_casework.domain.errors import AlreadyRecorded, NotRecorded, RuleBroken
from carenet_contracts.common import CareTeamRole

TEAM_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:casework:care-team")

JOINED_ELSEWHERE: dict[CareTeamRole, str] = {
    CareTeamRole.CASE_MANAGER: "the case manager changes by reassignment (POST .../case-manager)",
    CareTeamRole.FAMILY_MEMBER: "relatives join by consent (POST /v1/patients/{id}/family)",
    CareTeamRole.GUARDIAN: "the guardian joins by consent (POST /v1/patients/{id}/family)",
}
"""Roles that only follow from another fact; the team API refuses them, saying where to go."""

STAYS_WITH_THE_PATIENT = frozenset({CareTeamRole.FAMILY_MEMBER, CareTeamRole.GUARDIAN})
"""Roles that stay when the case moves to another center; the local staff leave."""


def relative_role(is_guardian: bool) -> CareTeamRole:
    return CareTeamRole.GUARDIAN if is_guardian else CareTeamRole.FAMILY_MEMBER


class LeaveReason(StrEnum):
    """Why a member was taken off the team: codes, so no free text reaches the topic."""

    STEPPED_DOWN = "stepped_down"
    LEFT_THE_ORGANISATION = "left_the_organisation"
    NO_LONGER_NEEDED = "no_longer_needed"


CONSENT_WITHDRAWN = "consent_withdrawn"
"""A relative leaves because the consent that linked them was withdrawn."""
CASE_MOVED = "case_moved_to_another_center"
"""The old center's staff leave when the patient's case moves (transfer)."""


class ReassignmentReason(StrEnum):
    """Why a case moves to another social worker of the center."""

    LEAVE = "leave"
    CASELOAD = "caseload"
    LEFT_THE_CENTER = "left_the_center"
    PATIENT_REQUEST = "patient_or_family_request"
    CONTINUITY_OF_CARE = "continuity_of_care"


class CareTeam(Aggregate):
    """One patient's team; a member holds each role at most once at a time."""

    @staticmethod
    def create_id(patient_id: UUID) -> UUID:
        return uuid5(TEAM_NAMESPACE, str(patient_id))

    class Formed(Aggregate.Created):
        patient_id: UUID
        case_id: UUID
        center_id: str

    @event(Formed)
    def __init__(self, patient_id: UUID, case_id: UUID, center_id: str) -> None:
        self.patient_id = patient_id
        self.case_id = case_id
        self.center_id = center_id
        self.members: set[tuple[str, CareTeamRole]] = set()

    class MemberJoined(Aggregate.Event):
        patient_id: UUID
        case_id: UUID
        member_id: str
        role: str

    @event(MemberJoined)
    def _joined(self, patient_id: UUID, case_id: UUID, member_id: str, role: str) -> None:
        self.members.add((member_id, CareTeamRole(role)))

    class MemberLeft(Aggregate.Event):
        patient_id: UUID
        case_id: UUID
        member_id: str
        role: str
        reason: str

    @event(MemberLeft)
    def _left(
        self, patient_id: UUID, case_id: UUID, member_id: str, role: str, reason: str
    ) -> None:
        self.members.discard((member_id, CareTeamRole(role)))

    class MovedToCase(Aggregate.Event):
        patient_id: UUID
        case_id: UUID
        center_id: str

    @event(MovedToCase)
    def _moved(self, patient_id: UUID, case_id: UUID, center_id: str) -> None:
        self.case_id = case_id
        self.center_id = center_id

    def holds(self, member_id: str, role: CareTeamRole) -> bool:
        return (member_id, role) in self.members

    def holders(self, role: CareTeamRole) -> list[str]:
        return sorted(m for m, r in self.members if r == role)

    def join(self, member_id: str, role: CareTeamRole) -> None:
        if self.holds(member_id, role):
            raise AlreadyRecorded(f"{member_id} already holds the role {role.value}")
        self._joined(self.patient_id, self.case_id, member_id, role.value)

    def leave(self, member_id: str, role: CareTeamRole, reason: str) -> None:
        if not self.holds(member_id, role):
            raise NotRecorded(f"{member_id} does not hold the role {role.value} in this team")
        self._left(self.patient_id, self.case_id, member_id, role.value, reason)

    def add_member(self, member_id: str, role: CareTeamRole) -> None:
        """A member added by hand: any role that does not follow from another fact."""
        if role in JOINED_ELSEWHERE:
            raise RuleBroken(JOINED_ELSEWHERE[role])
        self.join(member_id, role)

    def remove_member(self, member_id: str, role: CareTeamRole, reason: LeaveReason) -> None:
        if role in JOINED_ELSEWHERE:
            raise RuleBroken(JOINED_ELSEWHERE[role])
        self.leave(member_id, role, reason.value)

    def change_case_manager(self, case_manager_id: str, reason: str) -> None:
        """The case's manager is the team's only case_manager member."""
        for previous in self.holders(CareTeamRole.CASE_MANAGER):
            if previous != case_manager_id:
                self.leave(previous, CareTeamRole.CASE_MANAGER, reason)
        if not self.holds(case_manager_id, CareTeamRole.CASE_MANAGER):
            self.join(case_manager_id, CareTeamRole.CASE_MANAGER)

    def follow_case(self, case_id: UUID, center_id: str) -> None:
        """The patient's case moved to another center: the old center's staff leave."""
        if case_id == self.case_id:
            return
        for member_id, role in sorted(self.members):
            if role not in STAYS_WITH_THE_PATIENT:
                self.leave(member_id, role, CASE_MOVED)
        self._moved(self.patient_id, case_id, center_id)
