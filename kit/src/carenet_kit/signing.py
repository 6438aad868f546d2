"""Producer signatures: every message a service publishes is signed with its Ed25519 key.

The signature covers the message value exactly as published: the same bytes whose SHA-256
the next message of the stream carries as `previous_hash`. Signatures prove who wrote each
message, and the hash chain proves the order and completeness of each stream. The key id and
the signature travel in two Kafka headers (see `contracts/MESSAGE_FORMAT.md`, "Signatures").

Public keys are published as a JSON Web Key Set (RFC 8037 OKP keys). Each key has its id and
the producer it speaks for (`carenet_producer`), so keys can rotate: a new key gets a new id,
and retired keys stay in the set to verify what they signed.

A key may also have a validity period: `nbf` and `exp`, NumericDates (seconds since the epoch,
RFC 7519 §2) with the meaning they have in a JWT: the key signs nothing recorded before `nbf`,
nor at or after `exp`. A retired key keeps verifying what it signed in its period, but a
message it signs once retired (a leaked old key, a replica left running with it) is refused.
Either member may be absent (no bound on that side); a set without them verifies as before.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc.jwk import KeySet, OKPKey

log = structlog.get_logger()

SIGNATURE_HEADER = "carenet_signature"
"""The Ed25519 signature of the value, base64url without padding."""
KEY_ID_HEADER = "carenet_key_id"
"""The `kid` of the signing key in the published key set."""
PRODUCER_MEMBER = "carenet_producer"
"""The JWK member that binds a key to the one producer it may sign for."""
NOT_BEFORE_MEMBER = "nbf"
"""The JWK member (NumericDate): the key signs nothing recorded before this time."""
EXPIRES_MEMBER = "exp"
"""The JWK member (NumericDate): the key signs nothing recorded at or after this time."""


@dataclass(frozen=True)
class Signature:
    key_id: str
    value: str
    """base64url, unpadded."""


class Signer:
    """A producer's private signing key and its published id."""

    def __init__(self, key: OKPKey, producer: str) -> None:
        if key.kid is None or not isinstance(key.private_key, Ed25519PrivateKey):
            raise ValueError("a signing key is an Ed25519 private key with a key id")
        self.key_id: str = key.kid
        self.producer = producer
        self._key = key
        self._private: Ed25519PrivateKey = key.private_key

    @classmethod
    def generate(cls, key_id: str, producer: str) -> Signer:
        return cls(OKPKey.generate_key("Ed25519", parameters={"kid": key_id}), producer)

    @classmethod
    def from_pem(cls, pem: str, key_id: str, producer: str) -> Signer:
        return cls(OKPKey.import_key(pem, parameters={"kid": key_id}), producer)

    @classmethod
    def from_env(cls, env: Mapping[str, str | None], producer: str) -> Signer:
        """From `CARENET_SIGNING_KEY` (PKCS#8 PEM) and `CARENET_SIGNING_KEY_ID`.

        Without them (development and unit tests only: production settings refuse to start),
        a throw-away key whose events no published key set will verify.
        """
        pem, key_id = env.get("CARENET_SIGNING_KEY"), env.get("CARENET_SIGNING_KEY_ID")
        if pem and key_id:
            return cls.from_pem(pem, key_id, producer)
        signer = cls.generate(f"{producer}-ephemeral-{secrets.token_hex(4)}", producer)
        log.warning("no signing key configured: using a throw-away key", key_id=signer.key_id)
        return signer

    def sign(self, message: bytes) -> Signature:
        raw = self._private.sign(message)
        return Signature(self.key_id, base64.urlsafe_b64encode(raw).rstrip(b"=").decode())

    def private_pem(self) -> str:
        pem: bytes = self._key.as_pem(private=True)
        return pem.decode()

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = self._key.as_dict(private=False)
        return {**jwk, "use": "sig", "alg": "EdDSA", PRODUCER_MEMBER: self.producer}


def key_set(jwks: list[dict[str, Any]]) -> dict[str, Any]:
    """A JWKS document of public keys."""
    return {"keys": jwks}


def valid_during(
    jwk: Mapping[str, Any], not_before: datetime | None, expires: datetime | None
) -> dict[str, Any]:
    """The public JWK with its validity period set (`nbf`, `exp`); None leaves a side open."""
    bounds = {NOT_BEFORE_MEMBER: not_before, EXPIRES_MEMBER: expires}
    period = {name: int(when.timestamp()) for name, when in bounds.items() if when is not None}
    return {**{k: v for k, v in jwk.items() if k not in bounds}, **period}


