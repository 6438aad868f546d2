"""What every part of intake's service layer stands on: the certified hospitals, the day it is
where the rules apply, the plausibility of the dates a hospital states, the patients' data
keys and the key their identities are pseudonymised with."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

from carenet_intake.domain import Hospital, JoiningRegistration, Patient, PersonalData
from carenet_intake.rules import IntakeRules, not_before_birth
from carenet_intake.workdays import WorkingDayCalendars
from carenet_kit.application import OutboundMapper, ServiceApplication
from carenet_kit.clock import Clock
from carenet_kit.keystore import KeyStore
from carenet_kit.plausibility import DEFAULT_CLOCK_TOLERANCE, refuse_future
from carenet_kit.refusals import Refused
from carenet_kit.sealing import decrypt, from_text

DATA_KEY_PURPOSE = "personal-data"


class HospitalTier(ServiceApplication):
    def __init__(
        self,
        env: dict[str, str],
        outbound: OutboundMapper,
        hospitals: dict[str, Hospital],
        pseudonym_key: bytes,
        master_key: bytes,
        calendars: WorkingDayCalendars | None = None,
        clock: Clock | None = None,
        clock_tolerance: timedelta = DEFAULT_CLOCK_TOLERANCE,
        rules: IntakeRules | None = None,
    ) -> None:
        super().__init__(env, outbound, clock)
        self.rules = rules or IntakeRules.load()
        """The intake section of the rule set in force (by default the one shipped)."""
        self.hospitals = hospitals
        self.calendars = calendars or WorkingDayCalendars()
        self.clock_tolerance = clock_tolerance
        self.data_keys = KeyStore.construct(self.factory, master_key, DATA_KEY_PURPOSE)
        """One data key per patient; destroying it erases the patient's personal data."""
        self._pseudonym_key = pseudonym_key

    def today(self) -> date:
        """The date where the rules apply (in China) by the application's clock: the day a
        report is made on."""
        return self.rules.local_date(self.clock.now())

    def certified(self, hospital_id: str) -> Hospital:
        hospital = self.hospitals.get(hospital_id)
        if hospital is None or not hospital.certified:
            raise Refused(f"hospital {hospital_id} is not a certified hospital")
        return hospital

    def plausible(self, field: str, day: date, date_of_birth: date | None) -> None:
        """A day that has come, in China, and not before the patient's birth (when known)."""
        refuse_future(field, day, self.clock.now(), self.rules.zone, self.clock_tolerance)
        not_before_birth(field, day, date_of_birth)

    def date_of_birth(self, registered: object) -> date | None:
        """As the hospital of this registration entered it; None once erased, or unknown here.

        A diagnosis through a registration that joins a patient is checked against that
        registration's own entry, never against the record the hospital may not read yet."""
        if isinstance(registered, Patient):
            personal = self.personal_data(registered)
        elif isinstance(registered, JoiningRegistration):
            personal = self._entered(registered)
        else:
            return None
        return None if personal is None else personal.date_of_birth

    def personal_data(self, patient: Patient) -> PersonalData | None:
        """The patient's personal data in clear; None once erased (the key is gone)."""
        if patient.erasure is not None:
            return None
        if patient.legacy_personal_data is not None:
            return PersonalData(**patient.legacy_personal_data)
        data_key = self.data_keys.get(patient.id)
        if data_key is None:
            return None
        return PersonalData.from_json(
            decrypt(data_key, from_text(patient.personal_data), personal_data_aad(patient.id))
        )

    def _entered(self, joining: JoiningRegistration) -> PersonalData | None:
        data_key = self.data_keys.get(joining.id)
        if data_key is None:
            return None
        return PersonalData.from_json(
            decrypt(data_key, from_text(joining.personal_data), personal_data_aad(joining.id))
        )


def personal_data_aad(registration_id: UUID) -> bytes:
    """Binds the ciphertext to its registration: moved to another's event, it won't open."""
    return f"carenet/intake/personal-data/{registration_id}".encode()
