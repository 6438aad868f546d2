"""Fixtures of the deployment tests: the tools (kustomize, the CRDs, the control plane), the
built overlays, and a running Kubernetes control plane.

The tools are installed by `make deploy-tools` into the cache (`carenet_devtools.kubernetes`,
`carenet_devtools.control_plane`); `make test` builds them in the background while the other
tests run, and a fixture that needs one waits for that build (the cache's lock). If one is
missing here it is built now, and if that fails the tests fail: they never skip.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from carenet_devtools import control_plane, kubernetes
from carenet_devtools.cache import default_cache_dir

OVERLAYS_DIR = kubernetes.REPO / "deploy" / "kubernetes" / "overlays"
COMPONENTS_DIR = kubernetes.REPO / "deploy" / "kubernetes" / "components"
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


@pytest.fixture(scope="session")
def operator_crds() -> Path:
    return kubernetes.ensure_operator_crds(default_cache_dir())


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[control_plane.ControlPlane]:
    """etcd, kube-apiserver and kube-controller-manager on loopback, for the whole session."""
    tools = control_plane.ensure_binaries(default_cache_dir())
    started = time.perf_counter()
    plane = control_plane.start(tmp_path_factory.mktemp("control-plane"), tools)
    print(f"\ncontrol plane ready in {time.perf_counter() - started:.1f}s at {plane.server}")
    yield plane
    plane.stop()


def build(kustomize: Path, overlay: str) -> Built:
    """An overlay of `deploy/kubernetes/overlays`, or any kustomization directory."""
    started = time.perf_counter()
    output = subprocess.run(
        [str(kustomize), "build", str(OVERLAYS_DIR / overlay)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    documents = [d for d in yaml.safe_load_all(output) if d]
    return Built(overlay, documents, time.perf_counter() - started)


def build_with(
    kustomize: Path, overlay: str, components: tuple[str, ...], namespace: str
) -> list[dict[str, Any]]:
    """An overlay with optional components, in a namespace: the kustomization an operator writes
    to add a component (`deploy/kubernetes/components/<name>`) to an overlay."""
    with tempfile.TemporaryDirectory() as directory:

        def relative(path: Path) -> str:
            return os.path.relpath(path, directory)

        kustomization = {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "namespace": namespace,
            "resources": [relative(OVERLAYS_DIR / overlay)],
            "components": [relative(COMPONENTS_DIR / name) for name in components],
        }
        (Path(directory) / "kustomization.yaml").write_text(yaml.safe_dump(kustomization))
        return build(kustomize, directory).documents


@pytest.fixture(scope="session", params=OVERLAYS)
def built(request: pytest.FixtureRequest, kustomize: Path) -> Built:
    return build(kustomize, request.param)
