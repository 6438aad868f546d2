"""`carenet-audit replay` against the real broker: signed checkpoints show a stream cut short,
and a signed report verifies, with our command and with openssl, only as it was signed."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from joserfc.jwk import OKPKey
from typer.testing import CliRunner

from bench.synthetic import SyntheticNetwork, produce
from carenet_audit_tool.cli import app
from carenet_audit_tool.stream import TopicReader
from carenet_devtools import kafka
from carenet_devtools.kafka import run_sync
from carenet_kit.checkpoints import Checkpoints
from carenet_kit.inspection import PRODUCERS, Record
from carenet_kit.topics import CHECKPOINT_TOPIC, load_catalog

NETWORK = SyntheticNetwork()
PATIENTS, EVENTS = 12, 3


@dataclass(frozen=True)
class Stream:
    """A namespace on the broker, and its producer records as they lie there."""

    namespace: str
    records: list[Record]

    def partition(self, topic: str, partition: int) -> list[Record]:
        return [r for r in self.records if (r.topic, r.partition) == (topic, partition)]

    def topic(self, producer: str) -> str:
        return self.namespace + load_catalog().topic_of(producer).name


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "jwks.json"
    path.write_text(NETWORK.key_set_json())
    return path


@pytest.fixture(scope="module")
def genuine(kafka_bootstrap: str) -> Stream:
    """A synthetic stream, checkpointed to its end as the relays would."""
    namespace = new_namespace(kafka_bootstrap)
    run_sync(produce(kafka_bootstrap, namespace, NETWORK, PATIENTS, EVENTS))
    records = read(kafka_bootstrap, namespace)
    run_sync(publish_checkpoints(kafka_bootstrap, namespace, records))
    return Stream(namespace, records)


def new_namespace(bootstrap: str) -> str:
    namespace = f"ckpt-{uuid4().hex[:8]}."
    run_sync(kafka.create_topics(bootstrap, namespace=namespace))
    return namespace


def replay(bootstrap: str, keys: Path, namespace: str, *extra: str) -> tuple[int, str]:
    args = ["replay", "--bootstrap", bootstrap, "--keys", str(keys), "--namespace", namespace]
    result = CliRunner().invoke(app, [*args, *extra])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def read(bootstrap: str, namespace: str) -> list[Record]:
    async def all_records() -> list[Record]:
        catalog = load_catalog()
        reader = TopicReader(bootstrap, [namespace + catalog.topic_of(p).name for p in PRODUCERS])
        await reader.open()
        try:
            return [r async for batch in reader.batches() for r in batch]
        finally:
            await reader.close()

    return run_sync(all_records())


async def publish_checkpoints(bootstrap: str, namespace: str, records: list[Record]) -> int:
    """What each relay signs after publishing `records`: a checkpoint of each partition's last
    record (renamed into `namespace`), made with the kit's own `Checkpoints`."""
    catalog = load_catalog()
    last: dict[tuple[str, int], Record] = {}
    for record in records:
        last[(record.topic, record.partition)] = record
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for (topic, partition), record in sorted(last.items()):
            name = namespace + topic.split(".", 1)[1]
            owner = next(p for p in PRODUCERS if catalog.topic_of(p).name == topic.split(".", 1)[1])
            made = Checkpoints(NETWORK.signers[owner], name, every=1, seconds=60)
            made.published(partition, record.offset, hashlib.sha256(record.value).hexdigest())
            for key, value, headers in made.due():
                await producer.send_and_wait(
                    namespace + CHECKPOINT_TOPIC, value, key, headers=headers
                )
        return len(last)
    finally:
        await producer.stop()


async def copy(bootstrap: str, namespace: str, records: Iterable[Record]) -> None:
    """The records into `namespace`, each to its partition, in order (offsets from 0 again)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for r in records:
            topic = namespace + r.topic.split(".", 1)[1]
            await producer.send(topic, r.value, r.key, partition=r.partition, headers=r.headers)
        await producer.flush()
    finally:
        await producer.stop()


def fullest(stream: Stream, producer: str) -> tuple[str, int]:
    """The partition of the producer's topic that holds the most records."""
    topic = stream.topic(producer)
    sizes = {p: len(stream.partition(topic, p)) for p in range(6)}
    return topic, max(sizes, key=lambda p: sizes[p])


# -- truncation ------------------------------------------------------------------------------


