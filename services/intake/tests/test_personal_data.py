"""Personal data at rest, in transit to a case's center, and its erasure."""

from __future__ import annotations

import json
import os
from datetime import date
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import Tracking

from carenet_contracts import Envelope
from carenet_contracts.intake import ContactDetailsShared, ErasureBasis, PersonalDataErased
from carenet_intake.application import IntakeApplication
from carenet_intake.commands import ShareContactDetails
from carenet_intake.domain import Patient
from carenet_kit.clock import ManualClock
from carenet_kit.outbox import Cause
from carenet_kit.sealing import (
    Unreadable,
    contact_context,
    from_text,
    open_sealed,
    private_key,
    public_key_text,
)

from .test_application import app, clock, diagnosis, published, register

__all__ = ["app", "clock"]  # the fixtures

PERSONAL = ("Zhang San", "13800000000", "1 Nantou Street")


def stored_events(app: IntakeApplication) -> str:
    """Everything intake's store holds, as text: events and outbox messages alike."""
    notifications = app.process_recorder.select_notifications(0, 1000)
    return "\n".join(n.state.decode(errors="replace") for n in notifications)


def case_opened(
    patient_id: UUID, case_secret: bytes, case_id: UUID | None = None
) -> ShareContactDetails:
    return ShareContactDetails(
        patient_id=patient_id,
        case_id=case_id or uuid4(),
        center_id="CHC-NS-NANTOU",
        contact_key=public_key_text(private_key(case_secret)),
    )


def shared(app: IntakeApplication, patient_id: UUID) -> list[Envelope[ContactDetailsShared]]:
    return [
        m
        for m in published(app)
        if m.patient_id == patient_id and isinstance(m.data, ContactDetailsShared)
    ]


def erase(app: IntakeApplication, patient_id: UUID) -> None:
    app.erase_personal_data(
        patient_id, ErasureBasis.CONSENT_WITHDRAWN, "ERASURE-1", Cause.request()
    )


def test_the_store_holds_personal_data_only_encrypted(app: IntakeApplication) -> None:
    patient_id = register(app)
    stored = stored_events(app)
    assert '"personal_data"' in stored
    for value in PERSONAL:
        assert value not in stored
    record = app.patient_record(patient_id)
    assert record.personal_data is not None
    assert (record.personal_data.name, record.personal_data.phone) == PERSONAL[:2]
    assert record.personal_data.date_of_birth == date(1980, 1, 1)


def test_a_patients_ciphertext_does_not_open_as_another_patients(app: IntakeApplication) -> None:
    first, second = register(app), register(app)
    stolen: Patient = app.repository.get(first)
    victim: Patient = app.repository.get(second)
    victim.personal_data = stolen.personal_data  # the ciphertext is bound to its patient
    with pytest.raises(Unreadable):
        app.personal_data(victim)


def test_a_new_case_gets_the_contact_details_sealed_to_its_key(app: IntakeApplication) -> None:
    patient_id = register(app)
    secret, case_id = os.urandom(32), uuid4()
    app.share_contact_details(case_opened(patient_id, secret, case_id), Cause.request())

    [message] = shared(app, patient_id)
    assert message.data.case_id == case_id
    assert "Zhang San" not in message.model_dump_json()
    contact = open_sealed(
        from_text(message.data.sealed), private_key(secret), contact_context(patient_id, case_id)
    )
    assert json.loads(contact) == dict(zip(("name", "phone", "address"), PERSONAL, strict=True))


def test_no_other_key_opens_the_contact_details(app: IntakeApplication) -> None:
    patient_id = register(app)
    case_id = uuid4()
    app.share_contact_details(case_opened(patient_id, os.urandom(32), case_id), Cause.request())
    [message] = shared(app, patient_id)
    with pytest.raises(Unreadable):
        open_sealed(
            from_text(message.data.sealed),
            private_key(os.urandom(32)),
            contact_context(patient_id, case_id),
        )


def test_a_case_opened_twice_or_for_a_stranger_shares_nothing_more(
    app: IntakeApplication,
) -> None:
    patient_id = register(app)
    opened = case_opened(patient_id, os.urandom(32))
    app.share_contact_details(opened, Cause.request())
    app.share_contact_details(opened, Cause.request())
    app.share_contact_details(case_opened(uuid4(), os.urandom(32)), Cause.request())
    assert len(shared(app, patient_id)) == 1


def test_a_redelivered_case_opened_is_tracked_once(app: IntakeApplication) -> None:
    patient_id = register(app)
    opened = case_opened(patient_id, os.urandom(32))
    tracking = Tracking("carenet.casework.v1:0", 7)
    app.share_contact_details(opened, Cause(uuid4(), uuid4(), tracking))
    assert app.is_tracked(tracking.application_name, 7)


def test_erasure_destroys_the_key_and_is_published_once(
    app: IntakeApplication, clock: ManualClock
) -> None:
    patient_id = register(app)
    erase(app, patient_id)
    erase(app, patient_id)  # idempotent

    record = app.patient_record(patient_id)
    assert record.personal_data is None
    assert record.erasure is not None
    assert record.erasure.erased_at == clock.now()
    assert app.data_keys.get(patient_id) is None
    erasures = [m for m in published(app) if isinstance(m.data, PersonalDataErased)]
    assert [(m.patient_id, m.data.legal_basis, m.data.reference) for m in erasures] == [
        (patient_id, ErasureBasis.CONSENT_WITHDRAWN, "ERASURE-1")
    ]


def test_the_clinical_history_survives_an_erasure(app: IntakeApplication) -> None:
    patient_id = register(app)
    recorded = app.record_diagnosis(patient_id, diagnosis(date(2026, 11, 19)), Cause.request())
    erase(app, patient_id)
    assert app.patient_record(patient_id).diagnosis_ids == (recorded.diagnosis_id,)


def test_after_erasure_no_center_gets_contact_details(app: IntakeApplication) -> None:
    patient_id = register(app)
    erase(app, patient_id)
    app.share_contact_details(case_opened(patient_id, os.urandom(32)), Cause.request())
    assert shared(app, patient_id) == []


def test_erasing_an_unknown_patient_is_not_found(app: IntakeApplication) -> None:
    with pytest.raises(AggregateNotFoundError):
        erase(app, uuid4())
