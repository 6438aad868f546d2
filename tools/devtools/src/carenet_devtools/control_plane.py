"""A Kubernetes control plane for the deployment tests, without Docker and without nodes.

etcd, kube-apiserver and kube-controller-manager run on loopback ports as a cluster runs them:
RBAC, the default admission plugins (Pod Security among them), service-account tokens, and the
controllers that turn a Deployment into Pods (which are admitted, then stay Pending: no node
runs them). The four tools, kubectl included, are one binary (`deploy/validation/kubernetes`),
built once from the Go module proxy with the machine's Go and cached like the Kafka jars.

Callers authenticate with static tokens (`tokens.csv`): `admin` (system:masters) for the tests,
`system:kube-controller-manager` for the controller manager, which then acts as each
controller's own service account, as kubeadm clusters run it.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import re
import secrets
import signal
import ssl
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from carenet_devtools.cache import ToolError, cached, run
from carenet_devtools.kubernetes import REPO, go_env
from carenet_devtools.ports import free_ports

MODULE_DIR = REPO / "deploy" / "validation" / "kubernetes"
TOOLS = ("etcd", "kube-apiserver", "kube-controller-manager", "kubectl")
CONTROLLERS = (
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
    "namespace-controller",
    "garbage-collector-controller",
    "clusterrole-aggregation-controller",
    "deployment-controller",
    "replicaset-controller",
    "disruption-controller",
)
"""What a namespace, a Deployment and a PodDisruptionBudget need to come to life; no node, so
nothing that schedules, runs or reaches Pods."""
SERVICE_RANGE = "10.96.0.0/16"


def versions() -> dict[str, str]:
    """The Kubernetes and etcd releases the control plane is built from (its go.mod)."""
    text = (MODULE_DIR / "go.mod").read_text()
    found = {
        name: re.search(rf"^\s*{re.escape(module)} (v\S+)", text, re.MULTILINE)
        for name, module in (
            ("kubernetes", "k8s.io/kubernetes"),
            ("etcd", "go.etcd.io/etcd/server/v3"),
        )
    }
    if not all(found.values()):
        raise ToolError(f"{MODULE_DIR / 'go.mod'} does not require Kubernetes and etcd")
    return {name: match.group(1) for name, match in found.items() if match}


def ensure_binaries(cache_dir: Path) -> Path:
    """The directory of the tools (`etcd`, `kube-apiserver`, … each a name of one binary),
    built once per version of the module and of the build command (`make deploy-tools`)."""
    release = versions()
    kubernetes = release["kubernetes"]
    major, minor = kubernetes.lstrip("v").split(".")[:2]
    stamps = [  # what Kubernetes' own build stamps in: `kubectl version` and `/version` tell it
        f"-X {package}.{name}={value}"
        for package in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version")
        for name, value in (("gitVersion", kubernetes), ("gitMajor", major), ("gitMinor", minor))
    ]
    flags = [
        "-trimpath",
        # Unoptimised (no inlining): the same code, compiled with about 30 % less CPU, which is
        # most of `make test`'s cost on a fresh machine; a test cluster has no load to serve.
        "-gcflags=all=-N -l",
        f"-ldflags=-s -w {' '.join(stamps)}",
    ]
    command = ["go", "build", "-C", str(MODULE_DIR), *flags]
    recipe = b"".join((MODULE_DIR / name).read_bytes() for name in ("go.mod", "go.sum", "main.go"))
    digest = hashlib.sha256(recipe + " ".join(flags).encode()).hexdigest()[:8]  # not the path

    def build(staging: Path) -> None:
        binary = staging / "carenet-kube"
        run(
            [*command, "-o", str(binary), "."],
            f"building Kubernetes {kubernetes} and etcd {release['etcd']}",
            # The compiler collects its garbage less often: less CPU for some more memory.
            {**go_env(), "GOFLAGS": "-mod=readonly", "GOGC": "400"},
        )
        for tool in TOOLS:
            (staging / tool).symlink_to(binary.name)

    return cached(cache_dir / f"kubernetes-{kubernetes}-etcd-{release['etcd']}-{digest}", build)


@dataclass
class ControlPlane:
    """A running control plane; `kubectl(...)` runs kubectl against it as the admin."""

    work_dir: Path
    tools: Path
    ports: dict[str, int]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports['apiserver']}"

    @property
    def kubeconfig(self) -> Path:
        return self.work_dir / "admin.kubeconfig"

    def kubectl(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """kubectl as the cluster's admin; with `check`, a failure raises with its output."""
        result = subprocess.run(  # noqa: S603 - our own argv
            [str(self.tools / "kubectl"), f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise ToolError(f"kubectl {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result

    def stop(self, timeout: float = 20.0) -> None:
        """Stop every process by its PID: SIGTERM, then SIGKILL after `timeout`."""
        for process in reversed(self.processes.values()):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    def log(self, name: str, lines: int = 40) -> str:
        path = self.work_dir / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def launch(self, name: str, argv: Sequence[str]) -> None:
        """Start one of the tools; its output goes to `<work dir>/<name>.log`."""
        with (self.work_dir / f"{name}.log").open("ab") as log:
            self.processes[name] = subprocess.Popen(  # noqa: S603 - our own argv
                [str(self.tools / name), *argv], stdout=log, stderr=subprocess.STDOUT
            )

    def wait_until_ready(
        self, name: str, url: str, timeout: float, verify: ssl.SSLContext | bool = True
    ) -> None:
        """Until `url` answers 200; a tool that exits first fails with the end of its log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise ToolError(f"{name} exited:\n{self.log(name)}")
            try:
                if httpx.get(url, timeout=2, verify=verify).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise ToolError(f"{name} not ready after {timeout}s:\n{self.log(name)}")


def start(work_dir: Path, tools: Path, timeout: float = 60.0) -> ControlPlane:
    """etcd, then kube-apiserver, then kube-controller-manager, each ready before the next."""
    work_dir.mkdir(parents=True, exist_ok=True)
    etcd_client, etcd_peer, apiserver = free_ports(3)
    plane = ControlPlane(work_dir, tools, {"etcd": etcd_client, "apiserver": apiserver})
    credentials = _write_credentials(work_dir)
    try:
        etcd_url = f"http://127.0.0.1:{etcd_client}"
        peer_url = f"http://127.0.0.1:{etcd_peer}"
        plane.launch(
            "etcd",
            [
                f"--data-dir={work_dir / 'etcd'}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=default={peer_url}",
                "--unsafe-no-fsync",  # a throwaway store: the tests never outlive it
                "--log-level=warn",
            ],
        )
        plane.wait_until_ready("etcd", f"{etcd_url}/health", timeout)
        plane.launch("kube-apiserver", _apiserver_flags(work_dir, etcd_url, apiserver))
        trust = ssl.create_default_context(cafile=credentials / "ca.crt")
        plane.wait_until_ready("kube-apiserver", f"{plane.server}/readyz", timeout, verify=trust)
        _write_kubeconfig(plane.kubeconfig, plane.server, credentials, "admin")
        _write_kubeconfig(
            work_dir / "controller-manager.kubeconfig",
            plane.server,
            credentials,
            "controller-manager",
        )
        plane.launch(
            "kube-controller-manager",
            [
                f"--kubeconfig={work_dir / 'controller-manager.kubeconfig'}",
                f"--controllers={','.join(CONTROLLERS)}",
                "--use-service-account-credentials=true",
                f"--service-account-private-key-file={credentials / 'service-account.key'}",
                f"--root-ca-file={credentials / 'ca.crt'}",
                f"--service-cluster-ip-range={SERVICE_RANGE}",
                "--leader-elect=false",
                "--secure-port=0",
            ],
        )
        _wait_for_default_account(plane, timeout)
    except BaseException:
        plane.stop()
        raise
    return plane


def _apiserver_flags(work_dir: Path, etcd_url: str, port: int) -> list[str]:
    credentials = work_dir / "credentials"
    return [
        f"--etcd-servers={etcd_url}",
        "--bind-address=127.0.0.1",
        "--advertise-address=127.0.0.1",
        f"--secure-port={port}",
        f"--cert-dir={work_dir / 'apiserver-certs'}",
        f"--tls-cert-file={credentials / 'apiserver.crt'}",
        f"--tls-private-key-file={credentials / 'apiserver.key'}",
        f"--token-auth-file={credentials / 'tokens.csv'}",
        "--authorization-mode=RBAC",
        # Privileged containers are allowed by the cluster (as for system pods) so that only Pod
        # Security admission, per namespace, refuses them: the tests prove that refusal.
        "--allow-privileged=true",
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
        f"--service-account-key-file={credentials / 'service-account.pub'}",
        f"--service-account-signing-key-file={credentials / 'service-account.key'}",
        f"--service-cluster-ip-range={SERVICE_RANGE}",
        "--endpoint-reconciler-type=none",  # no node, no endpoints to reconcile
        "--profiling=false",
    ]


def _wait_for_default_account(plane: ControlPlane, timeout: float) -> None:
    """The controllers are working once the `default` namespace has its ServiceAccount."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if plane.processes["kube-controller-manager"].poll() is not None:
            raise ToolError(
                f"kube-controller-manager exited:\n{plane.log('kube-controller-manager')}"
            )
        if (
            plane.kubectl(
                "get", "serviceaccount", "default", "-n", "default", check=False
            ).returncode
            == 0
        ):
            return
        time.sleep(0.5)
    raise ToolError(
        f"no controller acted within {timeout}s:\n{plane.log('kube-controller-manager')}"
    )


# --- credentials: a CA, the server's certificate, the service-account key, the tokens ---------


def _write_credentials(work_dir: Path) -> Path:
    directory = work_dir / "credentials"
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "carenet-test-ca")])
    ca = _certificate(ca_name, ca_name, ca_key.public_key(), ca_key, is_ca=True)
    server_key = ec.generate_private_key(ec.SECP256R1())
    server = _certificate(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]),
        ca_name,
        server_key.public_key(),
        ca_key,
        is_ca=False,
        names=[
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.IPv4Network(SERVICE_RANGE)[1]),  # the `kubernetes` Service
            x509.DNSName("localhost"),
            *(
                x509.DNSName(n)
                for n in ("kubernetes", "kubernetes.default", "kubernetes.default.svc")
            ),
        ],
    )
    account_key = ec.generate_private_key(ec.SECP256R1())
    files = {
        "ca.crt": ca.public_bytes(serialization.Encoding.PEM),
        "apiserver.crt": server.public_bytes(serialization.Encoding.PEM),
        "apiserver.key": _private(server_key),
        "service-account.key": _private(account_key),
        "service-account.pub": account_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    }
    tokens = {"admin": secrets.token_hex(16), "controller-manager": secrets.token_hex(16)}
    files["tokens.csv"] = (
        f'{tokens["admin"]},admin,admin,"system:masters"\n'
        f"{tokens['controller-manager']},system:kube-controller-manager,kcm\n"
    ).encode()
    for name, token in tokens.items():
        files[f"{name}.token"] = token.encode()
    for name, content in files.items():
        path = directory / name
        path.write_bytes(content)
        path.chmod(0o600)
    return directory


def _certificate(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    signer: ec.EllipticCurvePrivateKey,
    *,
    is_ca: bool,
    names: Sequence[x509.GeneralName] = (),
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _private(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_kubeconfig(path: Path, server: str, credentials: Path, user: str) -> None:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "carenet-test",
                "cluster": {"server": server, "certificate-authority": str(credentials / "ca.crt")},
            }
        ],
        "users": [{"name": user, "user": {"tokenFile": str(credentials / f"{user}.token")}}],
        "contexts": [{"name": user, "context": {"cluster": "carenet-test", "user": user}}],
        "current-context": user,
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
