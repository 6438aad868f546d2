"""Casework's service layer: one eventsourcing application, one module per use case.

`cases` (cases for routed patients, transfers, visits, emergencies), `deadlines` (the
scheduler, referrals, admissions and discharges), `team` (care team, case-manager
reassignment, family consent, rehabilitation sessions), `contact_details` (kept sealed,
erased), `screenings` (patients' and residents'), `recovery` (recovery plans), `prevention`
(the centers' prevention activities), `social_referrals` (referrals to partners' social
services) and `staffing` (the centers' rosters and training) each build on
`base.CaseworkBase`.
"""

from __future__ import annotations

from typing import ClassVar

from carenet_casework.application.cases import CasesAndVisits
from carenet_casework.application.contact_details import ContactDetailsOfCases
from carenet_casework.application.deadlines import DeadlinesAndReferrals
from carenet_casework.application.prevention import Prevention
from carenet_casework.application.recovery import RecoveryPlans
from carenet_casework.application.screenings import Screenings
from carenet_casework.application.social_referrals import SocialReferrals
from carenet_casework.application.staffing import Staffing
from carenet_casework.application.team import FamilyLink, TeamFamilyAndSessions
from carenet_casework.domain import Caseload
from carenet_kit.application import ServiceApplication


class CaseworkApplication(
    CasesAndVisits,
    DeadlinesAndReferrals,
    TeamFamilyAndSessions,
    ContactDetailsOfCases,
    Screenings,
    RecoveryPlans,
    Prevention,
    SocialReferrals,
    Staffing,
):
    """Casework, whole: the one application its API, policy and scheduler talk to."""

    producer: ClassVar = "casework"
    snapshotting_intervals: ClassVar = {**ServiceApplication.snapshotting_intervals, Caseload: 10}
    """A center's caseload takes an event per case opened: start from a recent snapshot."""


__all__ = ["CaseworkApplication", "FamilyLink"]
