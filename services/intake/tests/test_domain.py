"""Intake's rules, given / when / then."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from carenet_contracts import DiagnosisCategory
from carenet_contracts.intake import DiagnosisRecorded, ReportingDeadlineMissed
from carenet_devtools.stored_events import as_stored_before
from carenet_intake.domain import Patient
from carenet_intake.outbox import integration_events
from carenet_intake.rules import IntakeRules, categorise

OUTBOUND = integration_events(IntakeRules.load())


@pytest.mark.parametrize(
    ("code", "co_diagnoses", "category"),
    [
        ("F20.0", (), DiagnosisCategory.SCHIZOPHRENIA),
        ("F25", (), DiagnosisCategory.SCHIZOAFFECTIVE_DISORDER),
        ("F22.0", (), DiagnosisCategory.PARANOID_PSYCHOSIS),
        ("F31.2", (), DiagnosisCategory.BIPOLAR_DISORDER),
        ("F06.2", ("G40.9",), DiagnosisCategory.EPILEPSY_MENTAL_DISORDER),
        ("F06.2", (), None),
        ("F71", ("F20.0",), DiagnosisCategory.INTELLECTUAL_DISABILITY_MENTAL_DISORDER),
        ("F71", ("F72",), None),
        ("F32.1", (), None),
    ],
)
def test_only_the_six_severe_disorders_are_in_scope(
    code: str, co_diagnoses: tuple[str, ...], category: DiagnosisCategory | None
) -> None:
    assert categorise(code, co_diagnoses) == category


def registered_patient() -> Patient:
    return Patient(
        id=uuid4(),
        hospital_id="H-SZ-KANGNING",
        region_code="440305001",
        personal_data="c2VhbGVk",  # the application encrypts it (test_personal_data)
    )


def test_a_registration_stored_in_clear_before_encryption_still_reads() -> None:
    state = {
        "hospital_id": "H-SZ-KANGNING",
        "name": "Zhang San",
        "national_id": "11010519491231002X",
        "date_of_birth": date(1949, 12, 31),
        "sex": "female",
        "phone": "13800000000",
        "address": "1 Nantou Street",
        "region_code": "440305001",
        "guardian": None,
    }
    Patient.Registered.upcast_v1_v2(state)
    assert state["personal_data"] == ""
    assert state["legacy_personal_data"]["name"] == "Zhang San"
    assert set(state) == {"hospital_id", "region_code", "personal_data", "legacy_personal_data"}


def test_a_recorded_diagnosis_is_published_without_personal_data() -> None:
    patient = registered_patient()
    patient.record_diagnosis(
        diagnosis_id=uuid4(),
        hospital_id="H-SZ-KANGNING",
        clinician_id="DR-1",
        icd10_code="F20.0",
        co_diagnoses=[],
        category="schizophrenia",
        diagnosed_on=date(2026, 11, 2),
        risk_level=2,
        region_code=patient.region_code,
        consent_given_by="patient",
        consent_given_on=date(2026, 11, 2),
    )
    registered, diagnosed = patient.collect_events()

    assert OUTBOUND(registered) is None
    outgoing = OUTBOUND(diagnosed)
    assert outgoing is not None
    assert isinstance(outgoing.payload, DiagnosisRecorded)
    assert outgoing.patient_id == patient.id
    published = outgoing.payload.model_dump_json()
    for personal in ("Zhang San", "11010519491231002X", "13800000000", "Nantou Street"):
        assert personal not in published


def test_a_missed_deadline_stored_before_it_named_its_rule_set_reads_without_one() -> None:
    patient = registered_patient()
    patient.miss_reporting_deadline(
        diagnosis_id=uuid4(),
        hospital_id="H-SZ-KANGNING",
        diagnosed_on=date(2026, 9, 28),
        deadline=date(2026, 10, 16),
        reported_on=date(2026, 10, 21),
        working_days_taken=13,
        calendar_version="cn-2026/1",
        rule_set_version="nhc-2018/4",
    )
    restored = as_stored_before(patient.collect_events()[-1], "rule_set_version")
    assert isinstance(restored, Patient.ReportingDeadlineMissed)
    assert restored.rule_set_version is None
    outgoing = OUTBOUND(restored)
    assert outgoing is not None
    assert isinstance(outgoing.payload, ReportingDeadlineMissed)
    assert outgoing.payload.rule_set_version is None
