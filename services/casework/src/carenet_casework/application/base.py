"""Casework's service layer, the part every use case shares: settings, lookups, the care team.

`CaseworkApplication` (this package) is one eventsourcing application composed of one module per
use case: `cases` (cases and visits), `deadlines` (deadlines and referrals), `team` (team,
family and sessions), `contact_details`, `screenings`, `recovery`, `prevention`,
`social_referrals`, `staffing`. Each builds on `CaseworkBase`.
"""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from carenet_casework.assessment import AssessmentProvider, StandardInstruments
from carenet_casework.contact_details import CONTACT_KEY_PURPOSE, CaseContactKeys
from carenet_casework.domain import Case, Caseload, PatientCases
from carenet_casework.domain.errors import NotRecorded, RuleBroken
from carenet_casework.domain.family import Family
from carenet_casework.domain.team import CareTeam
from carenet_casework.plausibility import DateRules
from carenet_casework.rules import RuleSet
from carenet_kit.application import OutboundMapper, ServiceApplication
from carenet_kit.clock import Clock
from carenet_kit.keystore import KeyStore
from carenet_kit.plausibility import DEFAULT_CLOCK_TOLERANCE
from carenet_kit.reference_data import ReferenceDirectory


class CaseworkBase(ServiceApplication):
    """Casework's settings, its collaborators and the lookups its use cases share."""

    def __init__(
        self,
        env: dict[str, str],
        outbound: OutboundMapper,
        rules: RuleSet,
        clock: Clock | None = None,
        *,
        master_key: bytes,
        clock_tolerance: timedelta = DEFAULT_CLOCK_TOLERANCE,
        assessments: AssessmentProvider | None = None,
        directory: ReferenceDirectory | None = None,
    ) -> None:
        super().__init__(env, outbound, clock)
        self.assessments = assessments or StandardInstruments()
        """Who scores screenings (`assessment`)."""
        directory = directory or ReferenceDirectory()
        self.partners = directory.partners
        """The social-service partners of the directory (`social_referrals`)."""
        self.districts = {c.id: c.catchment[0][:6] for c in directory.centers if c.catchment}
        """Each center's district (the region code of its catchment's first area), by which
        the indicators add up (`indicators`)."""
        self.contact_keys = CaseContactKeys(
            KeyStore.construct(self.factory, master_key, CONTACT_KEY_PURPOSE)
        )
        """A key pair per case, for the patient's contact details (`contact_details`)."""
        self.rules = rules
        self.dates = DateRules(rules, clock_tolerance)
        """The plausibility rules of the dates casework accepts (`plausibility`)."""

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

    def _require_center(self, center_id: str) -> None:
        """422 unless routing has sent patients to `center_id` (casework knows its caseload)."""
        if Caseload.create_id(center_id) not in self.repository:
            raise RuleBroken(
                f"{center_id} is not a community health center routing sends patients to"
            )

    def _caseload(self, center_id: str, social_workers: list[str]) -> Caseload:
        """The center's caseload; its roster is the social workers routing's directory sent
        with the latest route there (none: the roster stays as it was)."""
        caseload: Caseload | None = self.find(Caseload.create_id(center_id))
        if caseload is None:
            return Caseload(center_id, social_workers)
        if social_workers:
            caseload.update_roster(social_workers)
        return caseload

    def today(self) -> date:
        """The day it is where the rules apply (the rule set's time zone)."""
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

    def _team_following(self, case: Case, reason: str) -> CareTeam:
        """The patient's care team brought to `case`, just opened: formed with it or, after a
        transfer, moved to it (the old center's staff leave); its case manager joins."""
        team: CareTeam = self.find(CareTeam.create_id(case.patient_id)) or CareTeam(
            case.patient_id, case.id, case.center_id
        )
        team.follow_case(case.id, case.center_id)
        if case.case_manager_id is not None:
            team.change_case_manager(case.case_manager_id, reason)
        return team
