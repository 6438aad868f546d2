"""Whom notifications tells about a patient, folded from the events it consumes.

The access graph (`carenet_access.relations`) folds the same events into who *may see* the
patient; this circle is who is *told*, and it is a model of its own on purpose:

- It is folded in notifications' own order of consumption, each event planned against the
  circle as the events before it left it, in the transaction that records the notifications.
  The graph is kept by another consumer at its own pace: planning against it would make the
  recipients of a message depend on which reader happened to be ahead.
- It keeps other facts: the one current center, case manager and diagnosing hospital (who
  hears of an escalation or a closing), each member's role, and what each relative asked to be
  notified of. The graph keeps every hospital ever involved, the team and consents per case,
  and emergency grants.
- Its stored events (`HospitalNoted`, `MemberLeft`, `FamilyLinked`, ...) name neither the case
  nor the time of a consent, from which the graph's relations are folded: circles recorded
  already could not be rebuilt as relations.

Both read the network's events alike where their facts are the same (the center, the care
team, the relatives with consent); `tests/test_circle.py` folds one pathway into both and
checks that they agree.
"""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_contracts import Payload
from carenet_contracts.casework import (
    CareTeamMemberJoined,
    CareTeamMemberLeft,
    CaseClosed,
    CaseManagerAssigned,
    CaseOpened,
    FamilyConsentWithdrawn,
    FamilyMemberLinked,
)
from carenet_contracts.intake import DiagnosisRecorded
from carenet_contracts.routing import PatientRouted, PatientTransferred
from carenet_notifications.circle import Circle, FamilyConsent

CIRCLE_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:notifications:patient-circle")


class PatientCircle(Aggregate):
    """The current center, case manager, diagnosing hospital, care team and consented family.

    Events of different producers arrive in no common order, so each change only applies
    where it still fits (a closed case clears only if it is the current one).
    """

    @staticmethod
    def create_id(patient_id: UUID) -> UUID:
        return uuid5(CIRCLE_NAMESPACE, str(patient_id))

    @event("Started")
    def __init__(self, patient_id: UUID) -> None:
        self.patient_id = patient_id
        self.center_id: str | None = None
        self.case_id: UUID | None = None
        self.case_manager_id: str | None = None
        self.hospital_id: str | None = None
        self.team: dict[tuple[str, str], UUID] = {}
        """(role, member) -> the case they joined."""
        self.family: dict[str, FamilyConsent] = {}

    def view(self) -> Circle:
        return Circle(
            center_id=self.center_id,
            case_manager_id=self.case_manager_id,
            hospital_id=self.hospital_id,
            team=frozenset(self.team),
            family=dict(self.family),
        )

    def is_consented(self, member_id: str) -> bool:
        return member_id in self.family

    def learn(self, data: Payload) -> None:
        """Keep what one of the network's events says about the people around the patient."""
        match data:
            case DiagnosisRecorded():
                self.note_hospital(data.hospital_id)
            case PatientRouted():
                self.routed(data.center_id, data.diagnosing_hospital_id)
            case PatientTransferred():
                self.transferred(data.from_center_id, data.to_center_id)
            case CaseOpened():
                self.case_opened(data.case_id, data.center_id)
            case CaseManagerAssigned():
                self.case_manager_assigned(data.case_id, data.center_id, data.case_manager_id)
            case CaseClosed():
                self.case_closed(data.case_id)
            case CareTeamMemberJoined():
                self.member_joined(data.case_id, data.member_id, str(data.role))
            case CareTeamMemberLeft():
                self.member_left(data.member_id, str(data.role))
            case FamilyMemberLinked():
                scope = data.scope
                self.family_linked(data.member_id, list(scope.may_see), list(scope.notified_of))
            case FamilyConsentWithdrawn():
                self.family_consent_withdrawn(data.member_id)

    @event("HospitalNoted")
    def note_hospital(self, hospital_id: str) -> None:
        self.hospital_id = hospital_id

    @event("Routed")
    def routed(self, center_id: str, hospital_id: str) -> None:
        self.center_id = self.center_id or center_id
        self.hospital_id = self.hospital_id or hospital_id

    @event("CaseOpened")
    def case_opened(self, case_id: UUID, center_id: str) -> None:
        self.case_id = case_id
        self.center_id = center_id
        self.case_manager_id = None

    @event("CaseManagerAssigned")
    def case_manager_assigned(self, case_id: UUID, center_id: str, case_manager_id: str) -> None:
        self.case_id = case_id
        self.center_id = center_id
        self.case_manager_id = case_manager_id

    @event("CaseClosed")
    def case_closed(self, case_id: UUID) -> None:
        self.team = {k: case for k, case in self.team.items() if case != case_id}
        if self.case_id == case_id:
            self.case_id = None
            self.case_manager_id = None
            self.center_id = None

    @event("Transferred")
    def transferred(self, from_center_id: str, to_center_id: str) -> None:
        """The center moves at once; the case manager stays until casework closes their case."""
        if self.center_id in (None, from_center_id):
            self.center_id = to_center_id

    @event("MemberJoined")
    def member_joined(self, case_id: UUID, member_id: str, role: str) -> None:
        self.team[(role, member_id)] = case_id

    @event("MemberLeft")
    def member_left(self, member_id: str, role: str) -> None:
        self.team.pop((role, member_id), None)

    @event("FamilyLinked")
    def family_linked(self, member_id: str, may_see: list[str], notified_of: list[str]) -> None:
        self.family[member_id] = FamilyConsent(frozenset(may_see), frozenset(notified_of))

    class FamilyConsentWithdrawn(Aggregate.Event):
        member_id: str

    @event(FamilyConsentWithdrawn)
    def family_consent_withdrawn(self, member_id: str) -> None:
        self.family.pop(member_id, None)
