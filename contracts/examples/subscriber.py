"""A CareNet subscriber with nothing but aiokafka and the published JSON Schemas.

    pip install aiokafka jsonschema
    python subscriber.py --bootstrap 127.0.0.1:9092 --schemas contracts/schemas \
        --topic carenet.intake.v1 --topic carenet.routing.v1 --group my-registry

It prints one JSON line per message: the event, checked against the schema its
`ce_dataschema` header names, or why it was refused. Offsets are committed after each
message is handled, so a restart resumes where it stopped; delivery is at least once, so a
real subscriber keeps the `event_id`s it has applied and skips repeats.
See MESSAGE_FORMAT.md, "Subscribing", for a walk-through.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import jsonschema
from aiokafka import AIOKafkaConsumer, ConsumerRecord


def load_schemas(directory: Path) -> dict[str, jsonschema.protocols.Validator]:
    """Every published schema, by its `$id` (the value of the `ce_dataschema` header)."""
    validators = {}
    for path in sorted(directory.glob("*.json")):
        schema = json.loads(path.read_text())
        checker = jsonschema.FormatChecker()
        validators[schema["$id"]] = jsonschema.Draft202012Validator(schema, format_checker=checker)
    return validators


def read(record: ConsumerRecord[bytes, bytes], schemas: dict[str, Any]) -> dict[str, Any]:
    """One message as a line to print: the checked event, or why it is refused."""
    where = {"topic": record.topic, "partition": record.partition, "offset": record.offset}
    headers = {name: value.decode() for name, value in record.headers}
    validator = schemas.get(headers.get("ce_dataschema", ""))
    if validator is None:
        return where | {"accepted": False, "reason": f"no schema {headers.get('ce_dataschema')!r}"}
    try:
        event = json.loads(record.value or b"")
    except ValueError as error:
        return where | {"accepted": False, "reason": f"not JSON: {error}"}
    problem = jsonschema.exceptions.best_match(validator.iter_errors(event))
    if problem is not None:
        return where | {"accepted": False, "reason": f"{problem.json_path}: {problem.message}"}
    if record.key != event["patient_id"].encode():
        return where | {"accepted": False, "reason": "the key is not the event's patient_id"}
    return where | {"accepted": True, **{k: event[k] for k in SHOWN}, "data": event["data"]}


SHOWN = (
    "event_id",
    "event_type",
    "schema_version",
    "producer",
    "patient_id",
    "sequence",
    "occurred_at",
)


async def subscribe(
    bootstrap: str, topics: list[str], group: str, schemas: dict[str, Any], max_events: int | None
) -> None:
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # a new subscriber starts from the first event
    )
    await consumer.start()
    try:
        handled = 0
        async for record in consumer:
            print(json.dumps(read(record, schemas), ensure_ascii=False), flush=True)
            await consumer.commit()
            handled += 1
            if max_events is not None and handled >= max_events:
                return
    finally:
        await consumer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--schemas", type=Path, default=Path("contracts/schemas"))
    parser.add_argument("--topic", action="append", required=True, dest="topics")
    parser.add_argument("--group", default="example-subscriber")
    parser.add_argument("--max-events", type=int, default=None, help="stop after so many")
    args = parser.parse_args()
    schemas = load_schemas(args.schemas)
    try:
        asyncio.run(subscribe(args.bootstrap, args.topics, args.group, schemas, args.max_events))
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
