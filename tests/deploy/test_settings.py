"""The settings each overlay gives each service are settings that service knows and accepts:
every CARENET_* name in its ConfigMaps is one of its settings (pydantic-settings ignores unknown
names, so a misspelt one would silently fall back to the default), every OTEL_* name one of the
OpenTelemetry SDK's, and, with the secrets the
runbook tells operators to create, the service's own validation (which refuses an unsafe
production) passes."""

from __future__ import annotations

import base64
import importlib
import os
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk import environment_variables as otel_environment
from pydantic_settings import BaseSettings

from .conftest import OVERLAYS, Built, build

SECRET_KEYS = {
    "intake": ("CARENET_MASTER_KEY", "CARENET_PSEUDONYM_KEY"),
    "routing": (),
    "casework": ("CARENET_MASTER_KEY",),
    "notifications": ("CARENET_CIPHER_KEY", "CARENET_SMTP_USERNAME", "CARENET_SMTP_PASSWORD"),
    "audit": (),
}
"""Each service's keys of `<service>-secrets` besides the ones every service has (README)."""
EVERY_SERVICE_SECRET_KEYS = (
    "CARENET_SIGNING_KEY",
    "CARENET_SIGNING_KEY_ID",
    "CARENET_POSTGRES_PASSWORD",
)
PLACEHOLDER_KEY = base64.b64encode(os.urandom(32)).decode()


def settings_class(service: str) -> type[BaseSettings]:
    module = importlib.import_module(f"carenet_{service}.config")
    settings: type[BaseSettings] = module.Settings
    return settings


def environment(built: Built, service: str) -> dict[str, str]:
    """What the service's container gets from its ConfigMaps and literal env entries."""
    deployment = built.named("Deployment", service)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env: dict[str, str] = {}
    for ref in container["envFrom"]:
        if "configMapRef" in ref:
            env |= built.named("ConfigMap", ref["configMapRef"]["name"])["data"]
    env |= {e["name"]: e["value"] for e in container["env"] if "value" in e}
    return env


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> Built:
    kustomize: Path = request.getfixturevalue("kustomize")
    return build(kustomize, request.param)


OPENTELEMETRY_SETTINGS = {
    value
    for name, value in vars(otel_environment).items()
    if name.startswith("OTEL_") and isinstance(value, str)
}
"""The OpenTelemetry SDK's own variables (the exporter's endpoint, the sampler)."""


@pytest.mark.parametrize("service", list(SECRET_KEYS))
def test_every_setting_in_the_config_maps_is_one_the_service_knows(
    overlay: Built, service: str
) -> None:
    known = {f"CARENET_{name.upper()}" for name in settings_class(service).model_fields}
    unknown = set(environment(overlay, service)) - known - OPENTELEMETRY_SETTINGS
    assert not unknown, f"{overlay.overlay}: {service} has no setting {sorted(unknown)}"
    secrets = {*EVERY_SERVICE_SECRET_KEYS, *SECRET_KEYS[service], "CARENET_KAFKA_PASSWORD"}
    assert secrets <= known


@pytest.mark.parametrize("service", list(SECRET_KEYS))
def test_the_service_accepts_its_settings_with_the_documented_secrets(
    overlay: Built, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("CARENET_"):
            monkeypatch.delenv(name)
    env = environment(overlay, service)
    if overlay.overlay == "production":
        secrets = {*EVERY_SERVICE_SECRET_KEYS, *SECRET_KEYS[service], "CARENET_KAFKA_PASSWORD"}
        env |= dict.fromkeys(secrets, "placeholder") | {
            "CARENET_MASTER_KEY": PLACEHOLDER_KEY,
            "CARENET_CIPHER_KEY": PLACEHOLDER_KEY,
        }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings: Any = settings_class(service)()
    assert settings.environment == overlay.overlay
    assert settings.http_port == 8080
    if overlay.overlay == "production":
        assert settings.persistence == "postgres"
        assert settings.kafka_security().protocol == "SASL_SSL"
        assert settings.topic_profile == "production"


def test_production_refuses_to_start_without_its_secrets(
    monkeypatch: pytest.MonkeyPatch, kustomize: Path
) -> None:
    """The check above can fail: the ConfigMaps alone are not enough for production."""
    for name in list(os.environ):
        if name.startswith("CARENET_"):
            monkeypatch.delenv(name)
    for name, value in environment(build(kustomize, "production"), "routing").items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match="needs a Kafka username and password"):
        settings_class("routing")()


@pytest.mark.parametrize(
    "setting", [("CARENET_FAIL_POINTS", "relay.acknowledged"), ("CARENET_UNGUARDED", "relay-skip")]
)
def test_production_refuses_fail_points_and_guards_turned_off(
    monkeypatch: pytest.MonkeyPatch, kustomize: Path, setting: tuple[str, str]
) -> None:
    """The production overlay with its secrets starts (above); with a fault test's setting
    added, it does not."""
    for name in list(os.environ):
        if name.startswith("CARENET_"):
            monkeypatch.delenv(name)
    secrets = {*EVERY_SERVICE_SECRET_KEYS, *SECRET_KEYS["routing"], "CARENET_KAFKA_PASSWORD"}
    env = environment(build(kustomize, "production"), "routing") | dict.fromkeys(
        secrets, "placeholder"
    )
    for name, value in (
        env | {"CARENET_MASTER_KEY": PLACEHOLDER_KEY, setting[0]: setting[1]}
    ).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match="production has no fail points"):
        settings_class("routing")()
