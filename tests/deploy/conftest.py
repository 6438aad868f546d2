"""Fixtures of the deployment tests: the tools (kustomize, Strimzi's CRDs) and the built overlays.

The tools are installed by `make deploy-tools` (a step of `make test`) into the cache
(`carenet_devtools.kubernetes`); if one is missing here they are installed now, and if that
fails the tests fail: they never skip.
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from carenet_devtools import kubernetes
from carenet_devtools.cache import default_cache_dir

OVERLAYS_DIR = kubernetes.REPO / "deploy" / "kubernetes" / "overlays"
OVERLAYS = ("development", "production")


@dataclass(frozen=True)
class Built:
    """One overlay, as `kustomize build` gives it."""

    overlay: str
    documents: list[dict[str, Any]]
    seconds: float

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.documents if d["kind"] == kind]

    def named(self, kind: str, name: str) -> dict[str, Any]:
        return next(d for d in self.of_kind(kind) if d["metadata"]["name"] == name)


@pytest.fixture(scope="session")
def kustomize() -> Path:
    return kubernetes.ensure_kustomize(default_cache_dir())


@pytest.fixture(scope="session")
def strimzi_crds() -> Path:
    return kubernetes.ensure_strimzi_crds(default_cache_dir())


def build(kustomize: Path, overlay: str) -> Built:
    started = time.perf_counter()
    output = subprocess.run(
        [str(kustomize), "build", str(OVERLAYS_DIR / overlay)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    documents = [d for d in yaml.safe_load_all(output) if d]
    return Built(overlay, documents, time.perf_counter() - started)


@pytest.fixture(scope="session", params=OVERLAYS)
def built(request: pytest.FixtureRequest, kustomize: Path) -> Built:
    return build(kustomize, request.param)