def test_a_checkpointed_stream_replays_verified(
    kafka_bootstrap: str, keys: Path, genuine: Stream
) -> None:
    code, output = replay(kafka_bootstrap, keys, genuine.namespace, "--json")

    assert code == 0, output
    report = json.loads(output)
    partitions = {(r.topic, r.partition) for r in genuine.records}
    assert report["summary"]["checkpoints"] == len(partitions)
    assert len(report["heads"]) == len(partitions)
    code, output = replay(kafka_bootstrap, keys, genuine.namespace, "--json", "--workers", "3")
    assert code == 0, "each shard holds its partitions to their own checkpoints: " + output
    assert json.loads(output) == report


def test_a_stream_cut_short_after_its_checkpoints_is_truncated(
    kafka_bootstrap: str, keys: Path, genuine: Stream
) -> None:
    """As after a restore from a mirror that lagged: one partition lost its last two records.
    Every hash chain still verifies to its end; only the checkpoint shows the cut."""
    topic, partition = fullest(genuine, "intake")
    lost = genuine.partition(topic, partition)[-2:]
    namespace = new_namespace(kafka_bootstrap)
    run_sync(copy(kafka_bootstrap, namespace, (r for r in genuine.records if r not in lost)))

    code, output = replay(kafka_bootstrap, keys, namespace, "--json")
    assert code == 0, "without checkpoints the cut stream verifies: what this test is about"
    run_sync(publish_checkpoints(kafka_bootstrap, namespace, genuine.records))
    code, output = replay(kafka_bootstrap, keys, namespace, "--json")

    assert code == 1, output
    report = json.loads(output)
    copied = namespace + topic.split(".", 1)[1]
    assert [(p["kind"], p["position"], p["found"]) for p in report["problems"]] == [
        (
            "truncated",
            f"{copied}:{partition}@{lost[-1].offset}",
            f"last offset {lost[0].offset - 1}",
        )
    ]
    assert report["summary"]["problems"]["truncated"] == 1
    code, output = replay(kafka_bootstrap, keys, namespace, "--json", "--workers", "3")
    assert json.loads(output) == report, "three shards find the cut as one pass does"


def test_records_deleted_from_the_head_of_a_partition_are_truncated(
    kafka_bootstrap: str, keys: Path, genuine: Stream
) -> None:
    """`delete_records` on the broker: the first records of a partition are gone for good."""
    namespace = new_namespace(kafka_bootstrap)
    run_sync(copy(kafka_bootstrap, namespace, genuine.records))
    run_sync(publish_checkpoints(kafka_bootstrap, namespace, genuine.records))
    topic, partition = fullest(Stream(namespace, read(kafka_bootstrap, namespace)), "routing")
    run_sync(delete_before(kafka_bootstrap, TopicPartition(topic, partition), 2))

    code, output = replay(kafka_bootstrap, keys, namespace, "--json")

    assert code == 1, output
    report = json.loads(output)
    truncated = [p for p in report["problems"] if p["kind"] == "truncated"]
    size = len(genuine.partition(topic.replace(namespace, genuine.namespace), partition))
    assert [(p["position"], p["expected"], p["found"]) for p in truncated] == [
        (f"{topic}:{partition}@{size - 1}", f"{size} records", f"{size - 2} records")
    ]


