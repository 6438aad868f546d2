"""Casework's use case "screenings": a standard instrument, scored by the assessment provider.

A patient is screened on their active case (the screening joins their record, is published and
may propose a risk review); a resident who is not a patient is screened at a center, under the
center's pseudonym, with consent, and nothing about them leaves casework.
"""

from __future__ import annotations

from dataclasses import replace

from carenet_casework.application.base import CaseworkBase
from carenet_casework.assessment import InvalidAnswers, answers_fit, checked
from carenet_casework.domain.errors import AlreadyRecorded, NotRecorded
from carenet_casework.domain.screening import Screened, Screening
from carenet_kit.outbox import Cause


class Screenings(CaseworkBase):
    """Screenings of patients and of residents."""

    def screen_patient(self, screened: Screened, cause: Cause) -> Screening:
        """Score and record a patient's screening, on their active case and at its center."""
        assert screened.patient_id is not None
        case = self._active_case_of(screened.patient_id)
        if case is None:
            raise NotRecorded("no active case for this patient")
        return self._score_and_record(
            replace(screened, case_id=case.id, center_id=case.center_id), cause
        )

    def screen_resident(self, screened: Screened, cause: Cause) -> Screening:
        """Score and record a resident's screening at the center (no patient record)."""
        self._require_center(screened.center_id)
        return self._score_and_record(screened, cause)

    def _score_and_record(self, screened: Screened, cause: Cause) -> Screening:
        if Screening.create_id(screened.screening_id) in self.repository:
            raise AlreadyRecorded("this screening is already recorded")
        if (wrong := answers_fit(screened.instrument, screened.answers)) is not None:
            raise InvalidAnswers(wrong)
        screening = Screening.complete(
            screened,
            checked(self.assessments, screened.instrument, screened.answers),
            self.today(),
        )
        self.commit(screening, cause=cause)
        return screening
