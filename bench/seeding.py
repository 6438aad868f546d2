"""The services' stores as they would be after reading a history, built without starting them.

A service keeps two things built from whole topics (`carenet_kit.batches`): the access graph
(every service, `carenet_access.graph`) and audit's history index. Reading a province's history
into them is what a service's first start does, and what takes it long; a benchmark that wants
to time a restart on a large history needs them built first. This does it with the services'
own readers, run here: audit's graph loader and its history loader, each in a process of its
own, read the namespace's topics from offset 0 with the run's trusted keys (every message
verified and placed in its stream, as in the service) until they have caught up with the ends,
into the stores under `data_dir`. The graph is the same function of the same four topics in
every service, so the other services get a copy of audit's (SQLite's backup API), under the
name each service opens (`<service>.access.sqlite`).
"""

from __future__ import annotations

import asyncio
import sqlite3
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing, suppress
from pathlib import Path

from eventsourcing.persistence import InfrastructureFactory

from carenet_access.graph import AccessGraph, graph_loader
from carenet_audit.config import Settings
from carenet_audit.policy import history_loader
from carenet_audit.projection import HistoryIndex
from carenet_devtools.services import SERVICES
from carenet_kit.batches import BatchConsumer


def seed(bootstrap: str, namespace: str, data_dir: Path, trusted_keys: Path) -> None:
    """Build every service's access graph and audit's history index under `data_dir` from the
    namespace's topics; returns once both readers have caught up."""
    with ProcessPoolExecutor(2) as pool:
        for built in [
            pool.submit(_read, reader, bootstrap, namespace, data_dir, trusted_keys)
            for reader in ("graph", "history")
        ]:
            built.result()
    source = data_dir / "audit.access.sqlite"
    for service in SERVICES:
        if service != "audit":
            _copy(source, data_dir / f"{service}.access.sqlite")


def _read(reader: str, bootstrap: str, namespace: str, data_dir: Path, keys: Path) -> None:
    settings = Settings(
        kafka_bootstrap=bootstrap,
        topic_namespace=namespace,
        data_dir=data_dir,
        trusted_keys=keys,
    )
    factory = InfrastructureFactory.construct(settings.eventsourcing_env())
    if reader == "graph":
        graph = AccessGraph.beside(factory)
        asyncio.run(_until_caught_up(graph_loader(settings, graph)))
        graph.close()
    else:
        asyncio.run(_until_caught_up(history_loader(settings, HistoryIndex.construct(factory))))
    factory.close()


async def _until_caught_up(consumer: BatchConsumer) -> None:
    running = asyncio.create_task(consumer.run())
    caught_up = asyncio.create_task(consumer.caught_up.wait())
    done, _ = await asyncio.wait([running, caught_up], return_when=asyncio.FIRST_COMPLETED)
    if running in done:
        running.result()  # what stopped it
        raise RuntimeError(f"{consumer.name} stopped before it had caught up")
    running.cancel()
    with suppress(asyncio.CancelledError):
        await running


def _copy(source: Path, target: Path) -> None:
    with closing(sqlite3.connect(source)) as read, closing(sqlite3.connect(target)) as write:
        read.backup(write)
