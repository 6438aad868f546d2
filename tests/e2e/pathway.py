"""Steps of the pathway as a hospital clinician and a case manager take them over HTTP, and what
the system says of them: the messages on its topics, the notifications in an inbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from stdnum.cn import ric

from carenet_contracts import Envelope

from .conftest import System

CENTERS_ZONE = ZoneInfo("Asia/Shanghai")


def centers_today() -> date:
    """The calendar day at the hospitals and centers (China), as the services count days."""
    return datetime.now(CENTERS_ZONE).date()


HOSPITAL = "H-SZ-KANGNING"
CLINICIAN = "DR-KN-WANG"
"""A clinician of HOSPITAL (reference/demo-users.yaml)."""
CENTER_STAFF = "SW-NS-LI"
"""A social worker of CHC-NS-NANTOU, the center of region 440305001."""
OPERATOR = "OP-ZHAO"
AUDITOR = "AUD-WANG"


def national_id(serial: int) -> str:
    """A well-formed, fictional resident ID (valid check digit) for each serial number."""
    body = f"440305199001{10 + serial // 1000:02d}{serial % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def registration(serial: int, region_code: str = "440305001") -> dict[str, Any]:
    return {
        "hospital_id": HOSPITAL,
        "name": f"Canary Name {serial}",
        "national_id": national_id(serial),
        "date_of_birth": "1990-01-15",
        "sex": "female",
        "phone": "13800000000",
        "address": f"{serial} Canary Road",
        "region_code": region_code,
    }


def diagnosis(risk_level: int = 2, icd10_code: str = "F20.0") -> dict[str, Any]:
    today = centers_today().isoformat()
    return {
        "hospital_id": HOSPITAL,
        "clinician_id": "DR-WANG",
        "icd10_code": icd10_code,
        "diagnosed_on": today,
        "risk_level": risk_level,
        "consent": {"community_management": True, "given_by": "patient", "given_on": today},
    }


def diagnose_new_patient(intake: httpx.Client, serial: int, region_code: str = "440305001") -> str:
    response = intake.post("/v1/patients", json=registration(serial, region_code))
    assert response.status_code == 201, response.text
    patient_id: str = response.json()["patient_id"]
    response = intake.post(f"/v1/patients/{patient_id}/diagnoses", json=diagnosis())
    assert response.status_code == 201, response.text
    return patient_id


def visit(risk_level: int) -> dict[str, Any]:
    return {
        "visited_on": centers_today().isoformat(),
        "mode": "home",
        "seen": "patient",
        "risk_level": risk_level,
        "symptoms": "obvious" if risk_level >= 3 else "essentially_gone",
        "insight": "poor" if risk_level >= 3 else "good",
        "social_functioning": "fair",
        "medication_adherence": "regular",
    }


def events(
    system: System, producer: str, patient_id: str, event_type: str | None = None
) -> list[Envelope[Any]]:
    """The patient's messages on a producer's topic (only those of one type, if given)."""
    return [
        m
        for m in system.messages(producer)
        if str(m.patient_id) == patient_id and event_type in (None, m.event_type)
    ]


def inbox(system: System, recipient: str, patient_id: str | None = None) -> list[dict[str, Any]]:
    """The recipient's inbox as the recipient reads it (only what is about one patient, if
    given)."""
    with system.inbox_reader(recipient) as notifications:
        response = notifications.get("/v1/inbox", params={"recipient": recipient})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()
    return [i for i in items if patient_id in (None, i["patient_id"])]
