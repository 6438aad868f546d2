"""An independent checker: what the topics say happened, against what callers were told.

It reads every record of the namespace's topics with a bare aiokafka consumer and the JSON
parser, not with CareNet's code (no contract classes, no admission), once the system is quiet:
every consumer group's lag 0 and every service's outbox backlog 0, twice in a row with the
topics' ends unchanged in between (measured, never slept for). Anomalies, by class, in the
spirit of Jepsen's checkers:

- duplicated: an event id twice, or a (producer, patient) sequence number twice;
- reordered: a stream whose sequence numbers, in offset order, are not 1, 2, 3, … or whose
  `previous_hash` is not the SHA-256 of the stream's previous message;
- lost: a diagnosis answered 201 whose effect chain (`DiagnosisRecorded` → `PatientRouted` →
  `CaseOpened` → `CaseManagerAssigned`) is not on the topics exactly once;
- phantom: an effect chain of a patient nobody registered;
- refused: a dead letter of a message the scenario did not send to be refused;
- lost, too: a message sent to be refused that the armed consumer never dead-lettered (a dead
  letter's identity is its consumer and source position; a copy sent again after a crash is
  counted once, and its count shown);
- stuck: the system never became quiet (a consumer that cannot get past a message);
- diverged: a service's read model, as the stopped service left it in its store, is not what
  a rebuild from the store's events gives (`carenet_devtools.rebuilds`; added by the scenario,
  which knows the services' settings).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from carenet_kit.relay import BACKLOG_SECONDS

CHAIN = {
    "intake": ("DiagnosisRecorded",),
    "routing": ("PatientRouted",),
    "casework": ("CaseOpened", "CaseManagerAssigned"),
}
"""Each producer's messages that one diagnosis causes, once."""
BACKLOG = re.compile(r"^carenet_outbox_backlog\{[^}]*\} (\S+)$", re.MULTILINE)


@dataclass(frozen=True)
class Consumer:
    group: str
    topics: tuple[str, ...]


@dataclass(frozen=True)
class Refusable:
    """Messages sent to be refused ("topic:partition:offset"), and the consumer group that must
    dead-letter each of them."""

    sources: frozenset[str]
    consumer: str


@dataclass
class Anomalies:
    found: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    messages: int = 0
    dead_letter_copies: int = 0
    """Dead letters sent again with the identity of one already there (not an anomaly)."""

    def add(self, kind: str, detail: str) -> None:
        self.found[kind].append(detail)

    def counts(self) -> dict[str, int]:
        kinds = ("duplicated", "reordered", "lost", "phantom", "refused", "stuck", "diverged")
        return {kind: len(self.found.get(kind, [])) for kind in kinds}

    def table(self) -> str:
        lines = [
            f"{self.messages} messages checked, {self.dead_letter_copies} dead letters sent again",
            "anomaly     count  first",
        ]
        for kind, count in self.counts().items():
            first = self.found[kind][0] if count else ""
            lines.append(f"{kind:<11} {count:>5}  {first[:100]}")
        return "\n".join(lines)


def check(
    bootstrap: str,
    topics: Mapping[str, str],
    dead_letter_topic: str,
    acknowledged: Collection[str],
    registered: Collection[str],
    not_quiet: Collection[str] = (),
    refusable: Refusable | None = None,
) -> Anomalies:
    """`topics`: producer → topic; `acknowledged`: the patients whose diagnosis was answered
    201; `registered`: every patient whose registration was answered (a diagnosis whose answer
    was lost may or may not have happened: not an anomaly either way); `not_quiet`: what
    `wait_until_quiet` found still moving."""
    anomalies = Anomalies()
    for reason in not_quiet:
        anomalies.add("stuck", reason)
    sent_to_be_refused = refusable.sources if refusable else frozenset()
    records = {
        producer: [
            r.value
            for r in _read_records(bootstrap, topic)
            if r.value is not None
            and f"{r.topic}:{r.partition}:{r.offset}" not in sent_to_be_refused
        ]
        for producer, topic in topics.items()
    }
    messages = [json.loads(r) for rs in records.values() for r in rs]
    anomalies.messages = len(messages)
    for event_id, count in Counter(m["event_id"] for m in messages).items():
        if count > 1:
            anomalies.add("duplicated", f"event {event_id} {count} times")
    for producer, values in records.items():
        _check_streams(producer, values, anomalies)
    chains: dict[tuple[str, str], int] = Counter(
        (m["patient_id"], m["event_type"]) for m in messages
    )
    for patient in {m["patient_id"] for m in messages}:
        for event_type in (t for types in CHAIN.values() for t in types):
            count = chains[(patient, event_type)]
            if patient in acknowledged and count != 1:
                anomalies.add("lost" if count == 0 else "duplicated", f"{event_type} ×{count}")
            elif patient not in registered and count:
                anomalies.add("phantom", f"{event_type} of unknown patient {patient}")
    for patient in set(acknowledged) - {m["patient_id"] for m in messages}:
        anomalies.add("lost", f"patient {patient}: nothing on any topic")
    _check_dead_letters(_read_records(bootstrap, dead_letter_topic), refusable, anomalies)
    return anomalies


