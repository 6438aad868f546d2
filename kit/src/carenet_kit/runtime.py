"""One process per service: the HTTP API, the inbound consumer, the outbox relay, the projection.

uvicorn drives the event loop; the FastAPI lifespan starts faust (when the service consumes),
the relay and the projection on that same loop, and stops them in reverse order.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
import uvicorn
from eventsourcing.persistence import PersistenceError
from fastapi import APIRouter, Depends, FastAPI
from faust.contrib.asgi import faust_app_running
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential

from carenet_kit import fail_points, metrics, tracing
from carenet_kit.application import ServiceApplication
from carenet_kit.batches import BatchConsumer
from carenet_kit.broker_watch import BrokerWatch
from carenet_kit.http import (
    health_router,
    install_error_handlers,
    refuse_unknown_query_parameters,
    signing_key_router,
)
from carenet_kit.inbound import InboundConsumer, Policy, faust_app
from carenet_kit.logs import RequestLog, configure_logging
from carenet_kit.projection import Projection, ProjectionRunner
from carenet_kit.read_model_tables import SqlReadModel, TableFollower
from carenet_kit.relay import OutboxRelay
from carenet_kit.scheduler import DueWork, Scheduler
from carenet_kit.settings import ServiceSettings

log = structlog.get_logger()


class AccessGuard(Protocol):
    """A service's access control (`carenet_access.AccessControl`): the care network it keeps
    from the topics, and what the routes' dependencies find in `app.state`."""

    def loader(self, settings: ServiceSettings) -> BatchConsumer: ...

    @property
    def state(self) -> dict[str, Any]: ...


