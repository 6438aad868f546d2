"""The fuzzed services, one module-scoped fixture each, and the case counts at the end of a run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from schemathesis.hooks import HookContext
from schemathesis.schemas import BaseSchema

from carenet_devtools.issuer import DevIssuer

from .harness import (
    HARVEST,
    SEEDS,
    FuzzTarget,
    WithoutLifespan,
    case_counts,
    feed_samples,
    harvest,
    start,
)


@pytest.fixture(scope="session")
def fuzz_issuer(tmp_path_factory: pytest.TempPathFactory) -> DevIssuer:
    return DevIssuer(tmp_path_factory.mktemp("issuer") / "keys")


def _target(name: str, factory: pytest.TempPathFactory, issuer: DevIssuer) -> Iterator[FuzzTarget]:
    target = start(name, factory.mktemp(f"fuzz-{name}"), issuer)
    try:
        feed_samples(target)
        SEEDS[name](target)
        harvest(target, HARVEST[name])
        yield target
    finally:
        target.client.close()
        target.service.application.close()


def _schema(target: FuzzTarget) -> BaseSchema:
    schema = schemathesis.openapi.from_asgi("/openapi.json", WithoutLifespan(target.client.app))

    @schema.hook
    def flatmap_path_parameters(context: HookContext, path_parameters: dict[str, Any]) -> Any:
        return target.known.path_parameters(context.operation, path_parameters)

    return schema


@pytest.fixture(scope="module")
def intake_target(
    tmp_path_factory: pytest.TempPathFactory, fuzz_issuer: DevIssuer
) -> Iterator[FuzzTarget]:
    yield from _target("intake", tmp_path_factory, fuzz_issuer)


@pytest.fixture(scope="module")
def routing_target(
    tmp_path_factory: pytest.TempPathFactory, fuzz_issuer: DevIssuer
) -> Iterator[FuzzTarget]:
    yield from _target("routing", tmp_path_factory, fuzz_issuer)


@pytest.fixture(scope="module")
def casework_target(
    tmp_path_factory: pytest.TempPathFactory, fuzz_issuer: DevIssuer
) -> Iterator[FuzzTarget]:
    yield from _target("casework", tmp_path_factory, fuzz_issuer)


@pytest.fixture(scope="module")
def notifications_target(
    tmp_path_factory: pytest.TempPathFactory, fuzz_issuer: DevIssuer
) -> Iterator[FuzzTarget]:
    yield from _target("notifications", tmp_path_factory, fuzz_issuer)


@pytest.fixture(scope="module")
def audit_target(
    tmp_path_factory: pytest.TempPathFactory, fuzz_issuer: DevIssuer
) -> Iterator[FuzzTarget]:
    yield from _target("audit", tmp_path_factory, fuzz_issuer)


@pytest.fixture(scope="module")
def intake_schema(intake_target: FuzzTarget) -> BaseSchema:
    return _schema(intake_target)


@pytest.fixture(scope="module")
def routing_schema(routing_target: FuzzTarget) -> BaseSchema:
    return _schema(routing_target)


@pytest.fixture(scope="module")
def casework_schema(casework_target: FuzzTarget) -> BaseSchema:
    return _schema(casework_target)


@pytest.fixture(scope="module")
def notifications_schema(notifications_target: FuzzTarget) -> BaseSchema:
    return _schema(notifications_target)


@pytest.fixture(scope="module")
def audit_schema(audit_target: FuzzTarget) -> BaseSchema:
    return _schema(audit_target)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts = case_counts()
    if not counts:
        return
    terminalreporter.section("schemathesis cases per operation")
    for service, label, n in counts:
        terminalreporter.write_line(f"{n:6d}  {service:<14} {label}")
    terminalreporter.write_line(f"{sum(n for *_, n in counts):6d}  total")
