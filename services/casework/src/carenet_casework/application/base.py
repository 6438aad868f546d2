"""Casework's service layer, the part every use case shares: settings, lookups, the care team.

`CaseworkApplication` (this package) is one eventsourcing application composed of one module per
use case: `cases` (cases and visits), `deadlines` (deadlines and referrals), `team` (team,
family and sessions). Each builds on `CaseworkBase`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from uuid import UUID

from eventsourcing.domain import Aggregate

from carenet_casework.contact_details import ContactDetails
from carenet_casework.domain import Case, Caseload, PatientCases
from carenet_casework.domain.case import ManagerAssigned, ManagerReassigned
from carenet_casework.domain.errors import NotRecorded
from carenet_casework.domain.family import (
    Family,
)
from carenet_casework.domain.team import (
    CareTeam,
)
from carenet_casework.plausibility import DateRules
from carenet_casework.rules import RuleSet
from carenet_kit.application import OutboundMapper
from carenet_kit.clock import Clock
from carenet_kit.keystore import KeyStore, NewKey
from carenet_kit.outbox import Cause
from carenet_kit.plausibility import DEFAULT_CLOCK_TOLERANCE


class CaseworkBase(ContactDetails):
    """Casework's settings and the lookups its use cases share; every commit carries the team."""

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

    def commit(self, *aggregates: Aggregate, cause: Cause, new_keys: Sequence[NewKey] = ()) -> None:
        """Every change to a case carries its care team along, in the same transaction.

        A case opened forms the patient's team (or moves it there, after a transfer); a case
        manager assigned or reassigned becomes the team's case_manager member. Doing it here,
        from the cases' new events, keeps the team right whichever command changed the case.
        """
        teams = self._teams_following(aggregates)
        super().commit(*aggregates, *teams, cause=cause, new_keys=new_keys)

    def _today(self) -> date:
        return self.rules.local_date(self.clock.now())

    def _opened_on(self, case_id: UUID) -> date:
        case: Case = self.repository.get(case_id)
        return case.opened_on

    def _team(self, patient_id: UUID) -> CareTeam:
        team: CareTeam | None = self.find(CareTeam.create_id(patient_id))
        if team is None:
            raise NotRecorded("no case, hence no care team, for this patient")
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
                if not isinstance(domain_event, Case.Opened | ManagerAssigned | ManagerReassigned):
                    continue  # visits, deadlines, referrals: the team is not read at all
                team_id = CareTeam.create_id(case.patient_id)
                team = teams.get(team_id) or self.find(team_id)
                match domain_event:
                    case Case.Opened():
                        if team is None:
                            team = CareTeam(case.patient_id, case.id, case.center_id)
                        team.follow_case(case.id, case.center_id)
                    case ManagerAssigned() | ManagerReassigned() if (
                        team is not None and team.case_id == case.id
                    ):
                        team.change_case_manager(domain_event.case_manager_id, domain_event.reason)
                if team is not None:
                    teams[team_id] = team
        return [team for team in teams.values() if team not in aggregates]
