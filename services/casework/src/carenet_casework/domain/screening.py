"""Screenings: a standard instrument answered by a patient, or by a resident who is not one.

A patient's screening joins their record (and is published); a resident's stays at the
center, under a pseudonym the center chose, with the resident's consent, and creates no patient
record. The item answers are kept here; the score, band and urgency come from the assessment
provider (`carenet_casework.assessment`), already held to the instrument's published rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_casework.assessment import Assessment
from carenet_contracts.recovery import Instrument, SeverityBand

SCREENING_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:casework:screening")
PROPOSE_REVIEW_FROM = (SeverityBand.MODERATE, SeverityBand.MODERATELY_SEVERE, SeverityBand.SEVERE)
"""Bands at which a patient's screening proposes a risk review to the case manager."""


@dataclass(frozen=True)
class Screened:
    """Who was screened, where, by whom, with what; answers in item order."""

    screening_id: UUID
    center_id: str
    screened_by: str
    instrument: Instrument
    answers: tuple[int, ...]
    patient_id: UUID | None = None
    case_id: UUID | None = None
    resident_ref: str | None = None
    """A resident's pseudonym at the center (no personal data); None for a patient."""


class Screening(Aggregate):
    """One screening, recorded once."""

    @staticmethod
    def create_id(screening_id: UUID) -> UUID:
        """The client's id, in a namespace of its own: it cannot name another aggregate."""
        return uuid5(SCREENING_NAMESPACE, str(screening_id))

    class Completed(Aggregate.Created):
        screening_id: UUID
        patient_id: UUID | None
        case_id: UUID | None
        resident_ref: str | None
        center_id: str
        screened_by: str
        screened_on: date
        instrument: str
        answers: list[int]
        total_score: int
        band: str
        urgent: bool
        proposes_risk_review: bool
        provider: str
        model: str
        provider_version: str

    @event(Completed)
    def __init__(
        self,
        screening_id: UUID,
        patient_id: UUID | None,
        case_id: UUID | None,
        resident_ref: str | None,
        center_id: str,
        screened_by: str,
        screened_on: date,
        instrument: str,
        answers: list[int],
        total_score: int,
        band: str,
        urgent: bool,
        proposes_risk_review: bool,
        provider: str,
        model: str,
        provider_version: str,
    ) -> None:
        self.screening_id = screening_id
        self.patient_id = patient_id
        self.case_id = case_id
        self.resident_ref = resident_ref
        self.center_id = center_id
        self.screened_by = screened_by
        self.screened_on = screened_on
        self.instrument = instrument
        self.answers = answers
        self.total_score = total_score
        self.band = band
        self.urgent = urgent
        self.proposes_risk_review = proposes_risk_review
        self.provider = provider
        self.model = model
        self.provider_version = provider_version

    @classmethod
    def complete(cls, screened: Screened, assessment: Assessment, today: date) -> Screening:
        proposes = screened.patient_id is not None and (
            assessment.urgent or assessment.band in PROPOSE_REVIEW_FROM
        )
        return cls(
            screening_id=screened.screening_id,
            patient_id=screened.patient_id,
            case_id=screened.case_id,
            resident_ref=screened.resident_ref,
            center_id=screened.center_id,
            screened_by=screened.screened_by,
            screened_on=today,
            instrument=screened.instrument.value,
            answers=list(screened.answers),
            total_score=assessment.total,
            band=assessment.band.value,
            urgent=assessment.urgent,
            proposes_risk_review=proposes,
            provider=assessment.provider,
            model=assessment.model,
            provider_version=assessment.version,
        )
