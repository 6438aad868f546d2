"""A token verifier cannot be configured to accept unsigned or shared-secret tokens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey

from carenet_kit.auth import KeySource, TokenVerifier


@pytest.mark.parametrize("algorithms", [["none"], ["HS256"], ["Ed25519", "none"], []])
def test_a_verifier_refuses_algorithms_that_are_not_asymmetric(
    tmp_path: Path, algorithms: list[str]
) -> None:
    jwks = tmp_path / "jwks.json"
    key = OKPKey.generate_key("Ed25519", parameters={"kid": "k"})
    jwks.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    with pytest.raises(ValueError, match="algorithms"):
        TokenVerifier(KeySource(str(jwks)), "issuer", "carenet", algorithms=algorithms)
