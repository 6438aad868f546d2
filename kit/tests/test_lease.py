"""The file lease of replicas on one machine: one holder at a time, released by its death.

(The PostgreSQL lease is tested against a real server in tests/integration/test_scale_out.py.)
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from carenet_kit.lease import FileLease, Unshared, advisory_key

HOLDER = """
import sys, time
from pathlib import Path
from carenet_kit.lease import FileLease
lease = FileLease("relay", Path(sys.argv[1]))
assert lease.acquire()
print("held", flush=True)
time.sleep(600)
"""


def test_one_holder_at_a_time_and_the_lease_passes_on_when_given_up(tmp_path: Path) -> None:
    first, second = (FileLease("relay", tmp_path / "relay.lock") for _ in range(2))
    assert first.acquire()
    assert first.acquire(), "taking a lease one holds is holding it"
    assert not second.acquire()
    assert (first.held(), second.held()) == (True, False)
    first.release()
    assert not first.held()
    assert second.acquire()
    assert not first.acquire()


def test_a_killed_holder_process_leaves_the_lease_to_the_next(tmp_path: Path) -> None:
    path = tmp_path / "relay.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline() == b"held\n"
        lease = FileLease("relay", path)
        assert not lease.acquire()
        holder.kill()  # SIGKILL: no code of the holder runs
        holder.wait()
        deadline = time.monotonic() + 10
        while not lease.acquire():
            assert time.monotonic() < deadline, "the lease is still held by a dead process"
            time.sleep(0.05)
        assert lease.held()
    finally:
        holder.kill()
        holder.wait()


def test_an_unshared_store_is_always_held() -> None:
    lease = Unshared()
    assert lease.acquire()
    assert lease.held()


def test_the_advisory_key_is_a_signed_64_bit_number_of_the_name() -> None:
    key = advisory_key("carenet-relay:carenet.casework.v1")
    assert key == advisory_key("carenet-relay:carenet.casework.v1")
    assert key != advisory_key("carenet-relay:carenet.routing.v1")
    assert -(2**63) <= key < 2**63
