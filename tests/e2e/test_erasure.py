"""End to end: a patient's personal data is erased everywhere, and the history still verifies.

Two patients carry canary strings in their name, address and phone. Both are diagnosed and
routed; each case's center reads its patient's contact details through casework (so the
canaries did travel), and a key the system holds opens the sealed copy on the topic to the
canaries (so the check that no key opens it after erasure can fail). One patient is erased.
Afterwards the canaries are found nowhere: not in any file of the run (stores with their
write-ahead logs, every service's log), not in the broker's log segments, not in any HTTP
response. The sealed copy is still on the topic, but no
key the system still holds opens it. The other patient's contact still opens, and the auditor's
replay still verifies every stream.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from eventsourcing.persistence import InfrastructureFactory

from carenet_contracts.intake import ContactDetailsShared
from carenet_kit.keystore import DEVELOPMENT_MASTER_KEY, KeyStore, master_key
from carenet_kit.sealing import Unreadable, from_text, open_sealed, private_key

from .conftest import System, eventually
from .pathway import CENTER_STAFF, CLINICIAN, OPERATOR, diagnosis, national_id

pytestmark = pytest.mark.e2e

SERIAL = 8000
REGION = "440305001"


@dataclass(frozen=True)
class Canaries:
    name: str
    phone: str
    address: str
    national_id: str

    @classmethod
    def new(cls, serial: int) -> Canaries:
        tag = uuid4().hex[:10]
        return cls(
            name=f"Canary{tag}Name",
            phone="139" + "".join(random.choices("0123456789", k=8)),
            address=f"{serial} Canary{tag}Road",
            national_id=national_id(serial),
        )

    def strings(self) -> list[str]:
        return [self.name, self.phone, self.address, self.national_id]


@dataclass
class Patient:
    canaries: Canaries
    patient_id: str = ""
    case_id: str = ""


def register_and_route(system: System, canaries: Canaries) -> Patient:
    patient = Patient(canaries)
    with system.client("intake", CLINICIAN) as intake:
        response = intake.post(
            "/v1/patients",
            json={
                "hospital_id": "H-SZ-KANGNING",
                "name": canaries.name,
                "national_id": canaries.national_id,
                "date_of_birth": "1990-01-15",
                "sex": "female",
                "phone": canaries.phone,
                "address": canaries.address,
                "region_code": REGION,
            },
        )
        assert response.status_code == 201, response.text
        patient.patient_id = response.json()["patient_id"]
        response = intake.post(f"/v1/patients/{patient.patient_id}/diagnoses", json=diagnosis())
        assert response.status_code == 201, response.text
    return patient


def contact(system: System, case_id: str) -> httpx.Response:
    with system.client("casework", CENTER_STAFF) as casework:
        return casework.get(f"/v1/cases/{case_id}/contact")


def case_of(system: System, patient_id: str) -> str | None:
    with system.client("casework", CENTER_STAFF) as casework:
        cases = casework.get("/v1/cases", params={"patient_id": patient_id}).json()
    return cases[0]["case_id"] if cases else None


def run_dir(system: System) -> Path:
    """Where the services keep their data, logs and keys (`carenet_devtools.services`)."""
    return system.processes["intake"].log_path.parents[1]


def broker_log_dirs(bootstrap: str, base: Path) -> list[Path]:
    """The log directories of the session's local broker (`carenet_devtools.kafka`), found by
    the port in its `server.properties`."""
    port = bootstrap.rsplit(":", 1)[1]
    for properties in base.glob("kafka*/server.properties"):
        text = properties.read_text()
        if f"PLAINTEXT://127.0.0.1:{port}," in text:
            dirs = re.search(r"^log\.dirs=(.+)$", text, re.MULTILINE)
            assert dirs is not None
            return [Path(d) for d in dirs.group(1).split(",")]
    pytest.fail(f"no local broker at {bootstrap}: its log segments cannot be searched")


def broker_files(system: System, base: Path) -> list[Path]:
    """The broker's files that can hold what this system sent: its namespace's partitions, the
    broker's internal topics (consumer offsets, transactions) and the broker's own files. The
    partitions of the session's other tests are left out: they hold none of it, and by this
    test they are thousands of segments and preallocated indexes."""
    found: list[Path] = []
    for log_dir in broker_log_dirs(system.bootstrap, base):
        for entry in log_dir.iterdir():
            if entry.is_file():
                found.append(entry)
            elif entry.name.startswith((system.namespace, "__")):
                found += files_under(entry)
    return found


def files_under(*roots: Path) -> Iterator[Path]:
    for root in roots:
        yield from (p for p in root.rglob("*") if p.is_file())


def found_in(data: bytes, canaries: Canaries) -> list[str]:
    return [s for s in canaries.strings() if s.encode() in data]


def keys_still_held(store: Path) -> list[bytes]:
    """Every key a service's keystore still holds, unwrapped with the run's master key."""
    with sqlite3.connect(store) as connection:
        rows = connection.execute(
            "SELECT subject_id, purpose FROM subject_keys WHERE wrapped_key IS NOT NULL"
        ).fetchall()
    factory = InfrastructureFactory.construct(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(store)}  # type: ignore[arg-type]
    )
    try:
        master = master_key(DEVELOPMENT_MASTER_KEY)
        keys = [KeyStore.construct(factory, master, purpose).get(UUID(s)) for s, purpose in rows]
    finally:
        factory.close()
    return [k for k in keys if k is not None]


def opened_by(keys: list[bytes], sealed: str, context: bytes) -> list[bytes]:
    """What the sealed copy reads as, with each of the keys that open it."""
    found = []
    for key in keys:
        try:
            found.append(open_sealed(from_text(sealed), private_key(key), context))
        except (Unreadable, ValueError):
            continue
    return found


def held_keys(system: System) -> list[bytes]:
    data = run_dir(system) / "data"
    return keys_still_held(data / "casework.sqlite") + keys_still_held(data / "intake.sqlite")


def carenet_audit_replay(system: System) -> subprocess.CompletedProcess[str]:
    program = Path(sys.executable).with_name("carenet-audit")
    keys = run_dir(system) / "keys" / "jwks.json"
    return subprocess.run(
        [
            *(str(program), "replay", "--keys", str(keys), "--json"),
            *("--bootstrap", system.bootstrap, "--namespace", system.namespace),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.fixture(scope="module")
def patients(system: System) -> tuple[Patient, Patient]:
    """The erased patient and the other one, both routed, each case with its contact."""
    erased, kept = (register_and_route(system, Canaries.new(SERIAL + n)) for n in (1, 2))
    for patient in (erased, kept):
        patient.case_id = eventually(lambda p=patient: case_of(system, p.patient_id), 60)
    return erased, kept


def test_the_center_reads_the_contact_details_then_erasure_makes_them_unreadable_everywhere(
    system: System, patients: tuple[Patient, Patient], tmp_path_factory: pytest.TempPathFactory
) -> None:
    erased, kept = patients
    responses: list[str] = []
    for patient in (erased, kept):
        response = eventually(
            lambda p=patient: (r := contact(system, p.case_id)).status_code == 200 and r, 60
        )
        assert response.json()["name"] == patient.canaries.name  # the canaries did travel
        assert response.json()["phone"] == patient.canaries.phone
    [shared] = [
        m
        for m in system.messages("intake")
        if str(m.patient_id) == erased.patient_id and isinstance(m.data, ContactDetailsShared)
    ]
    assert shared.data.case_id == UUID(erased.case_id)
    context = f"carenet/contact-details/{erased.patient_id}/{erased.case_id}".encode()
    # before erasure a key the system holds opens the sealed copy on the topic, and it holds the
    # canaries: the check after erasure, that no key does, could fail
    opened = opened_by(held_keys(system), shared.data.sealed, context)
    assert any(erased.canaries.name.encode() in plain for plain in opened), opened

    with (
        system.client("intake", OPERATOR) as operator,
        system.client("intake", CLINICIAN) as intake,
    ):
        body = {
            "patient_id": erased.patient_id,
            "legal_basis": "pipl_47_consent_withdrawn",
            "reference": "ERASURE-E2E-1",
        }
        first = operator.post("/v1/erasure-requests", json=body)
        again = operator.post("/v1/erasure-requests", json=body)
        assert first.status_code == again.status_code == 200, first.text
        assert first.json() == again.json()  # idempotent
        read = intake.get(f"/v1/patients/{erased.patient_id}")
        assert read.status_code == 200
        assert read.json()["name"] is None
        assert read.json()["erased"]["legal_basis"] == "pipl_47_consent_withdrawn"
        assert read.json()["diagnosis_ids"]  # the clinical history stays
        responses += [first.text, again.text, read.text]

    gone = eventually(lambda: (r := contact(system, erased.case_id)).status_code == 410 and r, 60)
    responses.append(gone.text)
    still = contact(system, kept.case_id)
    assert still.status_code == 200
    assert still.json()["name"] == kept.canaries.name

    system.wait_until_consumed("casework", ["intake"])
    for text in responses:
        assert found_in(text.encode(), erased.canaries) == []
    searched = broker_files(system, tmp_path_factory.getbasetemp())
    leaks = {
        str(path): hits
        for path in [*files_under(run_dir(system)), *searched]
        if (hits := found_in(path.read_bytes(), erased.canaries))
    }
    assert leaks == {}

    sealed = shared.data.sealed.encode()  # the search did read the topic's bytes and stores
    assert any(sealed in path.read_bytes() for path in searched)
    casework_store = (run_dir(system) / "data").glob("casework.sqlite*")
    assert any(sealed in path.read_bytes() for path in casework_store)
    held = held_keys(system)
    assert len(held) >= 2  # the other patient's data key and case key, at least
    assert opened_by(held, shared.data.sealed, context) == []


def test_after_erasure_the_auditors_replay_still_verifies_every_stream(
    system: System, patients: tuple[Patient, Patient]
) -> None:
    done = carenet_audit_replay(system)
    assert done.returncode == 0, done.stdout + done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["verified"] is True
    assert sum(report["summary"]["problems"].values()) == 0
