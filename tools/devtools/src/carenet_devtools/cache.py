"""What the project fetches or builds once (the Kafka jars, kustomize, Strimzi's CRD schemas),
cached outside the repository so that it outlives a checkout: `$CARENET_CACHE`, else
`~/.cache/carenet`."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path


class ToolError(RuntimeError):
    """A tool could not be fetched, built or run."""


def default_cache_dir() -> Path:
    return Path(os.environ.get("CARENET_CACHE") or Path.home() / ".cache" / "carenet")


def run(command: Sequence[str], what: str, env: Mapping[str, str] | None = None) -> None:
    """Run a tool; on failure, a `ToolError` that says `what` failed, with the end of its output."""
    try:
        result = subprocess.run(  # noqa: S603 - our own argv, no shell
            command, capture_output=True, text=True, check=False, env=env
        )
    except FileNotFoundError as error:
        raise ToolError(f"{what}: {command[0]} is not installed") from error
    if result.returncode != 0:
        output = (result.stdout + result.stderr).splitlines()[-40:]
        raise ToolError(f"{what} failed ({result.returncode}):\n" + "\n".join(output))


def cached(target: Path, make: Callable[[Path], None]) -> Path:
    """`target`, made once by `make(staging)` in a fresh directory that is renamed into place
    only when complete, so an interrupted run is never mistaken for a cached one and
    concurrent runs do not collide."""
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}-", dir=target.parent))
    try:
        make(staging)
        try:
            staging.rename(target)
        except OSError:
            if not target.is_dir():  # not a lost race with another run
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
