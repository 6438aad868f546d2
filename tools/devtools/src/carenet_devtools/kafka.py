"""A real Apache Kafka broker for development and tests, run from jars fetched from Maven Central.

There is no Docker engine on the build machines and no download site other than the package
registries, so the broker's jars come from Maven Central (`tools/kafka/pom.xml`) and the broker
runs as a plain JVM process: single node, KRaft, bound to 127.0.0.1 only, and with
`auto.create.topics.enable=false` so that every topic comes from the one topic spec
(`deploy/topics.yaml`), exactly as in production.

Secured mode (`start(..., admin=...)`) is the production access model on one node: clients
authenticate with SASL/SCRAM-SHA-512 on a SASL_PLAINTEXT listener, the KRaft
`StandardAuthorizer` refuses whatever no ACL allows (`allow.everyone.if.no.acl.found=false`),
and only the admin super-user, created when the storage is formatted, may do anything else:
create topics, users and ACLs (`carenet_devtools.access`).
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_fixed

from carenet_devtools.cache import ToolError, cached, default_cache_dir, run
from carenet_kit.kafka_security import KafkaSecurity
from carenet_kit.topics import Profile, load_catalog

POM = Path(__file__).resolve().parents[3] / "kafka" / "pom.xml"
PID_FILE = "broker.pid"
LOG_FILE = "broker.log"
MODE_FILE = "mode"
"""`plain` or `secured`: what the storage was formatted for (the admin user exists or not)."""
T = TypeVar("T")

# reload4j logs nothing without a configuration; send everything to stdout, i.e. LOG_FILE.
LOG4J = """\
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
"""

# Brokers started by this process: polling them reaps them once they exit.
_started: dict[int, subprocess.Popen[bytes]] = {}


class BrokerError(ToolError):
    """The broker could not be fetched, formatted, started or configured."""


def _kafka_version() -> str:
    """The Kafka version is written once, in the pom that fetches it."""
    if found := re.search(r"<kafka\.version>(.+?)</kafka\.version>", POM.read_text()):
        return found[1]
    raise BrokerError(f"{POM} does not set the kafka.version property")


KAFKA_VERSION = _kafka_version()


def ensure_jars(cache_dir: Path) -> Path:
    """Fetch Kafka and its runtime dependencies with Maven once; return the directory of jars."""

    def fetch(staging: Path) -> None:
        maven = ["mvn", "-q", "-B", "-f", str(POM), "dependency:copy-dependencies"]
        run([*maven, "-DincludeScope=runtime", f"-DoutputDirectory={staging}"], "fetching Kafka")

    return cached(cache_dir / f"kafka-{KAFKA_VERSION}" / "libs", fetch)


@dataclass(frozen=True)
class Quorum:
    """A node's place in a cluster of several (`carenet_devtools.kafka_cluster`)."""

    node_id: int
    voters: str
    """Every node's controller: `1@127.0.0.1:port,2@...`."""
    cluster_id: str
    replication: int
    """The internal topics' replication, and `min.insync.replicas` one less."""


def start(
    work_dir: Path,
    port: int = 9092,
    controller_port: int = 9093,
    *,
    libs: Path | None = None,
    timeout: float = 90.0,
    admin: KafkaSecurity | None = None,
    quorum: Quorum | None = None,
) -> str:
    """Start a detached single-node broker keeping its data in `work_dir`; return its address.

    The broker runs in its own session so it outlives the caller (`carenet-dev kafka up`), and is
    found again through the pid file in `work_dir`. Storage is formatted only once (a new cluster
    id would not match the existing data), so topics and records survive `stop` / `start`.
    Blocks, running its own event loop, until the broker answers metadata requests; if it does
    not within `timeout`, stops it and raises `BrokerError` quoting the broker's log.
    With `admin` (a SASL/SCRAM-SHA-512 user), the broker runs secured, that user its only
    super-user; the user is created when the storage is formatted, so the first `start` decides
    the admin's password. With `quorum`, the broker is one node of a cluster (plain only), and is
    ready once the cluster is: start the others at the same time.
    """
    if is_running(work_dir):
        raise BrokerError(f"a broker is already running from {work_dir}")
    libs = libs or ensure_jars(default_cache_dir())
    work_dir.mkdir(parents=True, exist_ok=True)
    work_dir = work_dir.resolve()
    mode, formatted_mode = ("plain" if admin is None else "secured"), work_dir / MODE_FILE
    if formatted_mode.exists() and formatted_mode.read_text() != mode:
        raise BrokerError(
            f"{work_dir} holds a {formatted_mode.read_text()} broker's data; "
            f"a {mode} one needs a work dir of its own"
        )
    properties = work_dir / "server.properties"
    properties.touch(mode=0o600)  # a secured broker's file holds the admin's password
    properties.write_text(
        _server_properties(work_dir / "data", port, controller_port, admin, quorum)
    )
    (work_dir / "log4j.properties").write_text(LOG4J)
    java = ["java", "-cp", f"{libs}/*", f"-Dlog4j.configuration=file:{work_dir}/log4j.properties"]
    if not (work_dir / "data" / "meta.properties").exists():
        storage_tool = [*java, "kafka.tools.StorageTool", "format", "-c", str(properties)]
        if admin is not None:
            scram = f"SCRAM-SHA-512=[name={admin.username},password={admin.password}]"
            storage_tool += ["--add-scram", scram]
        cluster_id = quorum.cluster_id if quorum else new_cluster_id()
        run([*storage_tool, "-t", cluster_id], "formatting the broker's storage")
        formatted_mode.write_text(mode)
    with (work_dir / LOG_FILE).open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 - our own argv, no shell
            [*java, "-Xmx512m", "kafka.Kafka", str(properties)],
            cwd=work_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _started[process.pid] = process
    (work_dir / PID_FILE).write_text(str(process.pid))
    bootstrap = f"127.0.0.1:{port}"
    try:
        run_sync(_wait_until_ready(port, process, timeout, admin or KafkaSecurity()))
    except Exception as error:
        stop(work_dir)
        raise BrokerError(
            f"no broker at {bootstrap} ({error!r}); {_log_excerpt(work_dir)}"
        ) from error
    return bootstrap


