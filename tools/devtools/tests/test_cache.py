"""The cache makes a tool once, even when two runs ask for it at the same time (`make test`
builds the deployment tools in the background while the tests that need them wait)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from carenet_devtools.cache import cached


def test_two_runs_asking_at_once_make_it_once(tmp_path: Path) -> None:
    made: list[str] = []
    first_started = threading.Event()

    def make(staging: Path) -> None:
        made.append(threading.current_thread().name)
        first_started.set()
        time.sleep(0.5)  # long enough for the second run to ask while the first makes it
        (staging / "tool").write_text("built")

    target = tmp_path / "tool-1.0"
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(cached, target, make)
        assert first_started.wait(5)
        second = pool.submit(cached, target, make)
        assert first.result() == second.result() == target
    assert len(made) == 1
    assert (target / "tool").read_text() == "built"


def test_a_failed_make_leaves_nothing_taken_for_made(tmp_path: Path) -> None:
    def fail(staging: Path) -> None:
        (staging / "half").write_text("half")
        raise RuntimeError("interrupted")

    target = tmp_path / "tool-1.0"
    with pytest.raises(RuntimeError):
        cached(target, fail)
    assert not target.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["tool-1.0.lock"]
