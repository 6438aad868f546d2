"""The development token issuer: an Ed25519 key of its own and the tokens of the demo users.

`run_dir/keys/issuer.pem` is its private key and `run_dir/keys/issuer.jwks.json` the public key
set the services verify tokens with (`CARENET_AUTH_JWKS`). In production the services point at
the organisation's real OIDC provider instead; nothing here is used there.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from joserfc import jwt
from joserfc.jwk import OKPKey

from carenet_kit.settings import DEVELOPMENT_ISSUER

ALGORITHM = "Ed25519"
KEY_FILE = "issuer.pem"
KEY_SET_FILE = "issuer.jwks.json"
DEMO_USERS = Path(__file__).resolve().parents[4] / "reference" / "demo-users.yaml"


@dataclass(frozen=True)
class DemoUser:
    user: str
    org: str
    role: str


def demo_users(path: Path = DEMO_USERS) -> dict[str, DemoUser]:
    """The demo users by id (`reference/demo-users.yaml`)."""
    return {u["user"]: DemoUser(**u) for u in yaml.safe_load(path.read_text())["users"]}


class DevIssuer:
    def __init__(
        self, directory: Path, issuer: str = DEVELOPMENT_ISSUER, audience: str = "carenet"
    ) -> None:
        self.directory = directory
        self.issuer = issuer
        self.audience = audience
        self._key = self._load_or_make()

    @property
    def key_set_path(self) -> Path:
        return self.directory / KEY_SET_FILE

    def env(self) -> dict[str, str]:
        """The settings that make a service trust this issuer's tokens."""
        return {
            "CARENET_AUTH_JWKS": str(self.key_set_path),
            "CARENET_AUTH_ISSUER": self.issuer,
            "CARENET_AUTH_AUDIENCE": self.audience,
        }

    def token(
        self,
        user: str,
        organisation: str,
        role: str,
        minutes: float = 60,
        algorithm: str = ALGORITHM,
    ) -> str:
        """A signed token; `algorithm="EdDSA"` signs as OIDC providers name it (RFC 8037)."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": user,
            "org": organisation,
            "role": role,
            "iat": now,
            "exp": now + int(minutes * 60),
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(
            {"alg": algorithm, "kid": self._key.kid}, claims, self._key, algorithms=[algorithm]
        )

    def token_of(self, user: str, minutes: float = 60) -> str:
        """A token for one of the demo users."""
        demo = demo_users()[user]
        return self.token(demo.user, demo.org, demo.role, minutes)

    def _load_or_make(self) -> OKPKey:
        pem, key_set = self.directory / KEY_FILE, self.key_set_path
        if pem.exists() and key_set.exists():
            kid = json.loads(key_set.read_text())["keys"][0]["kid"]
            return OKPKey.import_key(pem.read_text(), parameters={"kid": kid})
        key = OKPKey.generate_key("Ed25519", parameters={"kid": f"issuer-{secrets.token_hex(4)}"})
        self.directory.mkdir(parents=True, exist_ok=True)
        pem.touch(mode=0o600)
        pem.write_bytes(key.as_pem(private=True))
        public = {**key.as_dict(private=False), "use": "sig"}  # for Ed25519 and EdDSA
        key_set.write_text(json.dumps({"keys": [public]}, indent=2))
        return key
