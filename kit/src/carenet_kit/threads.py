"""Blocking store work off the event loop, finished before the task that asked for it ends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


async def in_thread(function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`asyncio.to_thread`, except that a cancelled caller ends only once the thread has
    finished. A cancelled `to_thread` leaves its thread running: a service stopping its loops
    would close the store under a statement still executing (SQLite may then crash the
    process), and a loop that has "stopped" would still commit. Here, once a task has ended,
    no work of its touches the store any more."""
    work = asyncio.ensure_future(asyncio.to_thread(function, *args, **kwargs))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        await asyncio.wait([work])
        raise
