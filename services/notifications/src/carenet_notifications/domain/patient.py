"""Notifications' own copy of who surrounds a patient, built from the events it consumes."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

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
