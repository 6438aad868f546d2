"""Who is calling: a bearer JWT from the platform's OIDC issuer, checked on every request.

The token is verified with `joserfc` against the issuer's published key set (JWKS, from a file
or a URL), its issuer, audience and expiry, and only with the algorithms on an allow-list, so
`alg=none` or an HMAC token forged with a public key never passes. Its claims give the
`Actor`: the subject, an organisation claim and a role claim. Anything wrong answers 401 with
a short reason; an actor whose role may not do something gets 403 (`require_role`).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Annotated, Any

import structlog
from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from joserfc import jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet

log = structlog.get_logger()

SAFE_ALGORITHMS = frozenset({"EdDSA", "Ed25519", "ES256", "ES384", "PS256", "RS256"})
"""Asymmetric algorithms only: a service never holds a secret that could mint tokens.

`EdDSA` is the name RFC 8037 gave Ed25519 signatures and the one OIDC providers emit; RFC 9864
renamed it `Ed25519` (joserfc warns that `EdDSA` is deprecated). Both are accepted."""
DEFAULT_ALGORITHMS = ("EdDSA", "Ed25519", "ES256", "RS256")
LEEWAY_SECONDS = 30
"""How far the issuer's clock may be from ours: a token counts as expired only this long after
its `exp`, and as not yet valid this long before its `nbf` or `iat`."""


@dataclass(frozen=True)
class Actor:
    """An authenticated caller: a person, the organisation they act for, and their role."""

    subject: str
    organisation: str
    role: str


class Unauthenticated(Exception):
    """The token is missing or not acceptable; the text is the reason given (401)."""


class KeySource:
    """The issuer's public keys, from a JWKS file path or an https URL, reloaded on a new kid.

    A reload happens at most every `min_reload_seconds`, so a flood of tokens with made-up
    key ids cannot turn into a flood of requests to the issuer.
    """

    def __init__(self, location: str, min_reload_seconds: float = 60.0) -> None:
        self.location = location
        self.min_reload_seconds = min_reload_seconds
        self._lock = threading.Lock()
        self._keys = self._load()
        self._loaded_at = time.monotonic()

    def keys(self, kid: str | None) -> KeySet:
        with self._lock:
            known = kid is None or any(key.kid == kid for key in self._keys.keys)
            if not known and time.monotonic() - self._loaded_at > self.min_reload_seconds:
                self._keys, self._loaded_at = self._load(), time.monotonic()
            return self._keys

    def _load(self) -> KeySet:
        if self.location.startswith(("https://", "http://")):
            with urllib.request.urlopen(self.location, timeout=10) as response:  # noqa: S310
                document = json.loads(response.read())
        else:
            with open(self.location, encoding="utf-8") as file:
                document = json.load(file)
        return KeySet.import_key_set(document)


class TokenVerifier:
    """Checks a bearer token and says who it speaks for."""

    def __init__(
        self,
        keys: KeySource,
        issuer: str,
        audience: str,
        algorithms: Collection[str] = DEFAULT_ALGORITHMS,
        organisation_claim: str = "org",
        role_claim: str = "role",
        leeway_seconds: int = LEEWAY_SECONDS,
    ) -> None:
        unsafe = set(algorithms) - SAFE_ALGORITHMS
        if unsafe or not algorithms:
            raise ValueError(f"algorithms must be among {sorted(SAFE_ALGORITHMS)}: {unsafe}")
        self.keys = keys
        self.algorithms = list(algorithms)
        self.organisation_claim = organisation_claim
        self.role_claim = role_claim
        required: jwt.ClaimsOption = {"essential": True}
        options: dict[str, jwt.ClaimsOption] = {
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": audience},
            "exp": required,
            "sub": required,
            organisation_claim: required,
            role_claim: required,
        }
        self._claims = jwt.JWTClaimsRegistry(leeway=leeway_seconds)
        self._claims.options = options  # any claim names, which `**options` cannot type

    def actor(self, token: str) -> Actor:
        try:
            kid = _unverified_kid(token)
            decoded = jwt.decode(token, self.keys.keys(kid), algorithms=self.algorithms)
            self._claims.validate(decoded.claims)
        except ExpiredTokenError as error:
            raise Unauthenticated("the token has expired") from error
        except (JoseError, ValueError, binascii.Error) as error:
            raise Unauthenticated(f"invalid token: {type(error).__name__}") from error
        claims = decoded.claims
        values = (claims["sub"], claims[self.organisation_claim], claims[self.role_claim])
        if not all(isinstance(value, str) and value for value in values):
            raise Unauthenticated("invalid token: subject, organisation and role are strings")
        return Actor(*values)


def _unverified_kid(token: str) -> str | None:
    """The `kid` named in the header, only to choose a key set; nothing trusts it further."""
    header = token.split(".", 1)[0]
    decoded: Any = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    if not isinstance(decoded, dict):
        raise ValueError("header is not an object")
    kid = decoded.get("kid")
    return kid if isinstance(kid, str) else None


_bearer = HTTPBearer(auto_error=False, description="A JWT from the platform's OIDC issuer.")


def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The caller, from `app.state.token_verifier`; 401 (with `WWW-Authenticate`) otherwise."""
    challenge = {"WWW-Authenticate": 'Bearer realm="carenet"'}
    verifier: TokenVerifier | None = getattr(request.app.state, "token_verifier", None)
    if verifier is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "no token issuer is configured")
    if credentials is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "a bearer token is required", challenge)
    try:
        return verifier.actor(credentials.credentials)
    except Unauthenticated as error:
        log.info("token refused", reason=str(error))
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, str(error), challenge) from error


CurrentActor = Annotated[Actor, Depends(current_actor)]


def require_role(*roles: str) -> Callable[[Actor], Actor]:
    """A dependency: the caller if their role is one of `roles`, else 403."""

    def dependency(actor: CurrentActor) -> Actor:
        if actor.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {actor.role!r} may not do this")
        return actor

    return dependency
