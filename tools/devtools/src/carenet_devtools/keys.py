"""The signing keys of a local run: one Ed25519 key per service and the key set that trusts them.

`run_dir/keys/<service>.pem` holds a service's private key and `<service>.kid` its key id;
`run_dir/keys/jwks.json` is the public key set an auditor verifies the run's stream with. Keys
are made once per run dir and kept, so a restarted service signs with the same key; each is
published valid from the moment it was made (`nbf`), with no end (`exp`) until it is retired.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from pathlib import Path

from carenet_kit.signing import Signer, TrustedKeys, key_set, valid_during

KEY_SET_FILE = "jwks.json"


class DevKeyring:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def key_set_path(self) -> Path:
        return self.directory / KEY_SET_FILE

    def signer(self, service: str) -> Signer:
        """The service's key, made on first use (and added to the key set)."""
        pem, kid = self.directory / f"{service}.pem", self.directory / f"{service}.kid"
        if pem.exists() and kid.exists():
            return Signer.from_pem(pem.read_text(), kid.read_text().strip(), service)
        signer = Signer.generate(f"{service}-dev-{secrets.token_hex(4)}", service)
        self.directory.mkdir(parents=True, exist_ok=True)
        pem.touch(mode=0o600)
        pem.write_text(signer.private_pem())
        kid.write_text(signer.key_id + "\n")
        self._publish(signer)
        return signer

    def env(self, service: str) -> dict[str, str]:
        signer = self.signer(service)
        return {
            "CARENET_SIGNING_KEY": signer.private_pem(),
            "CARENET_SIGNING_KEY_ID": signer.key_id,
        }

    def trusted(self) -> TrustedKeys:
        return TrustedKeys.load(self.key_set_path)

    def _publish(self, signer: Signer) -> None:
        """Add a new public key; keys already in the set stay (they verify what they signed)."""
        keys = (
            json.loads(self.key_set_path.read_text())["keys"] if self.key_set_path.exists() else []
        )
        public = valid_during(signer.public_jwk(), datetime.now(UTC), None)
        self.key_set_path.write_text(json.dumps(key_set([*keys, public]), indent=2))
