"""Start CareNet's five services as separate processes on loopback (for `run` and the tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from carenet_devtools.issuer import DevIssuer
from carenet_devtools.keys import DevKeyring

SERVICES = ("intake", "routing", "casework", "notifications", "audit")
DEFAULT_PORTS = {
    "intake": 8001,
    "routing": 8002,
    "casework": 8003,
    "notifications": 8004,
    "audit": 8005,
}


@dataclass
class ServiceProcess:
    """One service in its own process; its stdout (JSON logs) goes to `log_path`."""

    name: str
    port: int
    env: Mapping[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"{self.name} has not been started")
        return self.process.pid

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env, "CARENET_HTTP_PORT": str(self.port)}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and command
                [sys.executable, "-c", f"from carenet_{self.name}.main import main; main()"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Until `/readyz` says the store, relay, projection and consumer are ready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self._log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready after {timeout}s: {self._log_tail()}")

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def _log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def service_processes(
    run_dir: Path,
    env: Mapping[str, str],
    ports: Mapping[str, int] = DEFAULT_PORTS,
    env_of: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, ServiceProcess]:
    """The services, each with its data under `run_dir/data`, its log in `run_dir/logs` and
    its signing key in `run_dir/keys`, whose `jwks.json` verifies everything they publish and
    is the key set they trust (`CARENET_TRUSTED_KEYS`); they trust the tokens of the run's
    development issuer (`carenet-dev token`). `env_of` adds settings of one service only (by
    name), e.g. its Kafka credentials."""
    issuer = DevIssuer(run_dir / "keys")
    keyring = DevKeyring(run_dir / "keys")
    shared = {
        "CARENET_DATA_DIR": str(run_dir / "data"),
        **issuer.env(),
        **keyring.trusted_env(),
        **env,
    }
    return {
        name: ServiceProcess(
            name,
            ports[name],
            shared | keyring.env(name) | dict((env_of or {}).get(name, {})),
            run_dir / "logs" / f"{name}.log",
        )
        for name in SERVICES
    }