def _check_dead_letters(
    records: Iterable[ConsumerRecord[bytes, bytes]],
    refusable: Refusable | None,
    anomalies: Anomalies,
) -> None:
    expected = refusable.sources if refusable else frozenset()
    seen: set[tuple[str, str]] = set()
    for record in records:
        headers = {key: value.decode() for key, value in record.headers}
        consumer = headers.get("carenet_dlq_consumer", "?")
        source = ":".join(
            headers.get(f"carenet_dlq_{name}", "?") for name in ("topic", "partition", "offset")
        )
        if source not in expected:
            anomalies.add("refused", f"{consumer} refused {source}")
        elif (consumer, source) in seen:
            anomalies.dead_letter_copies += 1
        seen.add((consumer, source))
    if refusable is not None:
        for source in sorted(refusable.sources):
            if (refusable.consumer, source) not in seen:
                anomalies.add("lost", f"{source}: never dead-lettered by {refusable.consumer}")


def _check_streams(producer: str, values: Iterable[bytes], anomalies: Anomalies) -> None:
    previous: dict[str, tuple[int, bytes]] = {}
    seen: dict[str, set[bytes]] = defaultdict(set)
    for value in values:
        message = json.loads(value)
        patient, sequence = message["patient_id"], message["sequence"]
        if value in seen[patient]:
            continue  # a copy: counted by its event id
        seen[patient].add(value)
        last_sequence, last_value = previous.get(patient, (0, b""))
        if sequence != last_sequence + 1:
            anomalies.add(
                "reordered", f"{producer} stream of {patient}: {sequence} after {last_sequence}"
            )
        expected = hashlib.sha256(last_value).hexdigest() if last_value else None
        if message["previous_hash"] != expected:
            anomalies.add("reordered", f"{producer} stream of {patient}: {sequence} unchained")
        previous[patient] = (sequence, value)


def _read_records(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of the topic, partition after partition, in offset order."""

    async def read() -> list[ConsumerRecord[bytes, bytes]]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = await _partitions(consumer, topic)
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            found: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {
                tp: [] for tp in partitions
            }
            while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                for tp, batch in (await consumer.getmany(timeout_ms=1_000)).items():
                    found[tp] += batch
            return [record for tp in partitions for record in found[tp]]
        finally:
            await consumer.stop()

    return asyncio.run(read())


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    found = await consumer._client.fetch_all_metadata()  # the metadata, not aiokafka's cache
    return [TopicPartition(topic, p) for p in sorted(found.partitions_for_topic(topic) or ())]


def wait_until_quiet(
    bootstrap: str,
    consumers: Collection[Consumer],
    metrics_urls: Collection[str],
    topics: Collection[str],
    timeout: float = 30,
) -> list[str]:
    """Until every group's lag and every outbox backlog is 0 twice running, with the topics'
    ends unchanged between the two looks, the second backlog measured after the first look:
    nothing if so within `timeout`, else what was not quiet at the last look."""
    deadline, last_ends, moving = time.monotonic() + timeout, None, ["not looked at"]
    while time.monotonic() < deadline:
        ends = asyncio.run(_ends(bootstrap, topics))
        backlog = outbox_backlog(metrics_urls)
        lags = {c.group: asyncio.run(_lag(bootstrap, c)) for c in consumers}
        moving = [f"{group}: lag {lag}" for group, lag in lags.items() if lag]
        moving += [f"outbox backlog {backlog:.0f}"] if backlog else []
        if not moving and ends == last_ends:
            return []
        last_ends = None if moving else ends
        # quiet is judged by the figures, not by this wait: it makes the next look read an
        # outbox backlog measured after this one (the relay measures it every second)
        time.sleep(BACKLOG_SECONDS + 0.25)
    return [f"not quiet after {timeout:.0f} s: {', '.join(moving or ['topics still growing'])}"]


def outbox_backlog(urls: Iterable[str]) -> float:
    """The services' outbox backlogs, summed, as their metrics say now."""
    return sum(
        float(figure)
        for url in urls
        for figure in BACKLOG.findall(httpx.get(f"{url}/metrics", timeout=10).text)
    )


async def _ends(bootstrap: str, topics: Iterable[str]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [tp for topic in topics for tp in await _partitions(consumer, topic)]
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        return ends
    finally:
        await consumer.stop()


async def _lag(bootstrap: str, consumer: Consumer) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        ends = await _ends(bootstrap, consumer.topics)
        committed: dict[TopicPartition, Any] = await admin.list_consumer_group_offsets(
            consumer.group, partitions=list(ends)
        )
    finally:
        await admin.close()
    return sum(
        end - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0)
        for tp, end in ends.items()
    )
