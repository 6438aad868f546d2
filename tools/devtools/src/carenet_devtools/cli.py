"""`carenet-dev`: the commands that prepare a developer's or a CI machine to run CareNet."""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
from pathlib import Path
from typing import Annotated

import typer
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from rich.console import Console
from rich.table import Table

from carenet_contracts.schema import export
from carenet_devtools import (
    access,
    asyncapi,
    control_plane,
    dead_letters,
    kafka,
    kafka_cluster,
    kubernetes,
)
from carenet_devtools.cache import ToolError, default_cache_dir
from carenet_devtools.issuer import DevIssuer, demo_users
from carenet_devtools.services import service_processes
from carenet_devtools.topics import read_records
from carenet_kit.kafka_security import KafkaSecurity, SecurityProtocol
from carenet_kit.signing import Signer
from carenet_kit.topics import DEAD_LETTER_TOPIC

app = typer.Typer(help="CareNet developer tools.", no_args_is_help=True)
kafka_app = typer.Typer(
    help="A local Kafka broker, or a cluster (--brokers): KRaft, 127.0.0.1 only.",
    no_args_is_help=True,
)
app.add_typer(kafka_app, name="kafka")

console = Console()

WorkDir = Annotated[
    Path, typer.Option(help="The broker's config, data, log and pid file (relative to the cwd).")
]
DEFAULT_WORK_DIR = Path(".run/kafka")
ADMIN_USER = "admin"
Secured = Annotated[
    bool,
    typer.Option(
        help="SASL/SCRAM-SHA-512 and ACLs: the admin's password is WORK_DIR/admin.password, "
        "the services' users and ACLs come from `carenet-dev kafka-acls`."
    ),
]
DEMO_SMTP_PORT = 8025
"""`run`'s mail catcher: notifications' e-mails land in a Maildir under the run dir."""


def admin_security(work_dir: Path) -> KafkaSecurity:
    """The secured broker's admin super-user; its password is made on first use."""
    path = work_dir / "admin.password"
    if not path.exists():
        work_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(16))
    return KafkaSecurity("SASL_PLAINTEXT", username=ADMIN_USER, password=path.read_text().strip())


@kafka_app.command()
def up(
    work_dir: WorkDir = DEFAULT_WORK_DIR,
    port: int = 9092,
    controller_port: int = 9093,
    secured: Secured = False,
    brokers: Annotated[
        int,
        typer.Option(
            min=1,
            help="More than 1: a cluster of that many nodes on free ports (kept in "
            "WORK_DIR/cluster.json), topics with 3 replicas and min.insync.replicas=2.",
        ),
    ] = 1,
) -> None:
    """Fetch Kafka once, start the broker unless it runs already, and create the topics."""
    if brokers > 1:
        if secured:
            raise typer.BadParameter("a local cluster runs plain", param_hint="--secured")
        _cluster_up(work_dir, brokers)
        return
    bootstrap = f"127.0.0.1:{port}"
    admin = admin_security(work_dir) if secured else None
    try:
        if kafka.is_running(work_dir):
            console.print(f"Kafka is already running from {work_dir}")
        else:
            with console.status(f"Fetching Kafka {kafka.KAFKA_VERSION} (first run only)"):
                libs = kafka.ensure_jars(default_cache_dir())
            with console.status(f"Starting Kafka {kafka.KAFKA_VERSION}"):
                kafka.start(work_dir, port, controller_port, libs=libs, admin=admin)
        created = kafka.run_sync(kafka.create_topics(bootstrap, security=admin))
    except ToolError as error:  # the broker's, or fetching it
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    console.print(f"Topics created: {', '.join(created) or 'none (all exist)'}")
    console.print(f"Kafka is up: [bold green]{bootstrap}[/bold green] (log: {work_dir}/broker.log)")


def _cluster_up(work_dir: Path, brokers: int) -> None:
    nodes = kafka_cluster.cluster(work_dir, brokers)
    try:
        with console.status(f"Starting {len(nodes.nodes)} Kafka nodes"):
            nodes.start()
        created = kafka.run_sync(kafka.create_topics(nodes.bootstrap, profile="production"))
    except ToolError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    console.print(f"Topics created: {', '.join(created) or 'none (all exist)'}")
    console.print(
        f"Kafka is up: [bold green]{nodes.bootstrap}[/bold green] (logs: {work_dir}/node-*)"
    )


@kafka_app.command()
def down(work_dir: WorkDir = DEFAULT_WORK_DIR) -> None:
    """Stop the broker (or every node of a cluster); the data stays for the next `up`."""
    if (work_dir / kafka_cluster.SETTINGS_FILE).exists():
        kafka_cluster.cluster(work_dir).stop()
        console.print("Kafka cluster stopped")
        return
    running = kafka.is_running(work_dir)
    kafka.stop(work_dir)
    console.print("Kafka stopped" if running else "Kafka was not running")


