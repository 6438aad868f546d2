"""How an integration event sits on Kafka: key, value and CloudEvents binary-mode headers.

The value is the envelope's JSON exactly as stored in the outbox (its hash is the next
event's `previous_hash`) and the producer's signature of it rides in two headers; the other
headers repeat the routing attributes so that CloudEvents
tooling and brokers' filters need not parse the value. See `contracts/MESSAGE_FORMAT.md`.
"""

from __future__ import annotations

from pydantic_core import from_json

from carenet_kit.signing import KEY_ID_HEADER, SIGNATURE_HEADER, Signature

Headers = list[tuple[str, bytes]]

TRACEPARENT_HEADER = "traceparent"
"""The W3C trace context of the commit that wrote the message (`carenet_kit.tracing`)."""

NOTIFICATION_ID_HEADER = "carenet_notification_id"
CONTENT_TYPE = b"application/json"


def kafka_record(
    message: str,
    notification_id: int,
    signature: Signature | None,
    traceparent: str | None = None,
) -> tuple[bytes, Headers]:
    """The key (the pseudonymous patient id) and the headers of a signed outbox message, with
    the W3C `traceparent` it was committed in (a header: the signed value is unchanged)."""
    envelope = from_json(message)
    attributes = {
        "ce_specversion": "1.0",
        "ce_id": envelope["event_id"],
        "ce_source": f"urn:carenet:{envelope['producer']}",
        "ce_type": f"org.carenet.{envelope['event_type']}.v{envelope['schema_version']}",
        "ce_subject": envelope["patient_id"],
        "ce_time": envelope["occurred_at"],
        "ce_dataschema": (
            f"urn:carenet:contract:{envelope['event_type']}:v{envelope['schema_version']}"
        ),
        "ce_recordedtime": envelope["recorded_at"],
        "ce_correlationid": envelope["correlation_id"],
        "ce_sequence": str(envelope["sequence"]),
        NOTIFICATION_ID_HEADER: str(notification_id),
    }
    if signature is not None:
        attributes |= {KEY_ID_HEADER: signature.key_id, SIGNATURE_HEADER: signature.value}
    if traceparent is not None:
        attributes[TRACEPARENT_HEADER] = traceparent
    headers = [("content-type", CONTENT_TYPE)] + [(k, v.encode()) for k, v in attributes.items()]
    return envelope["patient_id"].encode(), headers


def header(headers: Headers | None, name: str) -> str | None:
    for key, value in headers or ():
        if key == name:
            return value.decode()
    return None
