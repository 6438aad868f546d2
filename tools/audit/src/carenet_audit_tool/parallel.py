"""Inspecting the replay's batches of records, here or spread over worker processes."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from carenet_kit.inspection import Inspected, MessageInspector, Record


class Inspection:
    """Inspecting batches of records, here or in `workers` processes, keeping the order;
    `verify_signature` as in `MessageInspector.inspect`."""

    def __init__(
        self, key_set: Mapping[str, Any], namespace: str, workers: int, verify_signature: bool
    ) -> None:
        self.inline = MessageInspector(key_set, namespace)
        self.workers = workers
        self.verify_signature = verify_signature
        self.pool = (
            ProcessPoolExecutor(
                workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(dict(key_set), namespace),
            )
            if workers > 0
            else None
        )

    def __enter__(self) -> Inspection:
        return self

    def __exit__(self, *_: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)

    async def inspect(self, batch: list[Record]) -> list[Inspected]:
        verify = self.verify_signature
        if self.pool is None:
            return [self.inline.inspect(record, verify_signature=verify) for record in batch]
        loop = asyncio.get_running_loop()
        size = -(-len(batch) // self.workers)
        parts = await asyncio.gather(
            *(
                loop.run_in_executor(self.pool, _inspect_in_worker, batch[i : i + size], verify)
                for i in range(0, len(batch), size)
            )
        )
        return [message for part in parts for message in part]


_WORKER: dict[str, MessageInspector] = {}
"""The inspector of a worker process, made once when the process starts."""


def _start_worker(key_set: dict[str, Any], namespace: str) -> None:
    _WORKER["inspector"] = MessageInspector(key_set, namespace)


def _inspect_in_worker(records: list[Record], verify_signature: bool) -> list[Inspected]:
    inspector = _WORKER["inspector"]
    return [inspector.inspect(record, verify_signature=verify_signature) for record in records]
