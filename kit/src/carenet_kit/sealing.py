"""Encryption of small messages: sealed to a recipient's public key, or under a data key.

Sealing is HPKE base mode (RFC 9180) as `cryptography` implements it: DHKEM(X25519,
HKDF-SHA256), HKDF-SHA256, AES-256-GCM. The `context` is HPKE's `info`: it enters the key
schedule, so a sealed message opens only with the context it was sealed for (a message for one
case cannot be passed off as another's). Field encryption is AES-256-GCM under a data key with
a random 96-bit nonce, the context as associated data.
"""

from __future__ import annotations

import base64
import os
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)
NONCE_BYTES = 12
PUBLIC_KEY_PATTERN = r"^[A-Za-z0-9_-]{43}$"
"""An X25519 public key as text: its 32 raw bytes in unpadded base64url."""


def contact_context(patient_id: UUID, case_id: UUID) -> bytes:
    """The context of a patient's contact details sealed to one case's key
    (`ContactDetailsShared`: intake seals, casework opens): they open for that case alone.

    Details sealed already open only with these exact bytes: never change them."""
    return f"carenet/contact-details/{patient_id}/{case_id}".encode()


class Unreadable(ValueError):
    """Wrong key, wrong context, or altered bytes: the ciphertext does not open."""


def seal(plaintext: bytes, recipient: X25519PublicKey, context: bytes) -> bytes:
    """Encrypt so that only the holder of the recipient's private key can read it."""
    return SUITE.encrypt(plaintext, recipient, info=context)


def open_sealed(sealed: bytes, private_key: X25519PrivateKey, context: bytes) -> bytes:
    try:
        return SUITE.decrypt(sealed, private_key, info=context)
    except (InvalidTag, ValueError) as error:
        raise Unreadable("the sealed message does not open with this key and context") from error


def private_key(secret: bytes) -> X25519PrivateKey:
    """The X25519 private key whose raw bytes are `secret` (32 random bytes, e.g. a keystore's)."""
    return X25519PrivateKey.from_private_bytes(secret)


def public_key_text(key: X25519PrivateKey | X25519PublicKey) -> str:
    public = key.public_key() if isinstance(key, X25519PrivateKey) else key
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def public_key_from_text(text: str) -> X25519PublicKey:
    try:
        return X25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(text + "="))
    except ValueError as error:
        raise Unreadable("not an X25519 public key") from error


def encrypt(key: bytes, plaintext: bytes, context: bytes) -> bytes:
    """AES-256-GCM under a data key: nonce followed by ciphertext and tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, context)


def decrypt(key: bytes, data: bytes, context: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], context)
    except (InvalidTag, ValueError) as error:
        raise Unreadable("the ciphertext does not open with this key and context") from error


def to_text(data: bytes) -> str:
    """Ciphertext as text for JSON events and messages (standard base64)."""
    return base64.b64encode(data).decode()


def from_text(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as error:
        raise Unreadable("not base64") from error
