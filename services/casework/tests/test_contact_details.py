"""A key per case, the contact details sealed to it, and their erasure."""

from __future__ import annotations

import json
from uuid import UUID, uuid4

import pytest

from carenet_casework.commands import EraseContactKeys, ReceiveContactDetails
from carenet_kit.outbox import Cause
from carenet_kit.refusals import NotFound
from carenet_kit.sealing import contact_context, public_key_from_text, seal, to_text

from .conftest import Casework

CONTACT = {"name": "Li Si", "phone": "13900000000", "address": "2 Nanshan Road"}


def contact_key(casework: Casework, patient_id: UUID, case_id: UUID) -> str | None:
    [opened] = [
        m
        for m in casework.published(patient_id)
        if m["event_type"] == "CaseOpened" and m["data"]["case_id"] == str(case_id)
    ]
    key: str | None = opened["data"].get("contact_key")
    return key


def share(casework: Casework, patient_id: UUID, case_id: UUID, contact: dict[str, str]) -> None:
    """What intake does on CaseOpened: seal the details to the case's published key."""
    key = contact_key(casework, patient_id, case_id)
    assert key is not None
    sealed = seal(
        json.dumps(contact).encode(),
        public_key_from_text(key),
        contact_context(patient_id, case_id),
    )
    shared = ReceiveContactDetails(patient_id, case_id, to_text(sealed))
    casework.app.receive_contact_details(shared, Cause.request())


def erase(casework: Casework, patient_id: UUID) -> None:
    erased = EraseContactKeys(
        patient_id, legal_basis="pipl_47_consent_withdrawn", reference="ERASURE-2026-0042"
    )
    casework.app.erase_contact_keys(erased, Cause.request())


def test_every_case_publishes_a_key_of_its_own(casework: Casework) -> None:
    patient_id = uuid4()
    first = casework.route("CHC-A", patient_id)
    second = casework.route("CHC-B", patient_id)
    keys = {contact_key(casework, patient_id, first), contact_key(casework, patient_id, second)}
    assert None not in keys
    assert len(keys) == 2


def test_the_center_reads_the_contact_details_sealed_to_its_case(casework: Casework) -> None:
    patient_id = uuid4()
    case_id = casework.route("CHC-A", patient_id)
    share(casework, patient_id, case_id, CONTACT)

    response = casework.http().get(f"/v1/cases/{case_id}/contact")
    assert response.status_code == 200, response.text
    assert response.json() == {"case_id": str(case_id), **CONTACT}


def test_the_store_keeps_the_contact_details_sealed(casework: Casework) -> None:
    patient_id = uuid4()
    case_id = casework.route("CHC-A", patient_id)
    share(casework, patient_id, case_id, CONTACT)
    stored = casework.app.process_recorder.select_notifications(0, 1000)
    assert not any(b"Li Si" in n.state or b"13900000000" in n.state for n in stored)


def test_before_the_hospital_shares_them_the_contact_is_not_found(casework: Casework) -> None:
    case_id = casework.route("CHC-A")
    response = casework.http().get(f"/v1/cases/{case_id}/contact")
    assert response.status_code == 404
    assert "not shared" in response.json()["detail"]
    assert casework.http().get(f"/v1/cases/{uuid4()}/contact").status_code == 404


def test_contact_details_for_a_case_that_is_not_here_are_refused(casework: Casework) -> None:
    patient_id = uuid4()
    casework.route("CHC-A", patient_id)
    shared = ReceiveContactDetails(patient_id, case_id=uuid4(), sealed="not opened")
    with pytest.raises(NotFound, match="not here"):
        casework.app.receive_contact_details(shared, Cause.request())


def test_after_erasure_no_case_of_the_patient_opens_its_contact_details(
    casework: Casework,
) -> None:
    patient_id, other = uuid4(), uuid4()
    old_case = casework.route("CHC-A", patient_id)
    share(casework, patient_id, old_case, CONTACT)
    new_case = casework.route("CHC-B", patient_id)
    share(casework, patient_id, new_case, CONTACT)
    other_case = casework.route("CHC-A", other)
    share(casework, other, other_case, CONTACT)

    erase(casework, patient_id)
    erase(casework, patient_id)  # a redelivered erasure changes nothing

    http = casework.http()
    for case_id in (old_case, new_case):
        assert http.get(f"/v1/cases/{case_id}/contact").status_code == 410
        assert not casework.app.contact_keys.holds_key(case_id)
    assert http.get(f"/v1/cases/{other_case}/contact").status_code == 200
    assert http.get(f"/v1/cases/{new_case}").status_code == 200  # the case itself stays


def test_a_case_opened_after_erasure_gets_no_key(casework: Casework) -> None:
    patient_id = uuid4()
    casework.route("CHC-A", patient_id)
    erase(casework, patient_id)
    later = casework.route("CHC-B", patient_id)
    assert contact_key(casework, patient_id, later) is None
    assert not casework.app.contact_keys.holds_key(later)


def test_an_erasure_before_any_case_keeps_future_cases_keyless(casework: Casework) -> None:
    patient_id = uuid4()
    erase(casework, patient_id)
    case_id = casework.route("CHC-A", patient_id)
    assert contact_key(casework, patient_id, case_id) is None