@app.command()
def run(
    run_dir: Annotated[Path, typer.Option(help="Kafka, data and logs of this run.")] = Path(".run"),
    secured: Annotated[
        bool,
        typer.Option(
            help="Kafka with SASL/SCRAM and ACLs (in RUN_DIR/kafka-secured): every service "
            "connects as its own user and may use only what deploy/topics.yaml gives it."
        ),
    ] = False,
) -> None:
    """Run the whole system: Kafka and the five services, embedded storage, demo directory."""
    kafka_dir = run_dir / ("kafka-secured" if secured else "kafka")
    up(kafka_dir, secured=secured)
    env_of: dict[str, dict[str, str]] = {}
    if secured:
        kafka_acls(work_dir=kafka_dir)
        passwords = access.service_passwords(kafka_dir / "users")
        env_of = {
            service: access.service_env(service, "127.0.0.1:9092", password)
            for service, password in passwords.items()
        }
    mail_catcher = Controller(Mailbox(run_dir / "mail"), hostname="127.0.0.1", port=DEMO_SMTP_PORT)
    mail_catcher.start()
    processes = service_processes(
        run_dir,
        {"CARENET_KAFKA_BOOTSTRAP": "127.0.0.1:9092", "CARENET_SMTP_PORT": str(DEMO_SMTP_PORT)},
        env_of=env_of,
    )
    try:
        with console.status("Starting intake, routing, casework, notifications and audit"):
            for process in processes.values():
                process.start()
            for process in processes.values():
                process.wait_ready()
        console.print("[bold]CareNet is running[/bold] (Ctrl-C stops the services; Kafka stays up)")
        for name, process in processes.items():
            console.print(
                f"  {name:<14} {process.url}  docs: {process.url}/docs  log: {process.log_path}",
                soft_wrap=True,
            )
        console.print(
            f"  e-mails        {run_dir / 'mail'} (a Maildir; SMTP 127.0.0.1:{DEMO_SMTP_PORT})"
        )
        console.print("Walk a patient through the pathway: see README.md, 'A patient by hand'.")
        stop_signals = {signal.SIGINT, signal.SIGTERM}
        signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
        signal.sigwait(stop_signals)
    finally:
        for process in processes.values():
            process.stop()
        mail_catcher.stop()
        console.print("Services stopped. `make kafka-down` stops Kafka.")


@app.command()
def schemas() -> None:
    """Export every contract's JSON Schema to contracts/schemas/ (commit the result)."""
    for path in export():
        console.print(f"wrote contracts/schemas/{path.name}")


@app.command("asyncapi")
def asyncapi_document() -> None:
    """Write contracts/asyncapi.yaml (AsyncAPI 3.0) from the contracts and the topics."""
    path = asyncapi.write()
    console.print(f"wrote contracts/{path.name}")


@app.command()
def strimzi() -> None:
    """Write deploy/kubernetes/strimzi/ (KafkaTopic and KafkaUser resources for each profile)
    from deploy/topics.yaml (commit the result)."""
    for path in kubernetes.write():
        console.print(f"wrote {path.relative_to(kubernetes.REPO)}")


@app.command("deploy-tools")
def deploy_tools() -> None:
    """Build or fetch, once per version, what the deployment tests use (`make deploy-tools`):
    kustomize, the CRDs (Strimzi's, KEDA's, the Prometheus Operator's) and the control plane
    (etcd, kube-apiserver, kube-controller-manager, kubectl), into the cache."""
    started = time.perf_counter()
    try:
        tools = (*kubernetes.ensure_tools(), control_plane.ensure_binaries(default_cache_dir()))
    except ToolError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(1) from error
    for path in tools:
        console.print(path)
    console.print(f"deployment tools ready in {time.perf_counter() - started:.0f}s")


@app.command()
def token(
    user: Annotated[
        str, typer.Argument(help="A demo user (reference/demo-users.yaml), e.g. SW-NS-LI.")
    ],
    org: Annotated[str | None, typer.Option(help="Another organisation than the user's.")] = None,
    role: Annotated[str | None, typer.Option(help="Another role than the user's.")] = None,
    minutes: Annotated[float, typer.Option(help="How long the token is valid.")] = 60,
    run_dir: Annotated[Path, typer.Option(help="The run whose issuer signs.")] = Path(".run"),
) -> None:
    """Print a bearer token from the run's development issuer (for curl's Authorization).

    A demo user's organisation and role come from reference/demo-users.yaml; any other user
    needs both `--org` and `--role`."""
    demo = demo_users().get(user)
    if demo is not None:
        org, role = org or demo.org, role or demo.role
    if org is None or role is None:
        raise typer.BadParameter(
            f"{user} is no demo user: give --org and --role", param_hint="USER"
        )
    typer.echo(DevIssuer(run_dir / "keys").token(user, org, role, minutes))


