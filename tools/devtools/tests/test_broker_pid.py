"""A broker's pid file counts only while its pid is that broker: not a zombie, not a stranger.

Found as a new user would: the broker SIGKILLed under `make run` stays a zombie of `make run`
until reaped, and `carenet-dev kafka up` then took it for running and failed to connect.
"""

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from carenet_devtools import kafka


@pytest.fixture
def work_dir(tmp_path: Path) -> Path:
    return tmp_path.resolve()


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        process.kill()
        process.wait()


def broker_like(work_dir: Path, started: list[subprocess.Popen[bytes]]) -> int:
    """A process whose arguments are a broker's of `work_dir` (it only sleeps)."""
    arguments = ["kafka.Kafka", str(work_dir / "server.properties")]
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", *arguments])
    started.append(process)
    return process.pid


def pid_file(work_dir: Path, pid: int) -> None:
    (work_dir / kafka.PID_FILE).write_text(str(pid))


def test_the_broker_of_the_work_dir_is_running(
    work_dir: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    pid_file(work_dir, broker_like(work_dir, processes))
    assert kafka.is_running(work_dir)


def test_a_killed_broker_left_a_zombie_is_not_running(
    work_dir: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    pid = broker_like(work_dir, processes)
    pid_file(work_dir, pid)
    processes[-1].kill()  # and not reaped: a zombie, as under `make run`
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not kafka.is_running(work_dir)


def test_a_pid_now_another_process_s_is_not_a_running_broker(
    work_dir: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    pid_file(work_dir, broker_like(work_dir.parent / "elsewhere", processes))
    assert not kafka.is_running(work_dir)


def test_a_pid_of_no_process_is_not_running(work_dir: Path) -> None:
    pid_file(work_dir, 2**22 + 1)  # above Linux's largest pid
    assert not kafka.is_running(work_dir)