@dataclass(frozen=True)
class Validity:
    """When a key may sign: `not_before` <= signed_at < `expires`; None is no bound."""

    not_before: datetime | None = None
    expires: datetime | None = None

    @classmethod
    def of(cls, key_id: str, jwk: Mapping[str, Any]) -> Validity:
        def numeric_date(member: str) -> datetime | None:
            value = jwk.get(member)
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"key {key_id!r}: {member} is not a NumericDate")
            return datetime.fromtimestamp(value, UTC)

        validity = cls(numeric_date(NOT_BEFORE_MEMBER), numeric_date(EXPIRES_MEMBER))
        if validity.not_before and validity.expires and validity.expires <= validity.not_before:
            raise ValueError(f"key {key_id!r}: exp is not after nbf")
        return validity

    def problem_at(self, key_id: str, signed_at: datetime) -> str | None:
        if self.not_before is not None and signed_at < self.not_before:
            return f"key {key_id!r} is not valid before {self.not_before.isoformat()}"
        if self.expires is not None and signed_at >= self.expires:
            return f"key {key_id!r} expired at {self.expires.isoformat()}"
        return None


PROVEN_SIGNATURES = 8_192
"""How many verified signatures a process remembers (about 1 MB)."""


class ProvenSignatures:
    """Signatures this process has verified, so that a message read by several of its readers
    (the inbound agent, the access graph's loader, audit's index) is verified once, not once
    per reader; the least recently used are forgotten first.

    Whether a signature verifies is a pure function of the public key, the signature and the
    message. An entry is (public key, signature, SHA-256 of the message): a message counts as
    verified only if exactly these bytes were verified with exactly this key (another message
    with the same digest would be a SHA-256 collision). Only successes are kept, so a stranger
    sending bad signatures cannot push out the good ones faster than by sending good ones; and
    whether the key is trusted, for which producer and when, is still decided on every read."""

    def __init__(self, size: int = PROVEN_SIGNATURES) -> None:
        self._size = size
        self._proven: OrderedDict[tuple[bytes, bytes, bytes], None] = OrderedDict()
        self._lock = threading.Lock()

    def forget(self) -> None:
        """Forget every signature (a benchmark timing the checks themselves)."""
        with self._lock:
            self._proven.clear()

    def verify(self, public_key: Ed25519PublicKey, signature: bytes, message: bytes) -> None:
        """Raises `InvalidSignature` as `Ed25519PublicKey.verify` does."""
        entry = (
            public_key.public_bytes(Encoding.Raw, PublicFormat.Raw),
            signature,
            hashlib.sha256(message).digest(),
        )
        with self._lock:
            if entry in self._proven:
                self._proven.move_to_end(entry)
                return
        public_key.verify(signature, message)
        with self._lock:
            self._proven[entry] = None
            if len(self._proven) > self._size:
                self._proven.popitem(last=False)


PROVEN = ProvenSignatures()
"""The process' signatures verified, shared by every `TrustedKeys`."""


class TrustedKeys:
    """The published key set a verifier trusts: key id → (producer, public key, validity)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._keys: dict[str, tuple[str, Ed25519PublicKey]] = {}
        self._validity: dict[str, Validity] = {}
        for key in KeySet.import_key_set(dict(document)).keys:  # type: ignore[arg-type]
            producer = key.get(PRODUCER_MEMBER)
            if key.kid is None or not isinstance(producer, str):
                raise ValueError(f"key {key.kid!r} lacks a kid or a {PRODUCER_MEMBER}")
            if not isinstance(key.public_key, Ed25519PublicKey):
                raise ValueError(f"key {key.kid!r} is not an Ed25519 key")
            self._keys[key.kid] = (producer, key.public_key)
            bounds = {m: key.get(m) for m in (NOT_BEFORE_MEMBER, EXPIRES_MEMBER)}
            self._validity[key.kid] = Validity.of(key.kid, bounds)

    @classmethod
    def load(cls, path: Path) -> TrustedKeys:
        return cls(json.loads(path.read_text()))

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._keys)

    def owner_of(self, key_id: str) -> str | None:
        """The producer a key speaks for; None for a key not in the set."""
        known = self._keys.get(key_id)
        return known[0] if known else None

    def validity_problem(self, key_id: str, signed_at: datetime) -> str | None:
        """Why the key could not sign at `signed_at` (outside its `nbf`/`exp`); None if it could.

        A key not in the set has no period: `problem_with` names it unknown."""
        validity = self._validity.get(key_id)
        return validity.problem_at(key_id, signed_at) if validity else None

    def problem_with(
        self,
        producer: str,
        message: bytes,
        signature: Signature | None,
        *,
        signed_at: datetime | None = None,
    ) -> str | None:
        """Why the message is not proven to come from `producer`; None when it is.

        `signed_at` is when the message says it was signed (an envelope's `recorded_at`); with
        it, a key outside its validity period is refused too. The signature is checked first,
        so a period problem is only ever reported for a message the key did sign."""
        if signature is None:
            return "unsigned"
        known = self._keys.get(signature.key_id)
        if known is None:
            return f"signed with unknown key {signature.key_id!r}"
        key_producer, public_key = known
        if key_producer != producer:
            return f"claims {producer!r} but key {signature.key_id!r} belongs to {key_producer!r}"
        try:
            raw = base64.urlsafe_b64decode(signature.value + "=" * (-len(signature.value) % 4))
            PROVEN.verify(public_key, raw, message)
        except (InvalidSignature, binascii.Error, ValueError):
            return f"signature does not verify with key {signature.key_id!r}"
        if signed_at is not None:
            return self.validity_problem(signature.key_id, signed_at)
        return None