@dataclass
class Service:
    """Everything one service is made of, wired by its `main.bootstrap()`."""

    settings: ServiceSettings
    application: ServiceApplication
    projection: SqlReadModel | Projection | None
    """The read model fed from the notification log, if the service keeps one: SQL tables in
    the service's store (`carenet_kit.read_model_tables`), or one in memory, restored at start
    from its last snapshot in the store (`carenet_kit.projection`)."""
    routers: Sequence[APIRouter]
    description: str
    consumes: Sequence[str] = ()
    """The producers whose topics this service consumes."""
    policy: Policy | None = None
    due_work: DueWork | None = None
    """What the scheduler runs every `scheduler_seconds`, on the application's clock."""
    batch_consumers: Sequence[BatchConsumer] = ()
    """Read models that take in whole topics, many messages per transaction. Every reader
    verifies every message (`carenet_kit.admission`); a refused one is dead-lettered once per
    service: by the inbound consumer for the topics it consumes, else by the first batch
    consumer listed that reads the topic. The others skip it, counted in
    `carenet_messages_refused_total`."""
    state: Mapping[str, object] = field(default_factory=dict)
    """More for `app.state`, where the routes' dependencies find it."""
    access: AccessGuard | None = None
    """Its access control: its loader is the last batch consumer, its state is in `app.state`."""
    relay: OutboxRelay = field(init=False)
    projection_runner: TableFollower[SqlReadModel] | ProjectionRunner | None = field(init=False)
    consumer: InboundConsumer | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        s = self.settings
        if self.access is not None:
            self.batch_consumers = [*self.batch_consumers, self.access.loader(s)]
            self.state = {**self.state, **self.access.state}
        reported = {s.topic(producer) for producer in self.consumes} if self.policy else set()
        for reader in self.batch_consumers:  # each refused message dead-lettered once
            reader.reports -= reported
            reported |= reader.reports
        self.relay = OutboxRelay(
            self.application,
            s.topic(s.service),
            s.kafka_bootstrap,
            s.relay_poll_seconds,
            security=s.kafka_security(),
            lease=s.relay_lease(),
            lease_retry_seconds=s.relay_lease_seconds,
            checkpoint_topic=s.checkpoint_topic,
            checkpoint_every=s.relay_checkpoint_every,
            checkpoint_seconds=s.relay_checkpoint_seconds,
        )
        self.projection_runner = (
            None
            if self.projection is None
            else TableFollower(self.projection, s.relay_poll_seconds)
            if isinstance(self.projection, SqlReadModel)
            else ProjectionRunner(
                self.application,
                self.projection,
                s.relay_poll_seconds,
                s.snapshot_schedule(),
            )
        )

    def http_api(self) -> FastAPI:
        api = FastAPI(
            title=f"CareNet {self.settings.service}",
            description=self.description,
            version="1",
            lifespan=self._lifespan,
            dependencies=[Depends(refuse_unknown_query_parameters)],
        )
        api.state.application = self.application
        api.state.projection = self.projection
        api.state.token_verifier = self.settings.token_verifier()
        for name, value in self.state.items():
            setattr(api.state, name, value)
        api.add_middleware(RequestLog)  # innermost: in the request's span and correlation id
        install_error_handlers(api, self.settings.max_body_bytes)
        metrics.instrument_http(api)
        tracing.instrument_http(api)
        api.include_router(
            health_router(
                {
                    "relay": self.relay.ready.is_set,
                    "projection": lambda: (
                        self.projection_runner is None or self.projection_runner.caught_up.is_set()
                    ),
                    "consumer": lambda: self.consumer is None or self._consumer_started(),
                    "batch_consumers": lambda: all(
                        c.caught_up.is_set() for c in self.batch_consumers
                    ),
                }
            )
        )
        api.include_router(signing_key_router(self.application.signer))
        for router in self.routers:
            api.include_router(router)
        return api

    def _lag_sampler(self) -> metrics.GroupLagSampler:
        s = self.settings
        return metrics.GroupLagSampler(
            InboundConsumer.metrics_name,
            s.consumer_group,
            [s.topic(producer) for producer in self.consumes],
            s.kafka_bootstrap,
            s.consumer_lag_seconds,
            s.kafka_security(),
        )

    def _consumer_started(self) -> bool:
        return self.consumer is not None and self.consumer.stream_app.started

    @asynccontextmanager
    async def _lifespan(self, _: FastAPI) -> AsyncIterator[None]:
        s = self.settings
        loops: dict[str, Callable[[], Awaitable[None]]] = {
            "relay": self.relay.run,
            "broker-watch": BrokerWatch(s.kafka_bootstrap, s.kafka_security()).run,
        }
        if self.projection_runner is not None:
            loops["projection"] = self.projection_runner.run
        loops |= {consumer.name: consumer.run for consumer in self.batch_consumers}
        if self.due_work is not None:
            loops["scheduler"] = Scheduler(
                self.due_work, self.application.clock, self.settings.scheduler_seconds
            ).run
        if self.policy is not None:
            loops["consumer-lag"] = self._lag_sampler().run
        tasks = [
            asyncio.create_task(_outlasting_the_store(name, loop), name=name)
            for name, loop in loops.items()
        ]
        for task in tasks:
            task.add_done_callback(_crash_on_failure)
        try:
            if self.policy is None:
                yield
            else:
                stream_app = faust_app(
                    s.consumer_group,
                    s.kafka_bootstrap,
                    s.data_dir,
                    s.kafka_security(),
                    session_timeout_seconds=s.consumer_session_timeout_seconds,
                )
                self.consumer = InboundConsumer(
                    stream_app,
                    self.application,
                    [s.topic(producer) for producer in self.consumes],
                    s.dead_letter_topic,
                    self.policy,
                    s.gate(),
                )
                async with faust_app_running(stream_app, stop_timeout=10):
                    yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.application.close()


async def _outlasting_the_store(name: str, loop: Callable[[], Awaitable[None]]) -> None:
    """Run a background loop, and run it again (after a pause, growing to 10 s) when the
    service's store is unavailable, as a database restarting makes it: every loop resumes from
    what it recorded, so the process need not die for it. Any other failure ends the loop."""
    outlasted = PersistenceError if fail_points.guarded("store-outage-restart") else ()
    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type(outlasted),
        wait=wait_exponential(max=10),
        before_sleep=lambda state: log.warning("store unavailable, restarting", task=name),
    ):
        with attempt:
            await loop()


def _crash_on_failure(task: asyncio.Task[None]) -> None:
    """A background loop that dies stops the process, so that its supervisor restarts it."""
    if not task.cancelled() and task.exception() is not None:
        log.error("background task failed", task=task.get_name(), exc_info=task.exception())
        os.kill(os.getpid(), signal.SIGTERM)


def entry_point(bootstrap: Callable[[], Service]) -> Callable[[], None]:
    """A service's command: serve what its `bootstrap()` wires, with the settings from the
    environment."""
    return lambda: serve(bootstrap())


def serve(service: Service) -> None:
    settings = service.settings
    configure_logging(settings.service, settings.log_level)
    fail_points.arm(settings.armed_fail_points())
    tracing.configure_tracing(settings.service)
    uvicorn.run(
        service.http_api(),
        host=settings.http_host,
        port=settings.http_port,
        log_config=None,  # keep the JSON logging configured above
        access_log=False,
    )
