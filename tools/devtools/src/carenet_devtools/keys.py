"""The signing keys of a local run: one Ed25519 key per service and the key set that trusts them.

`run_dir/keys/<service>.pem` holds a service's private key and `<service>.kid` its key id;
`run_dir/keys/jwks.json` is the public key set the services trust (`CARENET_TRUSTED_KEYS`) and
an auditor verifies the run's stream with. Keys are made once per run dir and kept, so a
restarted service signs with the same key; each is published valid from the moment it was made
(`nbf`), with no end (`exp`) until it is retired.

`HandMadeStreams` publishes messages made by hand (tests, tools) as a producer's outbox would:
signed with the producer's key of the keyring, each stream numbered and hash-chained, so that
services admit them.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from carenet_kit.inspection import PRODUCERS
from carenet_kit.signing import Signer, TrustedKeys, key_set, valid_during
from carenet_kit.wire import Headers, kafka_record

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

    def trusted_env(self) -> dict[str, str]:
        """The setting by which a service trusts every producer's key of the keyring (the
        keys are made now if they are new)."""
        for producer in PRODUCERS:
            self.signer(producer)
        return {"CARENET_TRUSTED_KEYS": str(self.key_set_path)}

    def trusted(self) -> TrustedKeys:
        return TrustedKeys.load(self.key_set_path)

    def _publish(self, signer: Signer) -> None:
        """Add a new public key; keys already in the set stay (they verify what they signed)."""
        keys = (
            json.loads(self.key_set_path.read_text())["keys"] if self.key_set_path.exists() else []
        )
        public = valid_during(signer.public_jwk(), datetime.now(UTC), None)
        self.key_set_path.write_text(json.dumps(key_set([*keys, public]), indent=2))


class HandMadeStreams:
    """Envelopes made by hand, signed and numbered as their producer's outbox would have them."""

    def __init__(self, keyring: DevKeyring) -> None:
        self.keyring = keyring
        self._heads: dict[tuple[str, str], tuple[int, str]] = {}

    def next_of(self, producer: str, envelope: dict[str, Any]) -> tuple[bytes, bytes, Headers]:
        """The envelope as the next message of its (producer, patient) stream: key, value and
        headers (with the signature) for the producer's topic. Recorded now, as an outbox stamps
        it (a key is valid from when it was made: an older `recorded_at` would not verify)."""
        stream = (producer, str(envelope["patient_id"]))
        sequence, previous_hash = self._heads.get(stream, (0, None))
        message = json.dumps(
            {
                **envelope,
                "producer": producer,
                "sequence": sequence + 1,
                "previous_hash": previous_hash,
                "recorded_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            }
        )
        self._heads[stream] = (sequence + 1, hashlib.sha256(message.encode()).hexdigest())
        key, headers = kafka_record(
            message, 0, self.keyring.signer(producer).sign(message.encode())
        )
        return key, message.encode(), headers
