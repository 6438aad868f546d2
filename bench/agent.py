"""P6 faust agent: the kit's inbound agent against a bare aiokafka loop doing the same work.

The work per message is the kit's own `InboundConsumer.take` (skip if tracked, admit the
message: verify its signature and its place in its stream, parse it by its contract, run the
policy in the message's trace context), with a policy that records only the positions (a
commit with no domain events): what is left is the cost of the loop around it. The faust agent
runs it as the services do (batches of `take_events`, a worker thread per message, the retry
guard); the bare loop reads the same topic with `getmany` on assigned partitions and calls the
same method with each partition's records, on a store of its own (a message refused would go
to an unstarted producer and fail the run). Both timed from the first message taken to the
last effect.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from aiokafka import AIOKafkaConsumer

from bench.consumer import (
    FirstTaken,
    Inbound,
    effects_timed,
    inbound_topic,
    through_agent,
    tracked,
)
from bench.harness import Bench, Row, partitions
from carenet_contracts import Envelope, Producer
from carenet_kit import metrics
from carenet_kit.application import ServiceApplication
from carenet_kit.inbound import InboundConsumer, faust_app
from carenet_kit.inspection import Record
from carenet_kit.outbox import Cause


class TrackingOnly(ServiceApplication):
    """A store whose every inbound message changes nothing but its tracked position."""

    producer: ClassVar[Producer] = "casework"

    def apply(self, _: Envelope[Any], cause: Cause) -> None:
        self.commit(cause=cause)


def store(bench: Bench, name: str) -> TrackingOnly:
    data = bench.directory(name)
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(data / "store.db")}
    return TrackingOnly(env, outbound=lambda _: None)


async def bare_loop(
    bench: Bench, app: TrackingOnly, inbound: Inbound, timeout: float
) -> tuple[int, float]:
    """`getmany` on assigned partitions; each partition's records through
    `InboundConsumer.take`."""
    unstarted = faust_app("bench-bare-loop", bench.bootstrap, bench.directory("unused"))
    name = inbound.name
    taken = FirstTaken(app.apply)
    path = InboundConsumer(unstarted, app, [name], "unused", taken, inbound.gate())
    consumer = AIOKafkaConsumer(bootstrap_servers=bench.bootstrap, enable_auto_commit=False)
    await consumer.start()

    async def consume() -> None:
        assigned = await partitions(consumer, name)
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        while True:
            fetched = await consumer.getmany(timeout_ms=1_000, max_records=500)
            for records in fetched.values():
                for r in records:
                    metrics.EVENTS_CONSUMED.labels("bench", r.topic).inc()
                await path.take(
                    [
                        Record(
                            r.topic, r.partition, r.offset, r.key, r.value or b"", list(r.headers)
                        )
                        for r in records
                    ]
                )

    task = asyncio.create_task(consume())
    try:
        return await effects_timed(
            lambda: tracked(app, name, inbound.ends), sum(inbound.ends.values()), taken, timeout
        )
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await consumer.stop()


def run(bench: Bench, count: int, timeout: float) -> list[Row]:
    with bench.console.status(f"P6: writing {count:,} signed PatientRouted"):
        inbound = inbound_topic(bench, count)
    agent_store, loop_store = store(bench, "agent"), store(bench, "loop")
    try:
        with bench.console.status("P6: faust agent"):
            applied, seconds = asyncio.run(
                through_agent(bench, agent_store, agent_store.apply, inbound, timeout)
            )
        with bench.console.status("P6: bare aiokafka loop"):
            looped, loop_seconds = asyncio.run(bare_loop(bench, loop_store, inbound, timeout))
    finally:
        agent_store.close()
        loop_store.close()
    rate, loop_rate = applied / seconds, looped / loop_seconds
    return [
        Row(
            f"P6 faust agent, {count:,} messages, tracking only",
            f"{rate:,.0f} msg/s",
            f"bare aiokafka loop, same work: {loop_rate:,.0f} msg/s",
            rate / loop_rate,
            "work: the kit's per-message path (admission with its signature check, parse, "
            "trace span, one tracking commit)",
            {"agent_per_s": rate, "bare_loop_per_s": loop_rate},
        )
    ]
