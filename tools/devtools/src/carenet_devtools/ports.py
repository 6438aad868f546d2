"""Loopback ports for the processes the project starts (brokers, servers, control planes)."""

from __future__ import annotations

import socket
from contextlib import ExitStack


def free_ports(count: int) -> list[int]:
    """`count` different TCP ports nothing listens on right now (the OS picks them; all are held
    at once while picking, so they differ)."""
    with ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    return free_ports(1)[0]