@app.command("public-key")
def public_key(
    pem: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="An Ed25519 private key (PKCS#8 PEM)."),
    ],
    producer: Annotated[str, typer.Option(help="The producer (service) it signs for.")],
    key_id: Annotated[str, typer.Option(help="Its key id, as in CARENET_SIGNING_KEY_ID.")],
) -> None:
    """Print a signing key's public key as a member of the network's key set (a JWK), to add
    to the key set every service trusts before the producer signs with it."""
    signer = Signer.from_pem(pem.read_text(), key_id, producer)
    typer.echo(json.dumps(signer.public_jwk(), indent=2))


@app.command("kafka-acls")
def kafka_acls(
    bootstrap: str = "127.0.0.1:9092",
    work_dir: WorkDir = DEFAULT_WORK_DIR,
    namespace: Annotated[
        str, typer.Option(help="Topic and group prefix (CARENET_TOPIC_NAMESPACE).")
    ] = "",
) -> None:
    """Create each service's SCRAM user and ACLs (deploy/topics.yaml `access`) on a secured
    broker (`carenet-dev kafka up --secured`); passwords are kept in WORK_DIR/users."""
    users_dir = work_dir / "users"
    applied = access.apply_access(
        bootstrap, admin_security(work_dir), access.service_passwords(users_dir), namespace
    )
    console.print(
        f"Users {', '.join(applied.users)}: {applied.created} ACLs created, "
        f"{applied.deleted} removed; passwords in {users_dir}/<user>.password"
    )
    console.print(
        "A service connects with CARENET_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT, "
        "CARENET_KAFKA_USERNAME=carenet-<service> and CARENET_KAFKA_PASSWORD=<its password>."
    )


@app.command("dead-letters")
def dead_letters_summary(
    bootstrap: str = "127.0.0.1:9092",
    namespace: Annotated[
        str, typer.Option(help="Topic and group prefix (CARENET_TOPIC_NAMESPACE).")
    ] = "",
    security_protocol: Annotated[
        str, typer.Option(help="PLAINTEXT, SASL_PLAINTEXT or SASL_SSL.")
    ] = "PLAINTEXT",
    username: Annotated[
        str | None,
        typer.Option(help="A SCRAM user allowed to read the dead-letter topic (an operator's)."),
    ] = None,
    password_env: Annotated[
        str, typer.Option(help="The environment variable that holds that user's password.")
    ] = "CARENET_KAFKA_PASSWORD",  # noqa: S107 - the variable's name, not a password
    cafile: Annotated[Path | None, typer.Option(help="The brokers' CA (SASL_SSL).")] = None,
    positions: Annotated[
        bool, typer.Option(help="Also list every dead letter's source position.")
    ] = False,
) -> None:
    """Summarise the dead-letter topic: how many messages each consumer gave up on, from which
    topic, why (first line of the reason; for a message refused unverified, the kind:
    forged, misplaced, oversized, gap, repeat, ...), first and last time. Prints no message
    content."""
    protocol: SecurityProtocol = security_protocol  # type: ignore[assignment]  # checked below
    if protocol not in ("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"):
        raise typer.BadParameter(security_protocol, param_hint="--security-protocol")
    password = os.environ.get(password_env) if username else None
    security = KafkaSecurity(protocol, username=username, password=password, cafile=cafile)
    records = kafka.run_sync(read_records(bootstrap, namespace + DEAD_LETTER_TOPIC, security))
    groups = dead_letters.summarise(records, namespace)
    table = Table("consumer", "source topic", "reason", "count", "first", "last")
    for group in groups:
        table.add_row(
            group.consumer,
            group.topic,
            group.reason,
            str(len(group.letters)),
            f"{group.first.dead_lettered_at:%Y-%m-%d %H:%M:%SZ}",
            f"{group.last.dead_lettered_at:%Y-%m-%d %H:%M:%SZ}",
        )
    console.print(table)
    copies = sum(group.copies for group in groups)
    console.print(
        f"{len(records) - copies} dead letters on {namespace + DEAD_LETTER_TOPIC}"
        + (f" ({copies} sent again after a crash, counted once)" if copies else "")
    )
    if positions:
        for group in groups:
            for letter in group.letters:
                console.print(
                    f"{group.consumer}  {letter.source}  (dead letter {letter.offset})  "
                    f"{letter.reason}",
                    markup=False,
                )


@kafka_app.command()
def topics(bootstrap: str = "127.0.0.1:9092") -> None:
    """Create the topics of deploy/topics.yaml (local profile) on a running broker."""
    created = kafka.run_sync(kafka.create_topics(bootstrap))
    console.print(f"Topics created: {', '.join(created) or 'none (all exist)'}")


if __name__ == "__main__":
    app()