async def delete_before(bootstrap: str, tp: TopicPartition, offset: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_records({tp: RecordsToDelete(before_offset=offset)})
    finally:
        await admin.close()


# -- signed reports --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def auditor(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The auditor's key pair as openssl would write them: PKCS#8 and SPKI PEM."""
    directory = tmp_path_factory.mktemp("auditor")
    key = OKPKey.generate_key("Ed25519")
    private, public = directory / "auditor.pem", directory / "auditor.pub.pem"
    private.write_bytes(key.as_pem(private=True))
    public.write_bytes(key.as_pem(private=False))
    return private, public


def verify_report(report: Path, public: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["verify-report", str(report), "--key", str(public), "--json"])
    return result.exit_code, result.output


def test_a_signed_report_verifies_and_a_modified_one_does_not(
    kafka_bootstrap: str,
    keys: Path,
    genuine: Stream,
    auditor: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    private, public = auditor
    signed = tmp_path / "report.jws"
    code, _ = replay(
        kafka_bootstrap,
        keys,
        genuine.namespace,
        "--json",
        "--sign",
        str(private),
        "--signed-report",
        str(signed),
    )
    assert code == 0

    code, output = verify_report(signed, public)
    assert code == 0, output
    payload = json.loads(output)
    assert payload["namespace"] == genuine.namespace
    assert payload["report"]["verified"] is True
    assert payload["key_set_sha256"] == hashlib.sha256(keys.read_bytes()).hexdigest()
    assert payload["report"]["heads"], "the report is the auditor's own checkpoint"
    shown = CliRunner().invoke(app, ["verify-report", str(signed), "--key", str(public)])
    assert shown.exit_code == 0
    assert "signature verified" in shown.output

    # the same report, one claim changed: the signature no longer covers it
    header, body, signature = signed.read_text().strip().split(".")
    claims = json.loads(_unbase64(body))
    claims["report"]["summary"]["events"] += 1
    forged = tmp_path / "forged.jws"
    forged.write_text(".".join([header, _base64(json.dumps(claims).encode()), signature]))
    code, output = verify_report(forged, public)
    assert code == 1
    assert "not verified" in output

    # the genuine report, another auditor's key
    stranger = tmp_path / "stranger.pub.pem"
    stranger.write_bytes(OKPKey.generate_key("Ed25519").as_pem(private=False))
    assert verify_report(signed, stranger)[0] == 1


def test_a_signed_report_verifies_with_openssl_as_the_readme_says(
    kafka_bootstrap: str,
    keys: Path,
    genuine: Stream,
    auditor: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    """The README's steps, for a third party without CareNet's tools."""
    private, public = auditor
    signed = tmp_path / "report.jws"
    replay(
        kafka_bootstrap,
        keys,
        genuine.namespace,
        "--sign",
        str(private),
        "--signed-report",
        str(signed),
    )
    steps = (
        "cut -d. -f1,2 report.jws | tr -d '\\n' > signed-part && "
        "printf '%s==' \"$(cut -d. -f3 report.jws | tr -d '\\n' | tr '_-' '/+')\" "
        "| base64 -d > signature.bin && "
        f"openssl pkeyutl -verify -pubin -inkey {public} -rawin "
        "-in signed-part -sigfile signature.bin"
    )

    def openssl(report: str) -> subprocess.CompletedProcess[str]:
        (tmp_path / "report.jws").write_text(report)
        return subprocess.run(
            ["sh", "-c", steps], cwd=tmp_path, capture_output=True, text=True, check=False
        )

    genuine_run = openssl(signed.read_text())
    assert genuine_run.returncode == 0, genuine_run.stderr
    assert "Signature Verified Successfully" in genuine_run.stdout
    header, body, signature = signed.read_text().strip().split(".")
    changed = _base64(_unbase64(body).replace(b'"verified":true', b'"verified":fals'))
    assert openssl(".".join([header, changed, signature])).returncode != 0


def _base64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unbase64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_an_earlier_signed_report_shows_a_cut_whose_checkpoints_were_deleted_too(
    kafka_bootstrap: str,
    keys: Path,
    genuine: Stream,
    auditor: tuple[Path, Path],
    tmp_path: Path,
) -> None:
    """The attack checkpoints alone cannot show: the tail and every checkpoint after the cut
    are gone (here: all of them). The auditor's report of an earlier replay still can."""
    private, public = auditor
    earlier = tmp_path / "earlier.jws"
    code, _ = replay(
        kafka_bootstrap,
        keys,
        genuine.namespace,
        *("--sign", str(private), "--signed-report", str(earlier)),
    )
    assert code == 0
    topic, partition = fullest(genuine, "casework")
    lost = genuine.partition(topic, partition)[-1]
    namespace = new_namespace(kafka_bootstrap)  # the restored copy, without its checkpoints
    run_sync(copy(kafka_bootstrap, namespace, (r for r in genuine.records if r != lost)))
    assert replay(kafka_bootstrap, keys, namespace)[0] == 0

    code, output = replay(
        kafka_bootstrap,
        keys,
        namespace,
        *("--json", "--since", str(earlier), "--auditor-key", str(public)),
    )

    assert code == 1, output
    (problem,) = json.loads(output)["problems"]
    copied = namespace + topic.split(".", 1)[1]
    assert (problem["kind"], problem["position"]) == (
        "truncated",
        f"{copied}:{partition}@{lost.offset}",
    )
    assert "the signed report earlier.jws" in problem["detail"]
    stranger = tmp_path / "stranger.pub.pem"
    stranger.write_bytes(OKPKey.generate_key("Ed25519").as_pem(private=False))
    args = ("--since", str(earlier), "--auditor-key", str(stranger))
    assert replay(kafka_bootstrap, keys, namespace, *args)[0] == 2, "an unverified report: usage"
