"""What lies on the dead-letter topic, summarised for an operator (`carenet-dev dead-letters`).

Every consumer that gives up on a message (`carenet_kit.inbound`, `carenet_kit.batches`) sends
the message's bytes to the dead-letter topic with headers saying who gave up, on what and why:
`carenet_dlq_consumer`, `carenet_dlq_topic`, `carenet_dlq_partition`, `carenet_dlq_offset`,
`carenet_dlq_reason`, and `carenet_dlq_kind` (a label: `contract`, `rejected`, or why admission
refused the message: `forged`, `gap`, ...). The summary groups them by consumer, source topic
and reason: the first line of the reason for a contract or a command that failed, the kind for
a message admission refused (whose reasons differ by sequence or size). It prints no message
content (which may be about a patient): only positions.

A dead letter's identity is its consumer and source position: a consumer that crashed after
sending one and before recording the message taken sends it again after its restart
(`carenet_kit.dead_letters`), and the summary counts such copies once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aiokafka import ConsumerRecord

from carenet_kit.wire import header


@dataclass(frozen=True)
class DeadLetter:
    offset: str
    """Where it lies on the dead-letter topic: `partition:offset`."""
    dead_lettered_at: datetime
    consumer: str
    source: str
    """Where the original lies: `topic:partition:offset`."""
    reason: str
    kind: str | None
    """None in dead letters from before the kind was recorded."""

    @property
    def group(self) -> str:
        """What its group is called: the reason, or for a refused message its kind."""
        if self.kind is None or self.kind in OWN_REASONS:
            return self.reason
        return f"refused: {self.kind}"


OWN_REASONS = ("contract", "rejected")
"""Kinds whose reasons are worth grouping by their text (the contract error, the rule)."""


@dataclass
class Group:
    """The dead letters of one consumer, from one topic, for one reason."""

    consumer: str
    topic: str
    reason: str
    letters: list[DeadLetter] = field(default_factory=list)
    copies: int = 0
    """Dead letters sent again with the identity of one of `letters` (counted once)."""

    @property
    def first(self) -> DeadLetter:
        return min(self.letters, key=lambda letter: letter.dead_lettered_at)

    @property
    def last(self) -> DeadLetter:
        return max(self.letters, key=lambda letter: letter.dead_lettered_at)


def dead_letter(record: ConsumerRecord[bytes, bytes], namespace: str = "") -> DeadLetter:
    headers = list(record.headers)

    def value(name: str) -> str:
        return header(headers, f"carenet_dlq_{name}") or "?"

    return DeadLetter(
        offset=f"{record.partition}:{record.offset}",
        dead_lettered_at=datetime.fromtimestamp(record.timestamp / 1000, UTC),
        consumer=value("consumer").removeprefix(namespace),
        source=f"{value('topic').removeprefix(namespace)}:{value('partition')}:{value('offset')}",
        reason=(value("reason").splitlines() or ["?"])[0][:200],
        kind=header(headers, "carenet_dlq_kind"),
    )


def summarise(records: Iterable[ConsumerRecord[bytes, bytes]], namespace: str = "") -> list[Group]:
    """The dead letters grouped by consumer, source topic and reason, largest group first; a
    copy (the same consumer and source) counted once."""
    groups: dict[tuple[str, str, str], Group] = {}
    seen: set[tuple[str, str]] = set()
    for record in records:
        letter = dead_letter(record, namespace)
        topic = letter.source.rsplit(":", 2)[0]
        key = (letter.consumer, topic, letter.group)
        group = groups.setdefault(key, Group(*key))
        if (letter.consumer, letter.source) in seen:
            group.copies += 1
        else:
            seen.add((letter.consumer, letter.source))
            group.letters.append(letter)
    return sorted(groups.values(), key=lambda g: (-len(g.letters), g.consumer, g.topic, g.reason))
