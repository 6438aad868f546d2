"""Casework's service layer: cases for routed patients, visits, deadlines, referrals, transfers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ClassVar
from uuid import UUID

import structlog
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from carenet_casework.contact_details import ContactDetails
from carenet_casework.domain import Case, CaseConflict, Caseload, Emergency, PatientCases, Visit
from carenet_casework.domain.errors import (
    AlreadyRecorded,
    NotRecorded,
    RuleBroken,
)
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
from carenet_casework.plausibility import DateRules
from carenet_casework.rules import RuleSet
from carenet_contracts import Envelope, VisitClassification
from carenet_contracts.common import CareTeamRole
from carenet_contracts.routing import PatientRouted, PatientTransferred
from carenet_kit.application import OutboundMapper
from carenet_kit.clock import Clock
from carenet_kit.inbound import CommandConflict, CommandRejected
from carenet_kit.keystore import KeyStore
from carenet_kit.outbox import Cause
from carenet_kit.plausibility import DEFAULT_CLOCK_TOLERANCE
from carenet_kit.scheduler import act_once_each

log = structlog.get_logger()


@dataclass(frozen=True)
class Diagnosis:
    """What a case knows of the diagnosis, carried from route to case and case to case."""

    hospital_id: str
    category: str
    risk_level: int


@dataclass(frozen=True)
class VisitOutcome:
    classification: VisitClassification
    next_follow_up_due: date
    rule_set_version: str
    referral_id: UUID | None


@dataclass(frozen=True)
class EmergencyOutcome:
    recorded_late: bool
    referral_id: UUID | None
    rule_set_version: str


class CaseworkApplication(ContactDetails):
    producer: ClassVar = "casework"
    snapshotting_intervals: ClassVar = {Caseload: 50}
    """A center's caseload takes an event per case opened: start from a recent snapshot."""

    def __init__(
        self,
        env: dict[str, str],
        outbound: OutboundMapper,
        rules: RuleSet,
        clock: Clock | None = None,
        rosters: dict[str, list[str]] | None = None,
        *,
        master_key: bytes,
        clock_tolerance: timedelta = DEFAULT_CLOCK_TOLERANCE,
    ) -> None:
        super().__init__(env, outbound, clock)
        self.contact_keys = KeyStore.construct(self.factory, master_key, self.contact_key_purpose)
        """A key pair per case: its private key, for the patient's contact details."""
        self.rules = rules
        self.dates = DateRules(rules, clock_tolerance)
        """The plausibility rules of the dates casework accepts (`plausibility`)."""
        self.rosters = rosters or {}
        """Social workers per center from reference data, for routes that carry none."""

    # -- a patient arrives at a center -----------------------------------------------------------

    def open_case(self, routed: Envelope[PatientRouted], cause: Cause) -> None:
        """Open the case at the center and give it the social worker with the fewest cases."""
        data = routed.data
        self._move_to_center(
            routed.patient_id,
            data.center_id,
            data.first_visit_due,
            data.social_worker_ids,
            close_reason=f"routed to {data.center_id}",
            cause=cause,
            diagnosis=Diagnosis(data.diagnosing_hospital_id, data.category.value, data.risk_level),
        )

    def transfer(self, transferred: Envelope[PatientTransferred], cause: Cause) -> None:
        """Close the case at the old center and open one at the new, in one transaction."""
        data = transferred.data
        self._move_to_center(
            transferred.patient_id,
            data.to_center_id,
            data.first_visit_due,
            data.social_worker_ids,
            close_reason=f"moved on {data.moved_on}: transferred to {data.to_center_id}",
            cause=cause,
        )

    def _move_to_center(
        self,
        patient_id: UUID,
        center_id: str,
        first_visit_due: date,
        social_workers: list[str],
        close_reason: str,
        cause: Cause,
        diagnosis: Diagnosis | None = None,
    ) -> None:
        patient = self._patient_cases(patient_id)
        previous = self._active_case(patient)
        if previous is not None and previous.center_id == center_id:
            return  # routed where the patient already is
        if diagnosis is None and previous is not None:
            diagnosis = Diagnosis(
                previous.diagnosing_hospital_id, previous.category, previous.risk_level
            )
        diagnosis = diagnosis or Diagnosis(hospital_id="", category="", risk_level=0)
        ordinal = len(patient.case_ids) + 1
        case_id = Case.create_id(patient_id, center_id, ordinal)
        case = Case(
            patient_id=patient_id,
            center_id=center_id,
            diagnosing_hospital_id=diagnosis.hospital_id,
            category=diagnosis.category,
            risk_level=diagnosis.risk_level,
            first_visit_due=first_visit_due,
            opened_on=self.rules.local_date(self.clock.now()),
            ordinal=ordinal,
            transferred_from_case_id=previous.id if previous else None,
            last_classification=(
                previous.last_classification.value
                if previous and previous.last_classification
                else None
            ),
            contact_key=self.new_contact_key(patient, case_id),
        )
        changed: list[Case | Caseload | PatientCases] = []  # the old case closes first
        if previous is not None:
            previous.close(close_reason, continued_by_case_id=case.id)
            changed.append(previous)
            if previous.case_manager_id is not None:
                old_caseload = self._caseload(previous.center_id, [])
                old_caseload.case_closed(previous.id, previous.case_manager_id)
                changed.append(old_caseload)
        patient.activate(case.id)
        caseload = self._caseload(center_id, social_workers or self.rosters.get(center_id, []))
        manager = caseload.choose_case_manager(case.id)
        if manager is not None:
            case.assign_manager(manager, reason="fewest active cases at the center")
        self.commit(*changed, case, patient, caseload, cause=cause)

    # -- the case manager's work -------------------------------------------------------------------

    def record_visit(self, case_id: UUID, visit: Visit, cause: Cause) -> VisitOutcome:
        case: Case = self.repository.get(case_id)
        self.dates.visit(visit.visited_on, case.opened_on, self.clock.now())
        referral_before = case.open_referral_id
        with _as_conflict():
            classification = case.record_visit(visit, self.rules)
        self.commit(case, cause=cause)
        referral = case.open_referral_id if case.open_referral_id != referral_before else None
        return VisitOutcome(classification, case.next_due, self.rules.version, referral)

    def record_emergency(
        self, case_id: UUID, emergency: Emergency, cause: Cause
    ) -> EmergencyOutcome:
        case: Case = self.repository.get(case_id)
        self.dates.emergency(emergency.occurred_at, case.opened_on, self.clock.now())
        if emergency.emergency_id in case.emergencies:
            raise CommandConflict("this emergency is already recorded")
        referral_before = case.open_referral_id
        with _as_conflict():
            late = case.record_emergency(emergency, self.clock.now(), self.rules)
        self.commit(case, cause=cause)
        referral = case.open_referral_id if case.open_referral_id != referral_before else None
        return EmergencyOutcome(late, referral, self.rules.version)

    def withdraw_referral(
        self, case_id: UUID, referral_id: UUID, reason: str, cause: Cause
    ) -> None:
        case: Case = self.repository.get(case_id)
        with _as_conflict():
            case.withdraw_referral(referral_id, reason)
        self.commit(case, cause=cause)

    # -- what hospitals and routing report -------------------------------------------------------

    def patient_admitted(
        self,
        patient_id: UUID,
        admission_id: UUID,
        hospital_id: str,
        admitted_on: date,
        cause: Cause,
    ) -> None:
        self._change_active_case(
            patient_id,
            lambda case: case.admitted(admission_id, hospital_id, admitted_on, self.rules),
            cause,
            unchanged_because="admission of a patient without an active case at home",
        )

    def patient_discharged(
        self, patient_id: UUID, admission_id: UUID, discharged_on: date, cause: Cause
    ) -> None:
        self._change_active_case(
            patient_id,
            lambda case: case.discharged(admission_id, discharged_on, self.rules),
            cause,
            unchanged_because="discharge of a patient without an active case",
        )

    def referral_ended(
        self, patient_id: UUID, referral_id: UUID, outcome: str, cause: Cause
    ) -> None:
        self._change_active_case(
            patient_id,
            lambda case: case.referral_ended(referral_id, outcome),
            cause,
            unchanged_because="end of a referral the case does not hold open",
        )

    def referral_not_admitted(
        self, patient_id: UUID, referral_id: UUID, outcome: str, at: datetime, cause: Cause
    ) -> None:
        today = self.rules.local_date(at)
        self._change_active_case(
            patient_id,
            lambda case: case.referral_not_admitted(referral_id, outcome, today, self.rules),
            cause,
            unchanged_because="end of a referral the case does not hold open",
        )

    def _change_active_case(
        self,
        patient_id: UUID,
        change: Callable[[Case], bool],
        cause: Cause,
        unchanged_because: str,
    ) -> None:
        """Apply a reported fact to the patient's active case; log why when it changes nothing."""
        case = self._active_case_of(patient_id)
        if case is not None and change(case):
            self.commit(case, cause=cause)
        else:
            log.info("event changes nothing here", reason=unchanged_because)

    # -- time ------------------------------------------------------------------------------------

    def handle_deadlines(self, case_ids: Iterable[UUID], now: datetime) -> int:
        """Record the missed follow-ups and yearly checks of these cases, each once."""
        today = self.rules.local_date(now)

        def handle(case: Case) -> bool:
            return case.handle_deadlines(today, self.rules)

        return act_once_each(self, case_ids, handle)

    def active_case_id(self, patient_id: UUID) -> UUID | None:
        return self._patient_cases(patient_id).active_case_id

    # -- helpers ---------------------------------------------------------------------------------

    def _patient_cases(self, patient_id: UUID) -> PatientCases:
        patient: PatientCases | None = self.find(PatientCases.create_id(patient_id))
        return patient or PatientCases(patient_id)

    def _active_case(self, patient: PatientCases) -> Case | None:
        if patient.active_case_id is None:
            return None
        case: Case = self.repository.get(patient.active_case_id)
        return case

    def _active_case_of(self, patient_id: UUID) -> Case | None:
        return self._active_case(self._patient_cases(patient_id))

    def _caseload(self, center_id: str, social_workers: list[str]) -> Caseload:
        caseload: Caseload | None = self.find(Caseload.create_id(center_id))
        if caseload is None:
            return Caseload(center_id, social_workers)
        if social_workers:
            caseload.update_roster(social_workers)
        return caseload

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
        caseload = self._caseload(case.center_id, [])
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
        given_on = link.given_on or self._today()
        self.dates.consent("given_on", given_on, self._opened_on(team.case_id), self.clock.now())
        with refusals():
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
        withdrawn_on = withdrawn_on or self._today()
        now = self.clock.now()
        self.dates.consent("withdrawn_on", withdrawn_on, self._opened_on(team.case_id), now)
        with refusals():
            consent = family.withdraw(team.case_id, member_id, withdrawn_by, withdrawn_on)
            team.leave(member_id, relative_role(consent.is_guardian), CONSENT_WITHDRAWN)
        self.commit(family, team, cause=cause)

    def family_consent(self, patient_id: UUID, member_id: str) -> Consent | None:
        """The relative's standing consent, read from the store: a withdrawal counts at once."""
        family: Family | None = self.find(Family.create_id(patient_id))
        return None if family is None else family.consents.get(member_id)

    def hold_session(self, plan: SessionPlan, attendees: list[UUID], cause: Cause) -> None:
        """Record a session or activity, and who attended if that is known already."""
        if plan.center_id not in self.rosters:
            raise CommandRejected(f"{plan.center_id} is not a community health center")
        if plan.session_id in self.repository:
            raise CommandConflict("this session is already recorded")
        self.dates.session(plan.held_on, self.clock.now())
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
            return session.record_attendance(patient_ids, self._today())

    def _today(self) -> date:
        return self.rules.local_date(self.clock.now())

    def _opened_on(self, case_id: UUID) -> date:
        case: Case = self.repository.get(case_id)
        return case.opened_on

    def _team(self, patient_id: UUID) -> CareTeam:
        team: CareTeam | None = self.find(CareTeam.create_id(patient_id))
        if team is None:
            raise Unknown("no case, hence no care team, for this patient")
        return team

    def _family(self, patient_id: UUID) -> Family:
        family: Family | None = self.find(Family.create_id(patient_id))
        return family or Family(patient_id)

    def _teams_following(self, aggregates: tuple[Aggregate, ...]) -> list[CareTeam]:
        """The teams of the cases among `aggregates`, brought in step with their new events."""
        teams: dict[UUID, CareTeam] = {}
        for case in aggregates:
            if not isinstance(case, Case):
                continue
            for domain_event in case.pending_events:
                if not isinstance(
                    domain_event, Case.Opened | Case.ManagerAssigned | Case.ManagerReassigned
                ):
                    continue  # visits, deadlines, referrals: the team is not read at all
                team_id = CareTeam.create_id(case.patient_id)
                team = teams.get(team_id) or self.find(team_id)
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


@contextmanager
def _as_conflict() -> Iterator[None]:
    """The case's refusal becomes the caller's 409."""
    try:
        yield
    except CaseConflict as error:
        raise CommandConflict(str(error)) from None


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
    given_on: date | None = None
    """The day the consent was given, when it is entered later; today if not said."""
