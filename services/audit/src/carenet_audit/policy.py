"""Inbound: every message of every CareNet topic into the history index, in batches.

The kit's `BatchConsumer` reads each partition from the position the index has tracked and
hands each batch to the index, which stores the rows and the tracking record in one
transaction. Invalid messages go to the dead-letter topic with their reason.
"""

from __future__ import annotations

from carenet_audit.config import CONSUMED, Settings
from carenet_audit.projection import HistoryIndex
from carenet_kit.batches import BatchConsumer


def history_loader(settings: Settings, index: HistoryIndex) -> BatchConsumer:
    return BatchConsumer(
        name=f"{settings.consumer_group}-history",
        bootstrap=settings.kafka_bootstrap,
        topics=[settings.topic(producer) for producer in CONSUMED],
        sink=index,
        dead_letter_topic=settings.dead_letter_topic,
        gate=settings.gate(),
        max_records=settings.history_batch_size,
        security=settings.kafka_security(),
    )
