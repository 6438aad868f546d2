"""Producer signatures: what verifies, and what each kind of forgery is called."""

from __future__ import annotations

import pytest

from carenet_kit.signing import Signature, Signer, TrustedKeys, key_set

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
