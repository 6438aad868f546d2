"""What the project fetches or builds once (the Kafka jars, kustomize, the CRDs, the test control
plane), cached outside the repository so that it outlives a checkout: `$CARENET_CACHE`, else
`~/.cache/carenet`."""

from __future__ import annotations

import fcntl
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
    only when complete, so an interrupted run is never mistaken for a cached one. A run that
    finds another making it waits for that one (a lock beside it) instead of making it twice:
    `make test` starts the long builds in the background and the tests that need them wait."""
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_dir():  # made while this run waited
            return target
        staging = Path(tempfile.mkdtemp(prefix=f"{target.name}-", dir=target.parent))
        try:
            make(staging)
            staging.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target
