"""Sealing to a recipient's key and field encryption: what opens, and what must not."""

from __future__ import annotations

import os
from uuid import UUID

import pytest

from carenet_kit.sealing import (
    Unreadable,
    contact_context,
    decrypt,
    encrypt,
    from_text,
    open_sealed,
    private_key,
    public_key_from_text,
    public_key_text,
    seal,
    to_text,
)

CONTEXT = b"carenet contact/patient-1/case-1"
MESSAGE = "王小明, 13800000000, 1 Canary Road".encode()


def recipient() -> tuple[bytes, str]:
    secret = os.urandom(32)
    return secret, public_key_text(private_key(secret))


def test_a_sealed_message_opens_with_the_recipients_key_and_context() -> None:
    secret, public = recipient()
    sealed = seal(MESSAGE, public_key_from_text(public), CONTEXT)
    assert MESSAGE not in sealed
    assert open_sealed(sealed, private_key(secret), CONTEXT) == MESSAGE


def test_sealing_twice_gives_different_bytes() -> None:
    _, public = recipient()
    key = public_key_from_text(public)
    assert seal(MESSAGE, key, CONTEXT) != seal(MESSAGE, key, CONTEXT)


def test_a_sealed_message_does_not_open_with_another_key() -> None:
    _, public = recipient()
    other, _ = recipient()
    sealed = seal(MESSAGE, public_key_from_text(public), CONTEXT)
    with pytest.raises(Unreadable):
        open_sealed(sealed, private_key(other), CONTEXT)


def test_a_sealed_message_does_not_open_for_another_case() -> None:
    secret, public = recipient()
    sealed = seal(MESSAGE, public_key_from_text(public), CONTEXT)
    with pytest.raises(Unreadable):
        open_sealed(sealed, private_key(secret), b"carenet contact/patient-1/case-2")


@pytest.mark.parametrize("position", [0, 31, 40, -1])
def test_an_altered_sealed_message_does_not_open(position: int) -> None:
    secret, public = recipient()
    sealed = bytearray(seal(MESSAGE, public_key_from_text(public), CONTEXT))
    sealed[position] ^= 0x01
    with pytest.raises(Unreadable):
        open_sealed(bytes(sealed), private_key(secret), CONTEXT)


def test_a_truncated_sealed_message_does_not_open() -> None:
    secret, public = recipient()
    sealed = seal(MESSAGE, public_key_from_text(public), CONTEXT)
    with pytest.raises(Unreadable):
        open_sealed(sealed[:20], private_key(secret), CONTEXT)


def test_a_public_key_is_43_characters_of_base64url() -> None:
    _, public = recipient()
    assert len(public) == 43
    assert public_key_text(public_key_from_text(public)) == public


def test_a_malformed_public_key_is_refused() -> None:
    with pytest.raises(Unreadable):
        public_key_from_text("AAAA")


def test_a_field_opens_with_its_data_key_and_context_only() -> None:
    key, other = os.urandom(32), os.urandom(32)
    data = encrypt(key, MESSAGE, CONTEXT)
    assert MESSAGE not in data
    assert decrypt(key, data, CONTEXT) == MESSAGE
    with pytest.raises(Unreadable):
        decrypt(other, data, CONTEXT)
    with pytest.raises(Unreadable):
        decrypt(key, data, b"another patient")
    altered = bytearray(data)
    altered[-1] ^= 0x80
    with pytest.raises(Unreadable):
        decrypt(key, bytes(altered), CONTEXT)


def test_ciphertext_travels_as_base64_text() -> None:
    data = encrypt(os.urandom(32), MESSAGE, CONTEXT)
    assert from_text(to_text(data)) == data
    with pytest.raises(Unreadable):
        from_text("not base64!")


def test_the_contact_details_context_keeps_its_bytes() -> None:
    """Contact details sealed already open only with the context they were sealed for."""
    patient_id = UUID("6f1c2a4e-0b7d-4c55-9e2a-3d8f1b6a7c90")
    case_id = UUID("0a9e8d7c-6b5a-4f3e-8d2c-1b0a9f8e7d6c")
    assert contact_context(patient_id, case_id) == (
        b"carenet/contact-details/6f1c2a4e-0b7d-4c55-9e2a-3d8f1b6a7c90"
        b"/0a9e8d7c-6b5a-4f3e-8d2c-1b0a9f8e7d6c"
    )