def stop(work_dir: Path, timeout: float = 30.0) -> None:
    """Stop the broker started from `work_dir`: SIGTERM (clean shutdown), SIGKILL on `timeout`."""
    pid = _running_pid(work_dir)
    if pid is not None:
        properties = work_dir.resolve() / "server.properties"
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid, properties) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(pid, properties):
            os.kill(pid, signal.SIGKILL)
            while _alive(pid, properties):
                time.sleep(0.1)
        _started.pop(pid, None)
    (work_dir / PID_FILE).unlink(missing_ok=True)


def is_running(work_dir: Path) -> bool:
    """Whether the broker whose pid file is in `work_dir` is still alive."""
    return _running_pid(work_dir) is not None


async def create_topics(
    bootstrap: str,
    profile: Profile = "local",
    namespace: str = "",
    security: KafkaSecurity | None = None,
) -> list[str]:
    """Create every topic of the topic spec with the profile's replication; return those created.

    Idempotent: topics that already exist are left as they are (their settings are not changed).
    A `namespace` prefixes every name (`CARENET_TOPIC_NAMESPACE`), to isolate test runs.
    On a secured broker, `security` is the admin's.
    """
    catalog = load_catalog()
    replication = catalog.profiles[profile].replication_factor
    new_topics = [
        NewTopic(
            namespace + t.name,
            t.partitions,
            replication,
            topic_configs=catalog.config_for(t, profile),
        )
        for t in catalog.topics
    ]
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, **(security or KafkaSecurity()).client_options()
    )
    await admin.start()
    try:
        response = await admin.create_topics(new_topics)
    finally:
        await admin.close()
    created: list[str] = []
    for name, code, *message in response.topic_errors:
        error = for_code(code)
        if code == 0:
            created.append(name)
        elif error is not TopicAlreadyExistsError:
            raise BrokerError(f"creating topic {name} failed: {error.__name__} {message}")
    return created


async def delete_topics(bootstrap: str, namespace: str) -> list[str]:
    """Delete every topic of the topic spec in `namespace` (a benchmark's, once measured);
    return those deleted. The broker removes their files a minute later."""
    catalog = load_catalog()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = set(await admin.list_topics()) & {namespace + t.name for t in catalog.topics}
        if names:
            await admin.delete_topics(sorted(names))
    finally:
        await admin.close()
    return sorted(names)


def run_sync(coro: Coroutine[object, object, T]) -> T:
    """Run `coro` to completion on a private event loop, from synchronous code.

    Unlike `asyncio.run`, this leaves the thread's current event loop alone: `asyncio.run` resets
    it to None afterwards, which would pull the loop from under pytest-asyncio's session runner.
    """
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        return runner.run(coro)


