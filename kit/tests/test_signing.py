"""Producer signatures: what verifies, and what each kind of forgery is called."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from carenet_kit.signing import (
    ProvenSignatures,
    Signature,
    Signer,
    TrustedKeys,
    key_set,
    valid_during,
)

MESSAGE = b'{"event_type": "VisitCompleted"}'


@pytest.fixture
def casework() -> Signer:
    return Signer.generate("casework-test-1", "casework")


@pytest.fixture
def trusted(casework: Signer) -> TrustedKeys:
    routing = Signer.generate("routing-test-1", "routing")
    return TrustedKeys(key_set([casework.public_jwk(), routing.public_jwk()]))


def test_a_message_signed_by_its_producer_verifies(casework: Signer, trusted: TrustedKeys) -> None:
    assert trusted.problem_with("casework", MESSAGE, casework.sign(MESSAGE)) is None


def test_a_key_survives_its_pem(casework: Signer, trusted: TrustedKeys) -> None:
    reloaded = Signer.from_pem(casework.private_pem(), casework.key_id, "casework")
    assert trusted.problem_with("casework", MESSAGE, reloaded.sign(MESSAGE)) is None


def test_an_altered_message_does_not_verify(casework: Signer, trusted: TrustedKeys) -> None:
    signature = casework.sign(MESSAGE)
    problem = trusted.problem_with("casework", MESSAGE.replace(b"Visit", b"VIsit"), signature)
    assert problem == "signature does not verify with key 'casework-test-1'"


def test_a_producer_cannot_sign_for_another(trusted: TrustedKeys) -> None:
    routing = Signer.generate("routing-test-1", "routing")
    problem = trusted.problem_with("casework", MESSAGE, routing.sign(MESSAGE))
    assert problem is not None
    assert "belongs to 'routing'" in problem


def test_an_unknown_key_and_a_missing_signature_are_named(trusted: TrustedKeys) -> None:
    stranger = Signer.generate("casework-stolen", "casework")
    assert trusted.problem_with("casework", MESSAGE, stranger.sign(MESSAGE)) == (
        "signed with unknown key 'casework-stolen'"
    )
    assert trusted.problem_with("casework", MESSAGE, None) == "unsigned"
    garbage = Signature("casework-test-1", "!!not base64!!")
    assert trusted.problem_with("casework", MESSAGE, garbage) is not None


def test_without_a_configured_key_a_service_signs_with_a_throw_away_one() -> None:
    signer = Signer.from_env({}, "intake")
    assert signer.key_id.startswith("intake-ephemeral-")


# -- validity periods (nbf/exp on the JWK) ---------------------------------------------------

NBF = datetime(2026, 1, 1, tzinfo=UTC)
EXP = datetime(2026, 7, 1, tzinfo=UTC)


def limited(signer: Signer, nbf: datetime | None = NBF, exp: datetime | None = EXP) -> TrustedKeys:
    return TrustedKeys(key_set([valid_during(signer.public_jwk(), nbf, exp)]))


def test_a_key_signs_within_its_period(casework: Signer) -> None:
    trusted = limited(casework)
    signature = casework.sign(MESSAGE)
    for at in (NBF, datetime(2026, 3, 1, tzinfo=UTC), EXP - timedelta(microseconds=1)):
        assert trusted.problem_with("casework", MESSAGE, signature, signed_at=at) is None


def test_a_key_before_its_period_or_after_it_is_refused(casework: Signer) -> None:
    trusted = limited(casework)
    signature = casework.sign(MESSAGE)
    before = trusted.problem_with(
        "casework", MESSAGE, signature, signed_at=NBF - timedelta(seconds=1)
    )
    assert before == "key 'casework-test-1' is not valid before 2026-01-01T00:00:00+00:00"
    for at in (EXP, EXP + timedelta(days=30)):
        after = trusted.problem_with("casework", MESSAGE, signature, signed_at=at)
        assert after == "key 'casework-test-1' expired at 2026-07-01T00:00:00+00:00"


def test_a_period_open_on_one_side_bounds_only_the_other(casework: Signer) -> None:
    signature = casework.sign(MESSAGE)
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)
    assert (
        limited(casework, nbf=None).problem_with("casework", MESSAGE, signature, signed_at=long_ago)
        is None
    )
    assert (
        limited(casework, exp=None).problem_with(
            "casework", MESSAGE, signature, signed_at=EXP + timedelta(days=3650)
        )
        is None
    )


def test_a_key_set_without_periods_verifies_as_before(
    casework: Signer, trusted: TrustedKeys
) -> None:
    signature = casework.sign(MESSAGE)
    assert "nbf" not in casework.public_jwk()
    assert trusted.problem_with("casework", MESSAGE, signature) is None
    assert trusted.problem_with("casework", MESSAGE, signature, signed_at=EXP) is None


def test_the_signature_is_checked_before_the_period(casework: Signer) -> None:
    """A forgery is named a forgery, not an expired key, whatever time it claims."""
    problem = limited(casework).problem_with(
        "casework", MESSAGE + b" ", casework.sign(MESSAGE), signed_at=EXP
    )
    assert problem == "signature does not verify with key 'casework-test-1'"
    assert limited(casework).problem_with("casework", MESSAGE, None, signed_at=EXP) == "unsigned"


def test_without_a_claimed_time_the_period_is_not_checked(casework: Signer) -> None:
    assert limited(casework).problem_with("casework", MESSAGE, casework.sign(MESSAGE)) is None
    assert limited(casework).validity_problem("casework-test-1", EXP) is not None


def test_a_period_that_makes_no_sense_is_refused(casework: Signer) -> None:
    with pytest.raises(ValueError, match="exp is not after nbf"):
        limited(casework, nbf=EXP, exp=NBF)
    with pytest.raises(ValueError, match="not a NumericDate"):
        TrustedKeys(key_set([{**casework.public_jwk(), "exp": "2026-07-01"}]))


class CountingKey:
    """An Ed25519 public key that counts the signatures it is asked to verify."""

    def __init__(self, key: Ed25519PublicKey) -> None:
        self.key = key
        self.verified = 0

    def public_bytes(self, encoding: Encoding, format: PublicFormat) -> bytes:
        return self.key.public_bytes(encoding, format)

    def verify(self, signature: bytes, message: bytes) -> None:
        self.verified += 1
        self.key.verify(signature, message)


def test_a_signature_proven_once_in_a_process_is_not_verified_again() -> None:
    private = Ed25519PrivateKey.generate()
    key, proven = CountingKey(private.public_key()), ProvenSignatures()
    signature = private.sign(MESSAGE)
    for _ in range(3):
        proven.verify(key, signature, MESSAGE)  # type: ignore[arg-type]
    assert key.verified == 1


def test_only_these_bytes_with_this_key_count_as_proven() -> None:
    """The entry is (key, signature, digest of the message), not the signature alone."""
    signer, stranger = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    proven = ProvenSignatures()
    signature = signer.sign(MESSAGE)
    proven.verify(signer.public_key(), signature, MESSAGE)
    with pytest.raises(InvalidSignature):  # the same signature, one byte of the message altered
        proven.verify(signer.public_key(), signature, MESSAGE.replace(b"Visit", b"VIsit"))
    with pytest.raises(InvalidSignature):  # the same signature and bytes, another key
        proven.verify(stranger.public_key(), signature, MESSAGE)


def test_a_bad_signature_is_not_remembered_and_the_oldest_proof_goes_first() -> None:
    private = Ed25519PrivateKey.generate()
    key, proven = CountingKey(private.public_key()), ProvenSignatures(size=2)
    for _ in range(2):
        with pytest.raises(InvalidSignature):
            proven.verify(key, b"\0" * 64, MESSAGE)  # type: ignore[arg-type]
    assert key.verified == 2
    first, second, third = (MESSAGE + bytes([n]) for n in range(3))
    for message in (first, second, third, second, first):
        proven.verify(key, private.sign(message), message)  # type: ignore[arg-type]
    assert key.verified == 2 + 4  # `second` was remembered; `first` had been forgotten
