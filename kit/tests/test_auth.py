"""Which tokens a verifier accepts: asymmetric signatures only, Ed25519 under either name."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OKPKey

from carenet_devtools.issuer import DevIssuer
from carenet_kit.auth import LEEWAY_SECONDS, Actor, KeySource, TokenVerifier, Unauthenticated
from carenet_kit.settings import ServiceSettings


@pytest.mark.parametrize("algorithms", [["none"], ["HS256"], ["Ed25519", "none"], []])
def test_a_verifier_refuses_algorithms_that_are_not_asymmetric(
    tmp_path: Path, algorithms: list[str]
) -> None:
    jwks = tmp_path / "jwks.json"
    key = OKPKey.generate_key("Ed25519", parameters={"kid": "k"})
    jwks.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    with pytest.raises(ValueError, match="algorithms"):
        TokenVerifier(KeySource(str(jwks)), "issuer", "carenet", algorithms=algorithms)


def verifier_of(issuer: DevIssuer, **options: Any) -> TokenVerifier:
    return TokenVerifier(KeySource(str(issuer.key_set_path)), issuer.issuer, "carenet", **options)


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
@pytest.mark.parametrize("algorithm", ["EdDSA", "Ed25519"])
def test_an_ed25519_token_is_accepted_under_either_name(tmp_path: Path, algorithm: str) -> None:
    """`EdDSA` (RFC 8037) is what OIDC providers emit; RFC 9864 calls it `Ed25519`."""
    issuer = DevIssuer(tmp_path)
    token = issuer.token("SW-NS-LI", "CHC-NS-NANTOU", "social_worker", algorithm=algorithm)
    assert verifier_of(issuer).actor(token) == Actor("SW-NS-LI", "CHC-NS-NANTOU", "social_worker")


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_an_eddsa_token_verifies_against_a_key_set_that_names_eddsa(tmp_path: Path) -> None:
    """As an OIDC provider publishes it: `"alg": "EdDSA"` on the key."""
    key = OKPKey.generate_key("Ed25519", parameters={"kid": "provider-1"})
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**key.as_dict(private=False), "alg": "EdDSA"}]}))
    claims = {"iss": "https://idp", "aud": "carenet", "sub": "OP-ZHAO", "org": "network",
              "role": "operator", "exp": int(time.time()) + 60}  # fmt: skip
    token = jwt.encode({"alg": "EdDSA", "kid": "provider-1"}, claims, key, algorithms=["EdDSA"])
    verifier = TokenVerifier(KeySource(str(jwks)), "https://idp", "carenet")
    assert verifier.actor(token).subject == "OP-ZHAO"


def unsigned(header: dict[str, str], claims: dict[str, Any], signature: bytes = b"") -> str:
    def part(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return ".".join(
        [part(json.dumps(header).encode()), part(json.dumps(claims).encode()), part(signature)]
    )


@pytest.mark.parametrize("algorithm", ["none", "HS256", "HS512"])
def test_a_token_that_is_not_asymmetrically_signed_is_refused(
    tmp_path: Path, algorithm: str
) -> None:
    issuer = DevIssuer(tmp_path)
    signed = issuer.token("OP-ZHAO", "network", "operator").split(".")
    claims = json.loads(base64.urlsafe_b64decode(signed[1] + "=" * (-len(signed[1]) % 4)))
    kid = json.loads(issuer.key_set_path.read_text())["keys"][0]["kid"]
    forged = unsigned({"alg": algorithm, "kid": kid}, claims, b"x" * 32)
    with pytest.raises(Unauthenticated, match="invalid token"):
        verifier_of(issuer).actor(forged)


def test_the_clock_skew_leeway_is_a_setting_of_30_seconds_by_default(tmp_path: Path) -> None:
    issuer = DevIssuer(tmp_path)
    settings = ServiceSettings(auth_jwks=str(issuer.key_set_path), auth_issuer=issuer.issuer)
    assert settings.auth_leeway_seconds == LEEWAY_SECONDS == 30
    expired_20s_ago = issuer.token("OP-ZHAO", "network", "operator", minutes=-20 / 60)
    verifier = settings.token_verifier()
    assert verifier is not None
    assert verifier.actor(expired_20s_ago).subject == "OP-ZHAO"
    strict = ServiceSettings(
        auth_jwks=str(issuer.key_set_path), auth_issuer=issuer.issuer, auth_leeway_seconds=10
    ).token_verifier()
    assert strict is not None
    with pytest.raises(Unauthenticated, match="expired"):
        strict.actor(expired_20s_ago)
