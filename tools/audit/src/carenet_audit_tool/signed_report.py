"""Signed replay reports: what an auditor shows a third party, who needs no CareNet to check it.

`carenet-audit replay --sign KEYFILE` signs its report with the auditor's Ed25519 key as a
JSON Web Signature in compact serialization (RFC 7515; `"alg": "Ed25519"`, RFC 9864, i.e.
EdDSA over Ed25519, RFC 8037): `header.payload.signature`, each part base64url. The payload
is the report as `--json` prints it, with when, where and against which key set (its SHA-256)
the replay ran; its `heads` say where every partition ended, so a kept report is also the
auditor's own checkpoint of the stream. `carenet-audit verify-report` checks one with the
auditor's public key; so does any JOSE library, or openssl (see the README, "Auditing").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from rich.console import Console

from carenet_contracts.checkpoint import StreamCheckpoint
from carenet_kit.topics import load_catalog

ALGORITHM = "Ed25519"
REPORT_TYPE = "carenet-replay-report+json"
"""The JWS `typ`: what the signed payload is, so it cannot pass for another signed document."""

EXIT_FORGED = 1
EXIT_USAGE = 2


def load_key(path: Path, *, private: bool) -> OKPKey:
    """An Ed25519 key from a PEM file (PKCS#8 private key, or SubjectPublicKeyInfo public key;
    `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout` write them)."""
    key = OKPKey.import_key(path.read_bytes())
    if key.curve_name != "Ed25519" or (private and not key.is_private):
        kind = "a private" if private else "an"
        raise ValueError(f"{path} is not {kind} Ed25519 key (PEM)")
    return key


def sign(payload: dict[str, Any], key: OKPKey) -> str:
    """The compact JWS of the payload (canonical JSON: sorted keys, no spaces), with the key's
    RFC 7638 thumbprint as `kid`, so a verifier can tell which of its auditors' keys to use."""
    body = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    header = {"alg": ALGORITHM, "typ": REPORT_TYPE, "kid": key.thumbprint()}
    return jws.serialize_compact(header, body.encode(), key, algorithms=[ALGORITHM])


def verified_payload(token: str, key: OKPKey) -> dict[str, Any]:
    """The report, if the key signed it exactly; ValueError otherwise."""
    try:
        signed = jws.deserialize_compact(token.strip(), key, algorithms=[ALGORITHM])
    except (JoseError, ValueError) as error:
        raise ValueError(f"the signature does not verify with this key: {error}") from error
    if signed.protected.get("typ") != REPORT_TYPE:
        raise ValueError(f"not a signed replay report (typ {signed.protected.get('typ')!r})")
    payload: dict[str, Any] = json.loads(signed.payload)
    return payload


def earlier_heads(token: str, key: OKPKey, topics: Mapping[str, str]) -> list[StreamCheckpoint]:
    """Where an earlier, signed replay found each partition's end, as checkpoints of the time it
    ran: the auditor's own checkpoints, which hold even if the relays' were deleted too.

    `topics` names each producer's topic in this replay; a head is matched by producer and
    partition, so a copy under another namespace (a restore) is held to the original's report."""
    payload = verified_payload(token, key)
    replayed_at = datetime.fromisoformat(payload["replayed_at"])
    catalog = load_catalog()
    producer_of = {payload["namespace"] + catalog.topic_of(p).name: p for p in topics}
    heads = []
    for partition_key, head in payload["report"]["heads"].items():
        topic, _, partition = partition_key.rpartition(":")
        if topic not in producer_of:
            raise ValueError(f"the report covers {topic}, not a producer's topic")
        producer = producer_of[topic]
        heads.append(
            StreamCheckpoint.model_validate(
                {
                    **head,
                    "producer": producer,
                    "topic": topics[producer],
                    "partition": int(partition),
                    "checkpointed_at": replayed_at,
                }
            )
        )
    return heads


def verify_report(
    report: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="The signed report (.jws).")
    ],
    key: Annotated[
        Path,
        typer.Option(
            exists=True, dir_okay=False, help="The auditor's public key (PEM) to check it with."
        ),
    ],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the verified report as JSON.")
    ] = False,
) -> None:
    """Check that a signed replay report is exactly what the key's holder signed. Exit 1 if
    it is not."""
    errors = Console(stderr=True)
    try:
        public = load_key(key, private=False)
    except ValueError as error:
        errors.print(f"[red]error:[/] {error}")
        raise typer.Exit(EXIT_USAGE) from None
    try:
        payload = verified_payload(report.read_text(), public)
    except ValueError as error:
        errors.print(f"[red]not verified:[/] {error}")
        raise typer.Exit(EXIT_FORGED) from None
    if json_output:
        typer.echo(json.dumps(payload, indent=2))
        return
    summary = payload["report"]["summary"]
    outcome = "no problem" if payload["report"]["verified"] else "PROBLEMS FOUND"
    Console().print(
        f"[green]signature verified[/] (key {public.thumbprint()}): replay of "
        f"{payload['namespace'] or '(no namespace)'} at {payload['replayed_at']}, "
        f"{summary['events']:,} events, {summary['checkpoints']:,} checkpoints: {outcome}"
    )
