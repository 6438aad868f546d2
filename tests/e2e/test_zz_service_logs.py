"""After the whole e2e run: no test patient's name, national ID, phone or address in any log.

pytest runs modules in name order, so this one comes last and reads the log of every service
of every e2e system the session started. It walks a patient through the shared system first,
so that it reads real logs even when run alone.
"""

from __future__ import annotations

import re

import pytest

from .conftest import System, eventually
from .pathway import CENTER_STAFF, CLINICIAN, diagnose_new_patient, national_id, registration

pytestmark = pytest.mark.e2e

SERIAL = 9000

PERSONAL_IN_LOGS = [
    re.compile(rb"Canary\w*Name|Canary\w*Road|Canary Name|Canary Road"),  # names, addresses
    re.compile(rb"\b440305199001\d{5}[\dX]\b"),  # the national IDs of `pathway.national_id`
    re.compile(rb"\b13[89]\d{8}\b"),  # the tests' phone numbers
]


def test_the_patterns_find_the_test_patients_personal_data() -> None:
    personal = registration(SERIAL)
    text = " ".join([personal["name"], personal["address"], personal["phone"], national_id(1)])
    assert len([m for p in PERSONAL_IN_LOGS for m in p.finditer(text.encode())]) == 4


def test_no_service_log_of_the_run_holds_a_test_patients_personal_data(
    system: System, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with system.client("intake", CLINICIAN) as intake:
        patient_id = diagnose_new_patient(intake, SERIAL)
    with system.client("casework", CENTER_STAFF) as casework:
        eventually(lambda: casework.get("/v1/cases", params={"patient_id": patient_id}).json())
    logs = list(tmp_path_factory.getbasetemp().glob("system*/logs/*.log"))
    assert system.processes["intake"].log_path in logs
    hits = {
        str(log): [m.group().decode() for p in PERSONAL_IN_LOGS for m in p.finditer(text)]
        for log in logs
        if (text := log.read_bytes())
    }
    assert {log: found for log, found in hits.items() if found} == {}
