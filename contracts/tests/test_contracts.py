"""Contracts: every model round-trips, the committed schemas match, old messages still parse."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from carenet_contracts import (
    CONTRACTS,
    ContractError,
    Envelope,
    Payload,
    envelope_of,
    parse_message,
)
from carenet_contracts.intake import DiagnosisRecorded
from carenet_contracts.schema import (
    CHECKPOINT_SCHEMA_FILE,
    SCHEMA_DIR,
    render,
    render_checkpoint,
    schema_file_name,
)

MESSAGES = Path(__file__).parent / "messages"


def envelope(payload: Payload, sequence: int = 1) -> Envelope[Payload]:
    now = datetime.now(UTC)
    return envelope_of(type(payload))(
        event_id=uuid4(),
        event_type=payload.event_type,
        schema_version=payload.schema_version,
        occurred_at=now,
        recorded_at=now,
        producer=payload.producer,
        patient_id=uuid4(),
        correlation_id=uuid4(),
        causation_id=None,
        sequence=sequence,
        previous_hash=None if sequence == 1 else "0" * 64,
        data=payload,
    )


def diagnosis() -> DiagnosisRecorded:
    return DiagnosisRecorded(
        diagnosis_id=uuid4(),
        hospital_id="H-SZ-KANGNING",
        icd10_code="F20.0",
        category="schizophrenia",
        diagnosed_on=date(2026, 11, 2),
        risk_level=2,
        region_code="440305001",
    )


@pytest.mark.parametrize("path", sorted(MESSAGES.glob("*.json")), ids=lambda p: p.stem)
def test_every_committed_message_still_parses_and_round_trips(path: Path) -> None:
    message = parse_message(path.read_bytes())
    assert parse_message(message.model_dump_json().encode()) == message


def test_there_is_a_committed_message_for_every_contract_version() -> None:
    committed = {
        (raw["event_type"], raw["schema_version"])
        for raw in (json.loads(p.read_text()) for p in MESSAGES.glob("*.json"))
    }
    assert committed == set(CONTRACTS)


@pytest.mark.parametrize("payload", CONTRACTS.values(), ids=lambda p: p.event_type)
def test_committed_schema_matches_the_model(payload: type[Payload]) -> None:
    committed = (SCHEMA_DIR / schema_file_name(payload)).read_text()
    assert committed == render(payload), "run `make schemas` and commit the result"


def test_committed_checkpoint_schema_matches_the_model() -> None:
    committed = (SCHEMA_DIR / CHECKPOINT_SCHEMA_FILE).read_text()
    assert committed == render_checkpoint(), "run `make schemas` and commit the result"


def test_consumers_ignore_fields_they_do_not_know() -> None:
    raw = json.loads(envelope(diagnosis()).model_dump_json())
    raw["added_later"] = 1
    raw["data"]["also_added_later"] = "x"
    assert parse_message(json.dumps(raw).encode()).data.icd10_code == "F20.0"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda m: m.update(event_type="PatientTeleported"), "unknown contract"),
        (lambda m: m.update(schema_version=9), "unknown contract"),
        (lambda m: m.update(event_type=["DiagnosisRecorded"]), "unknown contract"),
        (lambda m: m.update(schema_version={"major": 1}), "unknown contract"),
        (lambda m: m["data"].update(risk_level=7), "less than or equal to 5"),
        (lambda m: m.update(producer="routing"), "data is DiagnosisRecorded"),
        (lambda m: m.update(sequence=2), "previous_hash is null exactly at sequence 1"),
        (lambda m: m.update(occurred_at="2026-11-02T10:00:00"), "timezone"),
    ],
)
def test_invalid_messages_are_refused_with_the_reason(change, reason: str) -> None:  # type: ignore[no-untyped-def]
    raw = json.loads(envelope(diagnosis()).model_dump_json())
    change(raw)
    with pytest.raises(ContractError, match=reason):
        parse_message(json.dumps(raw).encode())


def test_non_json_is_refused() -> None:
    with pytest.raises(ContractError, match="not JSON"):
        parse_message(b"\xff\x00")
    with pytest.raises(ContractError, match="not JSON"):
        parse_message(b'{"event_type": "DiagnosisRecorded",')


def test_json_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ContractError, match="not a JSON object"):
        parse_message(b'["DiagnosisRecorded", 1]')
