"""Reading one patient's history from the audit read side instead of the topics.

The service answers with each message exactly as it lay on the broker (value bytes, position,
key id and signature), so this returns the same `Record`s as `carenet_audit_tool.stream`: the
verifier and the timeline work on either source. The request itself is recorded by the
service (who asked, for which patient, why), so a purpose and a justification are required.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import httpx

from carenet_kit.inspection import Record
from carenet_kit.signing import KEY_ID_HEADER, SIGNATURE_HEADER
from carenet_kit.wire import CONTENT_TYPE, Headers

HISTORY_PATH = "/v1/patient-histories"


class ReadSideError(RuntimeError):
    """The read side refused or failed; the text has its status and reason."""


def fetch_history(
    base_url: str,
    token: str,
    patient_id: UUID,
    purpose: str,
    justification: str,
    as_of: datetime | None = None,
    client: httpx.Client | None = None,
) -> list[Record]:
    """The patient's messages recorded up to `as_of`, in recorded order, as `Record`s."""
    body = {
        "patient_id": str(patient_id),
        "purpose": purpose,
        "justification": justification,
        "as_of": as_of.isoformat() if as_of else None,
    }
    http = client or httpx.Client(base_url=base_url, timeout=60)
    try:
        response = http.post(HISTORY_PATH, json=body, headers={"Authorization": f"Bearer {token}"})
    finally:
        if client is None:
            http.close()
    if response.status_code != httpx.codes.OK:
        detail = response.json().get("detail") if response.content else None
        raise ReadSideError(f"{response.status_code}: {detail}")
    key = str(patient_id).encode()
    return [_record(key, m) for m in response.json()["messages"]]


def _record(key: bytes, message: dict[str, object]) -> Record:
    headers: Headers = [("content-type", CONTENT_TYPE)]
    if message["key_id"] and message["signature"]:
        headers += [
            (KEY_ID_HEADER, str(message["key_id"]).encode()),
            (SIGNATURE_HEADER, str(message["signature"]).encode()),
        ]
    return Record(
        topic=str(message["topic"]),
        partition=int(str(message["partition"])),
        offset=int(str(message["offset"])),
        key=key,
        value=str(message["value"]).encode(),
        headers=headers,
    )
