"""Holding partitions to their signed checkpoints, on records built in memory."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from uuid import uuid4

from bench.synthetic import SyntheticNetwork
from carenet_audit_tool.checkpoints import CheckpointLedger
from carenet_audit_tool.verify import Report, StreamVerifier
from carenet_kit.checkpoints import Checkpoints
from carenet_kit.inspection import ProblemKind, Record
from carenet_kit.signing import Signer, TrustedKeys, valid_during
from carenet_kit.topics import load_catalog

NETWORK = SyntheticNetwork()
KEY_SET = json.loads(NETWORK.key_set_json())
TOPICS = {
    p: load_catalog().topic_of(p).name
    for p in ("intake", "routing", "casework", "notifications", "audit")
}
INTAKE = TOPICS["intake"]
CHECKPOINTS = "carenet.checkpoints.v1"


def intake_partition(patients: int = 3) -> list[Record]:
    """Intake's messages for a few patients, all on partition 0 of its topic."""
    values = [
        m for _ in range(patients) for m in NETWORK.patient(uuid4(), 2) if m.producer == "intake"
    ]
    return [Record(INTAKE, 0, i, m.key, m.value, m.headers) for i, m in enumerate(values)]


def checkpoint_of(
    records: list[Record], signer: Signer | None = None, topic: str = INTAKE
) -> Record:
    """What the relay signs after publishing `records` (every message counted)."""
    made = Checkpoints(signer or NETWORK.signers["intake"], topic, every=1, seconds=60)
    last = records[-1]
    made.published(last.partition, last.offset, hashlib.sha256(last.value).hexdigest())
    ((key, value, headers),) = made.due()
    return Record(CHECKPOINTS, 0, 0, key, value, headers)


def replay(records: list[Record], checkpoints: list[Record], key_set: dict = KEY_SET) -> Report:
    ledger = CheckpointLedger(TrustedKeys(key_set), TOPICS)
    for checkpoint in checkpoints:
        ledger.add(checkpoint)
    verifier = StreamVerifier(key_set, checkpoints=ledger)
    verifier.feed(records)
    return verifier.finish()


def kinds(report: Report) -> list[tuple[ProblemKind, str]]:
    return [(p.kind, p.position) for p in report.problems]


def test_a_partition_that_holds_what_its_checkpoint_says_verifies() -> None:
    records = intake_partition()
    report = replay(records, [checkpoint_of(records[:3]), checkpoint_of(records)])

    assert report.clean, report.problems
    assert report.summary.checkpoints == 2
    assert report.heads == {
        f"{INTAKE}:0": {
            "offset": len(records) - 1,
            "value_sha256": hashlib.sha256(records[-1].value).hexdigest(),
            "count": len(records),
        }
    }


def test_a_tail_cut_after_its_checkpoint_is_truncated() -> None:
    """Without the checkpoint, the cut stream verifies: every chain is whole up to its end."""
    records = intake_partition()
    cut = records[:-2]
    assert replay(cut, []).clean

    report = replay(cut, [checkpoint_of(records)])

    last = len(records) - 1
    assert kinds(report) == [(ProblemKind.TRUNCATED, f"{INTAKE}:0@{last}")]
    problem = report.problems[0]
    sha256 = hashlib.sha256(records[-1].value).hexdigest()
    assert (problem.expected, problem.found) == (
        f"offset {last}, sha256 {sha256}",
        f"last offset {last - 2}",
    )
    assert problem.producer == "intake"


def test_a_partition_cut_and_written_again_does_not_hash_at_the_checkpoint() -> None:
    records = intake_partition()
    other = intake_partition()
    rewritten = [*records[:-1], replace(other[0], offset=records[-1].offset)]

    report = replay(rewritten, [checkpoint_of(records)])

    assert (ProblemKind.TRUNCATED, records[-1].position) in kinds(report)
    truncated = next(p for p in report.problems if p.kind is ProblemKind.TRUNCATED)
    assert "cut and written again" in truncated.detail


def test_a_whole_partition_mirrored_back_at_other_offsets_verifies() -> None:
    """Offsets are the broker's: a restore may shift them; the messages are what counts."""
    records = intake_partition()
    mirrored = [replace(r, offset=r.offset + 7) for r in records]

    report = replay(mirrored, [checkpoint_of(records[:3]), checkpoint_of(records)])

    assert report.clean, report.problems


def test_records_gone_from_the_head_of_a_partition_are_truncated() -> None:
    """As after `delete_records`: the offsets stay, the first records are gone."""
    records = intake_partition()
    report = replay(records[2:], [checkpoint_of(records[:4]), checkpoint_of(records)])

    truncated = [p for p in report.problems if p.kind is ProblemKind.TRUNCATED]
    assert [(p.position, p.expected, p.found) for p in truncated] == [
        (records[3].position, "4 records", "2 records")
    ], "reported once for the partition"


def test_a_checkpoint_nobody_may_sign_vouches_for_nothing() -> None:
    records = intake_partition()
    cut = records[:-1]
    by_routing = checkpoint_of(records, NETWORK.signers["routing"])
    by_stranger = checkpoint_of(records, Signer.generate("intake-rogue", "intake"))
    genuine = checkpoint_of(records)
    altered = replace(genuine, value=genuine.value.replace(b'"count":', b'"count": '))
    garbage = replace(checkpoint_of(records), value=b"{}")

    report = replay(cut, [by_routing, by_stranger, altered, garbage])

    assert [p.kind for p in report.problems] == [
        ProblemKind.FORGED,
        ProblemKind.FORGED,
        ProblemKind.ALTERED,
        ProblemKind.INVALID,
    ]
    assert report.summary.checkpoints == 0


def test_a_checkpoint_of_another_producers_topic_is_forged() -> None:
    records = intake_partition()
    foreign = checkpoint_of(records, NETWORK.signers["routing"], topic=INTAKE)
    assert json.loads(foreign.value)["producer"] == "routing"

    report = replay(records, [foreign])

    assert [p.kind for p in report.problems] == [ProblemKind.FORGED]
    assert "a checkpoint of routing for carenet.intake.v1" in report.problems[0].detail


def test_a_checkpoint_signed_after_its_key_expired_vouches_for_nothing() -> None:
    records = intake_partition()
    keys = [
        valid_during(k, None, datetime(2020, 1, 1, tzinfo=UTC))
        if k["carenet_producer"] == "intake"
        else k
        for k in KEY_SET["keys"]
    ]
    report = replay([], [checkpoint_of(records)], {"keys": keys})

    assert [p.kind for p in report.problems] == [ProblemKind.EXPIRED_KEY]