def _server_properties(
    data_dir: Path,
    port: int,
    controller_port: int,
    admin: KafkaSecurity | None = None,
    quorum: Quorum | None = None,
) -> str:
    """KRaft on loopback, a single node unless `quorum` says otherwise; replication settings
    the cluster can satisfy; never an unclean leader election."""
    listeners = (
        f"""\
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
"""
        if admin is None
        else _secured_listeners(port, controller_port, admin)
    )
    quorum = quorum or Quorum(1, f"1@127.0.0.1:{controller_port}", "", 1)
    return f"""\
process.roles=broker,controller
node.id={quorum.node_id}
controller.quorum.voters={quorum.voters}
controller.listener.names=CONTROLLER
{listeners}log.dirs={data_dir}
auto.create.topics.enable=false
unclean.leader.election.enable=false
offsets.topic.replication.factor={quorum.replication}
transaction.state.log.replication.factor={quorum.replication}
transaction.state.log.min.isr={max(quorum.replication - 1, 1)}
min.insync.replicas={max(quorum.replication - 1, 1)}
group.initial.rebalance.delay.ms=0
"""


def _secured_listeners(port: int, controller_port: int, admin: KafkaSecurity) -> str:
    """SASL/SCRAM for clients and the broker itself, PLAIN (a static user) for the controller.

    The controller listener cannot use SCRAM: the controller needs it before it has read the
    credentials from the metadata log. Both listeners are loopback only.
    """
    if admin.mechanism != "SCRAM-SHA-512" or not (admin.username and admin.password):
        raise BrokerError("a secured broker's admin is a SCRAM-SHA-512 user with a password")
    user, password = admin.username, admin.password
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", user + password):
        raise BrokerError("the admin's name and password: letters, digits, '_', '.', '-' only")
    scram = "org.apache.kafka.common.security.scram.ScramLoginModule"
    plain = "org.apache.kafka.common.security.plain.PlainLoginModule"
    return f"""listeners=SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=SASL_PLAINTEXT://127.0.0.1:{port}
listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT
inter.broker.listener.name=SASL_PLAINTEXT
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
sasl.mechanism.controller.protocol=PLAIN
listener.name.sasl_plaintext.sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config={scram} required \
    username="{user}" password="{password}";
listener.name.controller.plain.sasl.jaas.config={plain} required \
    username="{user}" password="{password}" user_{user}="{password}";
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:{user}
"""


def new_cluster_id() -> str:
    """A random Kafka Uuid as Kafka writes it: URL-safe base64, no padding, no leading '-'."""
    cluster_id = "-"
    while cluster_id.startswith("-"):
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    return cluster_id


async def _wait_until_ready(
    port: int, process: subprocess.Popen[bytes], timeout: float, security: KafkaSecurity
) -> None:
    """Retry a metadata request until the broker lists itself; give up at once if the JVM exits.

    A plain TCP connect comes first because aiokafka logs every refused connection as an error.
    """
    async for attempt in AsyncRetrying(
        stop=stop_after_delay(timeout),
        wait=wait_fixed(0.5),
        retry=retry_if_exception_type((KafkaError, OSError)),
        reraise=True,
    ):
        with attempt:
            if process.poll() is not None:
                raise BrokerError(f"the JVM exited with status {process.returncode}")
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            admin = AIOKafkaAdminClient(
                bootstrap_servers=f"127.0.0.1:{port}",
                request_timeout_ms=5000,
                **security.client_options(),
            )
            try:
                await admin.start()
                if not (await admin.describe_cluster())["brokers"]:
                    raise KafkaError("no broker registered yet")
            finally:
                await admin.close()


def _running_pid(work_dir: Path) -> int | None:
    try:
        pid = int((work_dir / PID_FILE).read_text())
    except FileNotFoundError:
        return None
    return pid if _alive(pid, work_dir.resolve() / "server.properties") else None


def _alive(pid: int, properties: Path) -> bool:
    """Whether `pid` is the broker started with `properties`. A broker killed while its
    starter still runs (`make run`) stays a zombie until reaped, and a pid file outlives a
    reboot, its pid then another process's: neither is a running broker."""
    if (process := _started.get(pid)) is not None:
        return process.poll() is None
    if not Path("/proc").is_dir():  # no procfs (macOS): the pid is all there is to go by
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    try:  # started by another process, e.g. an earlier `carenet-dev kafka up`
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False
    return state not in ("Z", "X") and str(properties).encode() in arguments


def _log_excerpt(work_dir: Path, count: int = 40) -> str:
    """The log from its first error (the cause, before pages of shutdown), else its end."""
    lines = (work_dir / LOG_FILE).read_text(errors="replace").splitlines()
    first_error = next(
        (i for i, line in enumerate(lines) if "] ERROR " in line), len(lines) - count
    )
    excerpt = lines[max(first_error, 0) :][:count]
    return f"from {work_dir / LOG_FILE}:\n" + "\n".join(excerpt)
