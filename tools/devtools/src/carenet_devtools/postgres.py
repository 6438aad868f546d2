"""Throwaway PostgreSQL clusters, so tests exercise the real eventsourcing.postgres recorder.

The server binaries come from Debian's ``postgresql`` package (``/usr/lib/postgresql/<ver>/bin``).
``initdb`` refuses to run as root, so as root every server command runs as the ``postgres``
system user, which must therefore own ``base_dir`` and be able to traverse its parents.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

SUPERUSER = "carenet"
SUPERUSER_PASSWORD = "carenet"  # noqa: S105 - a throwaway cluster on 127.0.0.1 only
SERVER_USER = "postgres"


@dataclass(frozen=True)
class PostgresCluster:
    """Connection details of a server; ``data_dir`` is set only for clusters we started."""

    host: str
    port: int
    user: str
    password: str
    dbname: str = "postgres"
    data_dir: Path | None = None

    @classmethod
    def from_dsn(cls, dsn: str) -> PostgresCluster:
        """An externally managed server (URI or key=value DSN); ``stop()`` leaves it alone."""
        params = conninfo_to_dict(dsn)
        return cls(
            host=str(params.get("host", "127.0.0.1")),
            port=int(params.get("port") or 5432),
            user=str(params.get("user", SERVER_USER)),
            password=str(params.get("password", "")),
            dbname=str(params.get("dbname", "postgres")),
        )

    @property
    def dsn(self) -> str:
        """DSN of the maintenance database, used to create and drop test databases."""
        return self.dsn_for(self.dbname)

    def dsn_for(self, dbname: str) -> str:
        """DSN of ``dbname`` on this server."""
        return make_conninfo(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password,
            dbname=dbname,
        )

    def eventsourcing_env(self, dbname: str) -> dict[str, str]:
        """Settings that point an ``eventsourcing.postgres`` application at ``dbname``."""
        return {
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password,
        }

    def stop(self) -> None:
        """Shut down a cluster started by ``start_cluster``; a no-op for external servers."""
        if self.data_dir is not None:
            _run_server_command("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w")

    def crash(self) -> None:
        """Stop a cluster started by ``start_cluster`` as a crash would (``-m immediate``: no
        checkpoint, every client cut off; it recovers from its WAL at the next start)."""
        _run_server_command("pg_ctl", "stop", "-D", str(self._data_dir), "-m", "immediate", "-w")

    def start(self) -> None:
        """Start again a cluster started by ``start_cluster`` and stopped since."""
        log_file = self._data_dir.parent / "postgres.log"
        _run_server_command(
            "pg_ctl", "start", "-D", str(self._data_dir), "-l", str(log_file), "-w", "-t", "60"
        )

    @property
    def _data_dir(self) -> Path:
        if self.data_dir is None:
            raise RuntimeError("only a cluster started here can be stopped and started")
        return self.data_dir


def start_cluster(base_dir: Path, port: int, durable: bool = False) -> PostgresCluster:
    """Create and start a cluster under ``base_dir`` listening on 127.0.0.1:``port`` only;
    without ``durable``, a commit does not wait for the disk (a crash may lose it).

    TCP connections need the password (scram-sha-256), as in production; the unix socket
    lives in ``base_dir`` so nothing touches /var/run/postgresql.
    """
    data_dir = base_dir / "data"
    password_file = base_dir / "superuser-password"
    password_file.write_text(SUPERUSER_PASSWORD)
    _give_to_server_user(base_dir, password_file)
    try:
        _run_server_command(
            "initdb", "-D", str(data_dir), "--username", SUPERUSER,
            "--pwfile", str(password_file), "--auth-local=trust",
            "--auth-host=scram-sha-256", "--encoding=UTF8", "--no-sync",
        )  # fmt: skip
    finally:
        password_file.unlink()
    with (data_dir / "postgresql.conf").open("a") as conf:
        conf.write(
            f"listen_addresses = '127.0.0.1'\nport = {port}\n"
            f"unix_socket_directories = '{base_dir}'\n"
        )
        if not durable:  # pointless for a throwaway cluster that never crashes; faster tests
            conf.write("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")
    log_file = base_dir / "postgres.log"
    _run_server_command(
        "pg_ctl", "start", "-D", str(data_dir), "-l", str(log_file), "-w", "-t", "60"
    )
    return PostgresCluster(
        host="127.0.0.1",
        port=port,
        user=SUPERUSER,
        password=SUPERUSER_PASSWORD,
        data_dir=data_dir,
    )


def create_database(cluster: PostgresCluster, name: str) -> None:
    """Create an empty database ``name``, owned by the cluster's user."""
    with psycopg.connect(cluster.dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(cluster: PostgresCluster, name: str) -> None:
    """Drop ``name``, even if an application left pooled connections open to it."""
    with psycopg.connect(cluster.dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def _bindir() -> Path:
    """Newest Debian server bindir, else wherever ``initdb`` is on PATH."""
    debian = sorted(
        Path("/usr/lib/postgresql").glob("[0-9]*/bin/initdb"),
        key=lambda initdb: float(initdb.parts[-3]),  # "9.6", "15", ...
    )
    if debian:
        return debian[-1].parent
    if initdb := shutil.which("initdb"):
        return Path(initdb).parent
    raise RuntimeError(
        "PostgreSQL server binaries not found; install them: apt-get install -y postgresql"
    )


def _give_to_server_user(*paths: Path) -> None:
    """As root, hand ``paths`` to the server user, which runs initdb and the server."""
    if os.geteuid() == 0:
        owner = pwd.getpwnam(SERVER_USER)
        for path in paths:
            os.chown(path, owner.pw_uid, owner.pw_gid)


def _run_server_command(program: str, *args: str) -> None:
    """Run a server binary, as the ``postgres`` user when we are root, raising with its output."""
    command = [str(_bindir() / program), *args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", SERVER_USER, "--", *command]
    # cwd=/ because the server user may not be able to read the caller's working directory.
    result = subprocess.run(  # noqa: S603 - PostgreSQL's own binaries, our arguments
        command, cwd="/", capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )
