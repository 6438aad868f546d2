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
- Its stored events (`HospitalNoted`, `MemberLeft`, ...) do not carry all the graph's relations
  are folded from: circles recorded already could not be rebuilt as relations.

On consent both follow the same rule, each in its own code: a relative is told only while a
consent is in force, as it happened (an older "yes" recorded after a newer "no" grants
nothing), and a consent ends with the case it was given in. Since version 2 of `FamilyLinked`
and `FamilyConsentWithdrawn` the circle keeps the case and time this needs; older records are
read conservatively (see those events).

Both read the network's events alike where their facts are the same (the center, the care
team, the relatives with consent); `tests/test_circle.py` folds one pathway into both and
checks that they agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
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
        self.consent_cases: dict[str, UUID | None] = {}
        """Relative -> the case their consent in force was given in (None: recorded before
        version 2 of `FamilyLinked`, case unknown)."""
        self.withdrawn_at: dict[str, datetime] = {}
        """When each relative's consent was last withdrawn, as it happened (not as recorded)."""

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

    def learn(self, data: Payload, occurred_at: datetime) -> None:
        """Keep what one of the network's events, which happened at `occurred_at`, says about
        the people around the patient."""
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
                self.family_linked(
                    data.member_id,
                    list(scope.may_see),
                    list(scope.notified_of),
                    data.case_id,
                    occurred_at,
                )
            case FamilyConsentWithdrawn():
                self.family_consent_withdrawn(data.member_id, occurred_at)

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
        """The case's team and the consents given in it end with it. A consent of unknown case
        (recorded before version 2 of `FamilyLinked`) ends with the first case to close."""
        self.team = {k: case for k, case in self.team.items() if case != case_id}
        for member_id, consent_case in list(self.consent_cases.items()):
            if consent_case in (case_id, None):
                self._end_consent(member_id)
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

    class FamilyLinked(Aggregate.Event):
        member_id: str
        may_see: list[str]
        notified_of: list[str]
        case_id: UUID | None
        """The case the consent was given in; None in stores written before (version 1)."""
        consented_at: datetime | None
        """When the consent was given; None in stores written before (version 1)."""

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["case_id"] = None
            state["consented_at"] = None

    @event(FamilyLinked)
    def family_linked(
        self,
        member_id: str,
        may_see: list[str],
        notified_of: list[str],
        case_id: UUID | None,
        consented_at: datetime | None,
    ) -> None:
        """A consent given before the relative's last withdrawal grants nothing, however late
        it was recorded: an older "yes" never undoes a newer "no". One of unknown time (version
        1) grants nothing either once a withdrawal is known: it may be the older one."""
        withdrawn_at = self.withdrawn_at.get(member_id)
        if withdrawn_at is not None and (consented_at is None or consented_at < withdrawn_at):
            return
        self.family[member_id] = FamilyConsent(frozenset(may_see), frozenset(notified_of))
        self.consent_cases[member_id] = case_id

    class FamilyConsentWithdrawn(Aggregate.Event):
        member_id: str
        withdrawn_at: datetime
        """When the consent was withdrawn. Stores written before (version 1) kept no such time:
        their withdrawals count as of when notifications recorded them, never earlier than
        they happened, so they refuse at least every consent older than them."""

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["withdrawn_at"] = state["timestamp"]

    @event(FamilyConsentWithdrawn)
    def family_consent_withdrawn(self, member_id: str, withdrawn_at: datetime) -> None:
        self._end_consent(member_id)
        latest = max(withdrawn_at, self.withdrawn_at.get(member_id, withdrawn_at))
        self.withdrawn_at[member_id] = latest

    def _end_consent(self, member_id: str) -> None:
        self.family.pop(member_id, None)
        self.consent_cases.pop(member_id, None)
