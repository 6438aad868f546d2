"""A patient's timeline: order, tiers, point in time with late-arriving events, outputs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from rich.console import Console

from carenet_audit_tool.describe import Tier, summary_of
from carenet_audit_tool.history import timeline_from_records
from carenet_audit_tool.render import history_json, render_html, render_table
from carenet_audit_tool.timeline import Timeline, build_timeline
from carenet_contracts import CONTRACTS, Envelope, Payload, envelope_of, parse_message
from carenet_kit.inspection import Record
from carenet_kit.signing import Signer, TrustedKeys, key_set, valid_during
from carenet_kit.wire import kafka_record

EXAMPLES = Path(__file__).parents[3] / "contracts" / "tests" / "messages"
PATIENT = UUID("5b0e7d9c-3f0e-4a57-9d43-0c61a4a4c001")
DAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


def example(event_type: str, **changes: Any) -> Payload:
    data = parse_message((EXAMPLES / f"{event_type}.v1.json").read_bytes()).data
    assert isinstance(data, Payload)
    return type(data).model_validate({**data.model_dump(), **changes})


def envelope(
    payload: Payload,
    occurred: datetime,
    recorded: datetime | None = None,
    *,
    sequence: int = 1,
    patient: UUID = PATIENT,
) -> Envelope[Any]:
    return envelope_of(type(payload))(
        event_id=uuid4(),
        event_type=payload.event_type,
        schema_version=payload.schema_version,
        occurred_at=occurred,
        recorded_at=recorded or occurred + timedelta(minutes=5),
        producer=payload.producer,
        patient_id=patient,
        correlation_id=uuid4(),
        causation_id=None,
        sequence=sequence,
        previous_hash=None if sequence == 1 else "0" * 64,
        data=payload,
    )


def ids(envelopes: list[Envelope[Any]]) -> list[UUID]:
    return [e.event_id for e in envelopes]


def test_events_of_all_producers_are_ordered_by_when_they_happened_then_were_recorded() -> None:
    diagnosed = envelope(example("DiagnosisRecorded"), DAY)
    routed = envelope(example("PatientRouted"), DAY + timedelta(hours=1))
    opened = envelope(example("CaseOpened"), DAY + timedelta(hours=1, minutes=1))
    # same moment, recorded earlier: goes first
    assigned = envelope(
        example("CaseManagerAssigned"),
        DAY + timedelta(hours=1, minutes=1),
        DAY + timedelta(hours=1, minutes=2),
        sequence=2,
    )
    visit = envelope(
        example("VisitCompleted"), DAY + timedelta(days=2), DAY + timedelta(days=6), sequence=3
    )
    stranger = envelope(example("DiagnosisRecorded"), DAY, patient=uuid4())

    timeline = build_timeline(PATIENT, [visit, opened, stranger, routed, assigned, diagnosed])

    assert [e.event_id for e in timeline.entries] == ids(
        [diagnosed, routed, assigned, opened, visit]
    )
    assert [e.tier for e in timeline.entries] == [
        Tier.HOSPITAL,
        Tier.NETWORK,
        Tier.COMMUNITY,
        Tier.COMMUNITY,
        Tier.COMMUNITY,
    ]


def test_a_redelivered_event_appears_once() -> None:
    diagnosed = envelope(example("DiagnosisRecorded"), DAY)
    timeline = build_timeline(PATIENT, [diagnosed, diagnosed])
    assert [e.event_id for e in timeline.entries] == [diagnosed.event_id]


def test_as_of_shows_only_what_was_recorded_by_then_so_a_late_event_appears_later() -> None:
    diagnosed = envelope(example("DiagnosisRecorded"), DAY)
    visit_on_day_2_recorded_day_6 = envelope(
        example("VisitCompleted"), DAY + timedelta(days=2), DAY + timedelta(days=6)
    )
    visit_on_day_4 = envelope(
        example("VisitCompleted"), DAY + timedelta(days=4), DAY + timedelta(days=4, hours=2)
    )
    timeline = build_timeline(PATIENT, [diagnosed, visit_on_day_2_recorded_day_6, visit_on_day_4])

    day_5 = timeline.as_of(DAY + timedelta(days=5))
    day_6 = timeline.as_of(visit_on_day_2_recorded_day_6.recorded_at)

    assert [e.event_id for e in day_5.entries] == ids([diagnosed, visit_on_day_4])
    assert day_5.point_in_time == DAY + timedelta(days=5)
    assert day_5.recorded_later == 1
    # it happened before day 4's visit, so once known it sits before it
    assert [e.event_id for e in day_6.entries] == ids(
        [diagnosed, visit_on_day_2_recorded_day_6, visit_on_day_4]
    )
    assert day_6.recorded_later == 0
    assert [e.late for e in day_6.entries] == [False, True, False]
    # a view of a view counts from the full history
    assert (
        timeline.as_of(DAY + timedelta(days=5)).as_of(DAY + timedelta(hours=1)).recorded_later == 2
    )


def test_as_of_needs_a_utc_offset() -> None:
    timeline = build_timeline(PATIENT, [])
    with pytest.raises(ValueError, match="UTC offset"):
        timeline.as_of(datetime(2026, 3, 2, 12, 0))


@pytest.mark.parametrize(
    ("delay", "late"),
    [(timedelta(hours=24), False), (timedelta(hours=24, seconds=1), True)],
)
def test_late_means_recorded_over_a_day_after_it_happened(delay: timedelta, late: bool) -> None:
    event = envelope(example("VisitCompleted"), DAY, DAY + delay)
    assert build_timeline(PATIENT, [event]).entries[0].late is late
    assert build_timeline(PATIENT, [event], late_after=delay * 2).entries[0].late is False


def test_family_links_and_what_relatives_were_sent_are_the_family_tier() -> None:
    visit = envelope(example("VisitCompleted"), DAY)
    referral = envelope(example("ReferralIssued"), DAY)
    linked = envelope(example("FamilyMemberLinked"), DAY)
    guardian_joined = envelope(example("CareTeamMemberJoined", role="guardian"), DAY)
    doctor_joined = envelope(example("CareTeamMemberJoined", role="community_doctor"), DAY)
    withdrawn = envelope(example("FamilyConsentWithdrawn"), DAY)
    to_relative = envelope(
        example(
            "NotificationDelivered",
            recipient="family:REL-1",
            about_event_id=visit.event_id,
            about_event_type="VisitCompleted",
        ),
        DAY,
    )
    to_manager = envelope(
        example(
            "NotificationDelivered",
            recipient="staff:SW-1",
            about_event_id=visit.event_id,
            about_event_type="VisitCompleted",
        ),
        DAY,
    )
    to_hospital = envelope(example("NotificationDelivered", about_event_id=referral.event_id), DAY)
    read = envelope(example("PatientHistoryRead"), DAY)

    timeline = build_timeline(
        PATIENT,
        [
            visit,
            referral,
            linked,
            guardian_joined,
            doctor_joined,
            withdrawn,
            to_relative,
            to_manager,
            to_hospital,
            read,
        ],
    )
    tier = {e.event_id: e.tier for e in timeline.entries}

    assert {e.event_id for e in timeline.entries if e.tier is Tier.FAMILY} == {
        linked.event_id,
        guardian_joined.event_id,
        withdrawn.event_id,
        to_relative.event_id,
    }
    assert tier[doctor_joined.event_id] is Tier.COMMUNITY
    assert tier[to_manager.event_id] is Tier.COMMUNITY  # beside the visit it is about
    assert tier[to_hospital.event_id] is Tier.NETWORK  # beside the referral it is about
    assert tier[read.event_id] is Tier.AUDIT


def test_every_contract_has_a_summary_of_its_own() -> None:
    examples = {p.stem.split(".")[0]: parse_message(p.read_bytes()) for p in EXAMPLES.glob("*")}
    assert set(examples) == {event_type for event_type, _ in CONTRACTS}
    for event_type, message in examples.items():
        summary = summary_of(message.data)
        assert summary != event_type, f"{event_type} has no summary"
        assert "{" not in summary


def test_an_entry_names_the_actor_and_the_rule_versions_from_the_data() -> None:
    visit = envelope(example("VisitCompleted", case_manager_id="SW-NS-LI"), DAY)
    routed = envelope(
        example("PatientRouted", routed_by="catchment", directory_version=3), DAY, sequence=1
    )
    by_hand = envelope(example("PatientRouted", routed_by="OP-7"), DAY)
    entries = {e.event_id: e for e in build_timeline(PATIENT, [visit, routed, by_hand]).entries}

    assert entries[visit.event_id].actor == "SW-NS-LI"
    assert entries[visit.event_id].rule_versions == {"rule_set": visit.data.rule_set_version}
    assert entries[routed.event_id].actor is None  # the catchment rules routed
    assert entries[routed.event_id].rule_versions == {
        "rule_set": routed.data.rule_set_version,
        "directory": "3",
    }
    assert entries[by_hand.event_id].actor == "OP-7"


def record(value: bytes, signer: Signer | None, offset: int = 0) -> Record:
    envelope = json.loads(value)
    key, headers = kafka_record(value.decode(), offset, signer.sign(value) if signer else None)
    assert key == envelope["patient_id"].encode()
    return Record("carenet.casework.v1", 0, offset, key, value, headers)


def test_records_are_checked_against_the_key_set_and_problems_are_named() -> None:
    casework = Signer.generate("casework-1", "casework")
    intruder = Signer.generate("casework-1", "casework")  # same key id, another key
    trusted = TrustedKeys(key_set([casework.public_jwk()]))
    good = envelope(example("CaseOpened"), DAY)
    forged = envelope(example("CaseManagerAssigned"), DAY, sequence=2)
    records = [
        record(good.model_dump_json().encode(), casework, 0),
        record(forged.model_dump_json().encode(), intruder, 1),
        Record("carenet.casework.v1", 0, 2, str(PATIENT).encode(), b"{not json", []),
    ]

    timeline, problems = timeline_from_records(PATIENT, records, trusted)

    assert [(e.event_id, e.signature) for e in timeline.entries] == [
        (good.event_id, "verified"),
        (forged.event_id, "signature does not verify with key 'casework-1'"),
    ]
    assert [p.position for p in problems] == ["carenet.casework.v1:0@1", "carenet.casework.v1:0@2"]
    assert problems[1].reason.startswith("unreadable: not JSON")
    unchecked, _ = timeline_from_records(PATIENT, records[:1])
    assert unchecked.entries[0].signature == "unchecked"


def test_a_record_signed_after_its_key_expired_is_named() -> None:
    casework = Signer.generate("casework-1", "casework")
    retired = valid_during(casework.public_jwk(), None, DAY + timedelta(days=1))
    trusted = TrustedKeys(key_set([retired]))
    before = envelope(example("CaseOpened"), DAY)
    after = envelope(example("CaseManagerAssigned"), DAY, DAY + timedelta(days=2), sequence=2)
    records = [
        record(before.model_dump_json().encode(), casework, 0),
        record(after.model_dump_json().encode(), casework, 1),
    ]

    timeline, problems = timeline_from_records(PATIENT, records, trusted)

    assert [e.signature for e in timeline.entries] == [
        "verified",
        "key 'casework-1' expired at 2026-03-03T02:00:00+00:00",
    ]
    assert [p.position for p in problems] == ["carenet.casework.v1:0@1"]


def sample_timeline() -> tuple[Timeline, Envelope[Any], Envelope[Any]]:
    diagnosed = envelope(example("DiagnosisRecorded"), DAY)
    late_visit = envelope(
        example("VisitCompleted"), DAY + timedelta(days=1), DAY + timedelta(days=3)
    )
    return build_timeline(PATIENT, [diagnosed, late_visit]), diagnosed, late_visit


def test_json_has_stable_documented_fields() -> None:
    timeline, diagnosed, _ = sample_timeline()
    document = history_json(timeline.as_of(DAY + timedelta(days=2)))

    assert set(document) == {
        "format",
        "patient_id",
        "as_of",
        "late_after_seconds",
        "events_recorded_after_as_of",
        "events",
    }
    assert document["format"] == "carenet.history/1"
    assert document["as_of"] == "2026-03-04T02:00:00+00:00"
    assert document["events_recorded_after_as_of"] == 1
    [event] = document["events"]
    assert event == {
        "event_id": str(diagnosed.event_id),
        "event_type": "DiagnosisRecorded",
        "schema_version": 1,
        "producer": "intake",
        "sequence": 1,
        "tier": "hospital",
        "summary": summary_of(diagnosed.data),
        "occurred_at": "2026-03-02T02:00:00+00:00",
        "recorded_at": "2026-03-02T02:05:00+00:00",
        "delay_seconds": 300,
        "late": False,
        "actor": diagnosed.data.hospital_id,
        "rule_versions": {},
        "correlation_id": str(diagnosed.correlation_id),
        "causation_id": None,
        "signature": "unchecked",
    }
    full = history_json(timeline)
    assert [e["late"] for e in full["events"]] == [False, True]
    assert full["events"][1]["delay_seconds"] == 2 * 86_400


def test_the_table_lists_every_event_and_flags_the_late_one() -> None:
    timeline, _, _ = sample_timeline()
    console = Console(record=True, width=220)
    render_table(timeline, console)
    text = console.export_text()
    assert "DiagnosisRecorded" in text
    assert "VisitCompleted" in text
    assert text.count("LATE") == 1
    assert "1 recorded late" in text


def test_as_of_a_late_visit_and_its_withdrawn_miss_show_when_they_happened_and_were_recorded() -> (
    None
):
    """Issue 14: a visit of day 2 entered on day 6, after its follow-up was counted as missed."""
    visit = envelope(example("VisitCompleted"), DAY + timedelta(days=2), DAY + timedelta(days=6))
    missed = envelope(example("FollowUpOverdue"), DAY + timedelta(days=4), DAY + timedelta(days=4))
    withdrawn = envelope(
        example("FollowUpMissWithdrawn", reason="a visit on 2026-03-04 was recorded"),
        DAY + timedelta(days=6),
        DAY + timedelta(days=6),
    )
    timeline = build_timeline(PATIENT, [missed, visit, withdrawn]).as_of(visit.recorded_at)
    console = Console(record=True, width=260)
    render_table(timeline, console)
    (row,) = [line for line in console.export_text().splitlines() if "Home visit" in line]
    assert "2026-03-04 10:00" in row  # occurred (the centers' time)
    assert "2026-03-08 10:00 +4d 0h LATE" in row  # recorded, and how late
    entries = {e.event_type: e for e in timeline.entries}
    assert [e.event_type for e in timeline.entries] == [
        "VisitCompleted",
        "FollowUpOverdue",
        "FollowUpMissWithdrawn",
    ]
    assert entries["FollowUpMissWithdrawn"].summary == (
        "Follow-up due 2026-11-16 no longer counts as missed: a visit on 2026-03-04 was recorded"
    )


def test_the_page_is_self_contained() -> None:
    timeline, _, late_visit = sample_timeline()
    page = render_html(timeline.as_of(DAY + timedelta(days=4)))
    lowered = page.lower()
    for outside in ("<script", " src=", "href=", "@import", "url(", "<link"):
        assert outside not in lowered
    assert str(late_visit.event_id)[:8] in page
    assert "as of 06 Mar 10:00" in page  # shown in China's time
