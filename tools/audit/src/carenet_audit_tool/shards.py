"""Verifying the producers' topics in shards of whole partitions, each shard in a process.

A (producer, patient) stream lies in one partition (its Kafka key is the patient), so one shard
sees the whole of every stream, chain, checkpoint and head of its partitions, and the shards'
reports add up to the report of a single pass. Nothing crosses between processes per message:
each shard reads its own partitions from the broker, and hands back its report and the patients
it saw. A message written to another partition than its stream's is `misplaced` wherever it
lands; what its stream then shows (a gap, a repeat) is found in the shard that holds it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from typing import Any

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from carenet_audit_tool.checkpoints import CheckpointLedger
from carenet_audit_tool.stream import ReplayError, TopicReader
from carenet_audit_tool.verify import Report, StreamVerifier, Summary
from carenet_contracts.checkpoint import StreamCheckpoint
from carenet_kit.chain_cover import ChainCover
from carenet_kit.inspection import Inspected, MessageInspector, Problem, Record, Standing


@dataclass(frozen=True)
class Shard:
    """What one shard verifies, and how."""

    bootstrap: str
    key_set: dict[str, Any]
    namespace: str
    max_problems: int
    every_signature: bool
    ends: dict[TopicPartition, int]
    """Its partitions, and the offset where the read of each ends."""
    vouched: list[tuple[StreamCheckpoint, str]] = field(default_factory=list)
    """The verified checkpoints its partitions are held to, and where each comes from."""


@dataclass(frozen=True)
class Verified:
    """A shard's report, and the patients of its streams (a patient's streams of different
    producers lie in different topics, so perhaps in different shards)."""

    report: Report
    patients: set[str]


def split(
    ends: dict[TopicPartition, int], ledger: CheckpointLedger, count: int
) -> list[tuple[dict[TopicPartition, int], list[tuple[StreamCheckpoint, str]]]]:
    """The partitions in `count` shards of about the same number of records, each with the
    checkpoints of its partitions; checkpoints of a partition that is not there go to the
    first shard, whose report then says it holds nothing."""
    shards: list[dict[TopicPartition, int]] = [{} for _ in range(max(1, count))]
    sizes = [0] * len(shards)
    for tp, end in sorted(ends.items(), key=lambda item: -item[1]):
        smallest = sizes.index(min(sizes))
        shards[smallest][tp] = end
        sizes[smallest] += end
    placed = {f"{tp.topic}:{tp.partition}": i for i, shard in enumerate(shards) for tp in shard}
    vouched: list[list[tuple[StreamCheckpoint, str]]] = [[] for _ in shards]
    for partition, checkpoints in ledger.vouched_by_partition().items():
        vouched[placed.get(partition, 0)].extend(checkpoints)
    return [(shard, vouched[i]) for i, shard in enumerate(shards) if shard or vouched[i]]


def follow(
    verifier: StreamVerifier,
    cover: ChainCover | None,
    records: Sequence[Record],
    inspected: Sequence[Inspected],
) -> None:
    """Records and their inspections, in partition order, into their streams (and, without
    every signature checked, into the cover of their chains)."""
    for record, message in zip(records, inspected, strict=True):
        verifier.accept(message)
        if cover is not None and message.standing is Standing.AUTHENTIC:
            verifier.report_all(cover.note(message, record))


async def verify_shard(shard: Shard, on_batch: Callable[[int], None]) -> Verified:
    """Read and verify the shard's partitions, here."""
    inspector = MessageInspector(shard.key_set, shard.namespace)
    ledger = CheckpointLedger(inspector.trusted, inspector.topics)
    for checkpoint, source in shard.vouched:
        ledger.vouch(checkpoint, source)
    verifier = StreamVerifier(
        shard.key_set,
        shard.namespace,
        shard.max_problems,
        ledger,
        every_signature=shard.every_signature,
    )
    cover = None if shard.every_signature else ChainCover(inspector.trusted)
    reader = TopicReader(shard.bootstrap, sorted({tp.topic for tp in shard.ends}))
    try:
        await reader.open(shard.ends)
        async for batch in reader.batches():
            verify = shard.every_signature
            inspected = [inspector.inspect(record, verify_signature=verify) for record in batch]
            follow(verifier, cover, batch, inspected)
            on_batch(len(batch))
    except (LookupError, KafkaError, OSError) as error:
        raise ReplayError(f"cannot read from the broker at {shard.bootstrap}: {error}") from error
    finally:
        await reader.close()
    if cover is not None:
        verifier.report_all(cover.finish())
    report = verifier.finish()
    if cover is not None:
        report.summary.signatures = cover.verified
    return Verified(report, verifier.patient_ids())


async def verify_shards(shards: list[Shard], on_batch: Callable[[int], None]) -> list[Verified]:
    """The first shard here, each other in a worker process of its own (started while this
    one works), passing on their progress as it comes."""
    here, *elsewhere = shards
    if not elsewhere:
        return [await verify_shard(here, on_batch)]
    context = multiprocessing.get_context("spawn")
    progress: Queue[int] = context.Queue()
    with ProcessPoolExecutor(
        len(elsewhere), mp_context=context, initializer=_start_worker, initargs=(progress,)
    ) as pool:
        loop = asyncio.get_running_loop()
        running = [
            asyncio.ensure_future(verify_shard(here, on_batch)),
            *(loop.run_in_executor(pool, _verify_in_worker, shard) for shard in elsewhere),
        ]
        pending: set[asyncio.Future[Verified]] = set(running)
        while pending:
            _, pending = await asyncio.wait(pending, timeout=0.2)
            while not progress.empty():
                on_batch(progress.get())
        return [future.result() for future in running]  # a shard's failure is raised here


def merge(
    parts: list[Verified],
    rejected: list[Problem],
    checkpoints: int,
    max_problems: int,
    every_signature: bool,
) -> Report:
    """The shards' reports as one, with the checkpoint topic's own problems (`rejected`) and
    the number of checkpoints verified on it."""
    summary = Summary(every_signature=every_signature, checkpoints=checkpoints)
    patients: set[str] = set()
    problems: list[Problem] = []
    heads: dict[str, dict[str, Any]] = {}
    for part in parts:
        found = part.report.summary
        summary.events += found.events
        summary.verified += found.verified
        summary.streams += found.streams
        summary.signatures += found.signatures
        summary.producers += found.producers
        summary.key_ids += found.key_ids
        summary.problems += found.problems
        patients |= part.patients
        problems += part.report.problems
        heads |= part.report.heads
    summary.patients = len(patients)
    summary.problems += Counter(problem.kind.value for problem in rejected)
    problems += rejected
    return Report(summary, problems[:max_problems], dict(sorted(heads.items())))


_PROGRESS: list[Queue[int]] = []
"""A worker process's way to tell how many records it has verified, set when it starts."""


def _start_worker(progress: Queue[int]) -> None:
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # failures are raised, and said
    _PROGRESS.append(progress)


def _verify_in_worker(shard: Shard) -> Verified:
    return asyncio.run(verify_shard(shard, _PROGRESS[0].put))
