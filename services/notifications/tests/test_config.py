"""Settings refuse what is unsafe outside development."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from carenet_notifications.config import Settings

PRODUCTION = {
    "environment": "production",
    "persistence": "postgres",
    "signing_key": "a PEM",
    "signing_key_id": "notifications-2026-11",
    "auth_jwks": "https://id.example.org/jwks.json",
    "auth_issuer": "https://id.example.org",
    "trusted_keys": "/etc/carenet/trusted-keys/jwks.json",
    "kafka_security_protocol": "SASL_SSL",
    "kafka_username": "carenet-notifications",
    "kafka_password": "a password",
}


def test_production_refuses_the_development_cipher_key() -> None:
    with pytest.raises(ValidationError, match="CARENET_CIPHER_KEY"):
        Settings(**PRODUCTION, public_url="https://carenet.example.org")  # type: ignore[arg-type]


def test_production_refuses_plain_http_links() -> None:
    with pytest.raises(ValidationError, match="https"):
        Settings(**PRODUCTION, cipher_key="a" * 44)  # type: ignore[arg-type]


def test_production_delivers_webhooks_over_https_only() -> None:
    settings = Settings(
        **PRODUCTION,  # type: ignore[arg-type]
        cipher_key="a" * 44,
        public_url="https://carenet.example.org",
    )
    assert settings.webhooks_need_https
