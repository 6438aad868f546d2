"""A task cancelled while its store work runs in a thread ends only after that work."""

from __future__ import annotations

import asyncio
import threading

import pytest

from carenet_kit.threads import in_thread


async def test_a_cancelled_caller_ends_after_its_thread_has_finished() -> None:
    started, release = threading.Event(), threading.Event()
    finished: list[str] = []

    def store_work() -> None:
        started.set()
        release.wait(timeout=5)
        finished.append("committed")

    task = asyncio.create_task(in_thread(store_work))
    await asyncio.to_thread(started.wait, 5)
    task.cancel()
    await asyncio.sleep(0)  # the cancellation is delivered; the thread still runs
    assert not task.done()
    release.set()
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    assert finished == ["committed"]  # with asyncio.to_thread the task ends first: []


async def test_the_answer_and_the_errors_of_the_work_come_back() -> None:
    assert await in_thread(sum, [1, 2, 3]) == 6
    with pytest.raises(ValueError, match="not a number"):
        await in_thread(int, "not a number")
