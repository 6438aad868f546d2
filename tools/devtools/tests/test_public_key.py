"""`carenet-dev public-key`: the JWK to add to the network's key set for a new signing key."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from carenet_devtools.cli import app
from carenet_kit.signing import Signer, TrustedKeys, key_set


def test_the_printed_key_verifies_what_the_private_key_signs(tmp_path: Path) -> None:
    signer = Signer.generate("routing-2027-01", "routing")
    pem = tmp_path / "routing.pem"
    pem.write_text(signer.private_pem())

    result = CliRunner().invoke(
        app, ["public-key", str(pem), "--producer", "routing", "--key-id", "routing-2027-01"]
    )

    assert result.exit_code == 0, result.output
    jwk = json.loads(result.output)
    assert "d" not in jwk  # the public half only
    trusted = TrustedKeys(key_set([jwk]))
    assert trusted.problem_with("routing", b"m", signer.sign(b"m")) is None
