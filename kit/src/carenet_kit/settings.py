"""Settings every service shares, from the environment only (prefix `CARENET_`)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar, Literal

import psycopg
import structlog
from psycopg import sql
from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from carenet_kit.admission import Gate
from carenet_kit.auth import DEFAULT_ALGORITHMS, LEEWAY_SECONDS, KeySource, TokenVerifier
from carenet_kit.fail_points import FailPoints
from carenet_kit.kafka_security import KafkaSecurity, SaslMechanism, SecurityProtocol
from carenet_kit.keystore import DEVELOPMENT_MASTER_KEY, master_key
from carenet_kit.lease import FileLease, Lease, PostgresLease
from carenet_kit.plausibility import DEFAULT_CLOCK_TOLERANCE
from carenet_kit.read_model_snapshots import SnapshotSchedule
from carenet_kit.reference_data import DEFAULT_REFERENCE_FILE
from carenet_kit.rule_set import DEFAULT_RULE_SET_FILE
from carenet_kit.topics import CHECKPOINT_TOPIC, DEAD_LETTER_TOPIC, Profile, load_catalog

log = structlog.get_logger()

DEVELOPMENT_ISSUER = "urn:carenet:development-issuer"
"""The issuer of `carenet-dev token`; production settings refuse it."""


class ServiceSettings(BaseSettings):
    """Typed, validated at start-up; a service's `config.py` subclasses it."""

    model_config = SettingsConfigDict(env_prefix="CARENET_", frozen=True, extra="ignore")

    service: ClassVar[str]

    environment: Literal["development", "production"] = "development"
    data_dir: Path = Path(".run/data")
    persistence: Literal["sqlite", "postgres"] = "sqlite"
    postgres_host: str = "127.0.0.1"
    postgres_port: int = 5432
    postgres_user: str = "carenet"
    postgres_password: SecretStr = SecretStr("")
    postgres_dbname: str = "carenet"
    postgres_connect_timeout_seconds: int = Field(default=5, ge=1)
    """How long a store call waits for a connection of the pool (the library tries a call ten
    times, so a call outlasts an outage of about ten times this before it fails)."""
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    """PLAINTEXT only for the loopback development broker; SASL_SSL (or SASL_PLAINTEXT inside
    an encrypted network) wherever the brokers enforce ACLs."""
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    kafka_username: str | None = None
    """The service's principal on the brokers (`carenet-<service>`, see deploy/topics.yaml)."""
    kafka_password: SecretStr | None = None
    kafka_ssl_cafile: Path | None = None
    """The CA of the brokers' certificates for SASL_SSL (e.g. Strimzi's cluster CA)."""
    topic_profile: Profile = "local"
    topic_namespace: str = ""
    """Prefix of every topic and consumer group name: isolates test runs on one broker."""
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    """The largest request body accepted (`CARENET_MAX_BODY_BYTES`); a larger one gets 413,
    whatever `Content-Length` says or when it is sent chunked without one."""
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    relay_poll_seconds: float = 0.05
    relay_lease_seconds: float = Field(default=1.0, gt=0)
    """How often a standby replica's relay tries to take the lease of the one that publishes."""
    relay_checkpoint_every: int = Field(default=1_000, gt=0)
    """The relay signs a checkpoint of a partition after this many messages on it..."""
    relay_checkpoint_seconds: float = Field(default=10.0, gt=0)
    """...or once its oldest message not yet checkpointed is this old: a stream cut short
    after its last checkpoint loses at most this much unnoticed (`carenet_kit.checkpoints`)."""
    consumer_session_timeout_seconds: float = Field(default=30.0, ge=6)
    """How long the consumer group waits for a silent member before giving its partitions to
    the other replicas (Kafka's `session.timeout.ms`): the failover time after a crash."""
    read_model_snapshot_every: int = Field(default=10_000, gt=0)
    """A service's in-memory read models (the watches of what falls due) are stored with their
    positions after this many events... (`carenet_kit.projection`)"""
    read_model_snapshot_seconds: float = Field(default=600.0, gt=0)
    """...or this long after the last snapshot, if anything new was applied: what a start after
    a crash applies again from the store. Each snapshot serialises the whole read model."""
    scheduler_seconds: float = 5.0
    """How often a service with deadlines looks for what has fallen due."""
    consumer_lag_seconds: float = Field(default=10.0, gt=0)
    """How often the inbound consumer group's lag is sampled for `GET /metrics`."""
    reference_file: Path = DEFAULT_REFERENCE_FILE
    """The hospitals and centers the network starts from (`carenet_kit.reference_data`)."""
    rule_set_file: Path = DEFAULT_RULE_SET_FILE
    """The care-pathway rule set in force (`carenet_kit.rule_set`): every service with rules
    reads its own section of this one file."""
    clock_tolerance_seconds: float = Field(
        default=DEFAULT_CLOCK_TOLERANCE.total_seconds(), ge=0, le=3600
    )
    """How far a caller's clock may run ahead of the service's: a date or moment stated later
    than that is refused as in the future (`carenet_kit.plausibility`)."""
    signing_key: SecretStr | None = None
    """The service's Ed25519 private key (PKCS#8 PEM) that signs every message it publishes."""
    signing_key_id: str | None = None
    """That key's id in the published key set (`kid`); a new id for every new key."""
    trusted_keys: Path | None = None
    """The network's key set (a JWKS file: every producer's public keys, current and retired).
    The service acts only on messages signed with one of them, by the producer the key speaks
    for (`carenet_kit.admission`); read at start, so a new key needs a restart. Unset
    (development only: production refuses to start) the service acts on no message at all."""
    auth_jwks: str | None = None
    """The token issuer's public keys (JWKS): a file path or an https URL of the OIDC provider.
    Unset: the service authenticates nobody, so every endpoint that needs a caller answers 401."""
    auth_issuer: str = DEVELOPMENT_ISSUER
    auth_audience: str = "carenet"
    auth_algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    auth_organisation_claim: str = "org"
    auth_role_claim: str = "role"
    auth_leeway_seconds: int = Field(default=LEEWAY_SECONDS, ge=0, le=300)
    """The clock skew allowed between the token issuer and the service (`exp`, `nbf`, `iat`)."""

    fail_points: str = ""
    """Fault tests only: where the process dies ("relay.acknowledged:3,...";
    `carenet_kit.fail_points`). Production refuses to start with any."""
    unguarded: str = ""
    """Fault tests' negative controls only: guards turned off ("relay-skip"). Production
    refuses to start with any."""

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> ServiceSettings:
        self.kafka_security()  # SASL without a username or password is refused here
        self.armed_fail_points()  # an unknown fail point or guard is refused here
        if self.environment == "production" and (self.fail_points or self.unguarded):
            raise ValueError(
                "production has no fail points and turns no guard off: unset "
                "CARENET_FAIL_POINTS and CARENET_UNGUARDED"
            )
        if self.environment == "production" and self.kafka_security_protocol == "PLAINTEXT":
            raise ValueError(
                "production authenticates to Kafka: set CARENET_KAFKA_SECURITY_PROTOCOL "
                "(SASL_SSL), CARENET_KAFKA_USERNAME and CARENET_KAFKA_PASSWORD"
            )
        if self.environment == "production" and self.persistence != "postgres":
            raise ValueError("production runs on PostgreSQL (CARENET_PERSISTENCE=postgres)")
        if self.environment == "production" and not (self.signing_key and self.signing_key_id):
            raise ValueError(
                "production signs its events: set CARENET_SIGNING_KEY and CARENET_SIGNING_KEY_ID"
            )
        if self.environment == "production" and self.trusted_keys is None:
            raise ValueError(
                "production verifies every message it consumes: set CARENET_TRUSTED_KEYS"
            )
        if self.environment == "production" and not self.auth_jwks:
            raise ValueError("production authenticates every caller: set CARENET_AUTH_JWKS")
        if self.environment == "production" and self.auth_issuer == DEVELOPMENT_ISSUER:
            raise ValueError("production trusts a real OIDC issuer (CARENET_AUTH_ISSUER)")
        return self

    def armed_fail_points(self) -> FailPoints:
        return FailPoints.parse(self.fail_points, self.unguarded)

    @property
    def clock_tolerance(self) -> timedelta:
        return timedelta(seconds=self.clock_tolerance_seconds)

    def token_verifier(self) -> TokenVerifier | None:
        """How callers are authenticated, if an issuer's key set is configured."""
        if self.auth_jwks is None:
            return None
        return TokenVerifier(
            KeySource(self.auth_jwks),
            issuer=self.auth_issuer,
            audience=self.auth_audience,
            algorithms=self.auth_algorithms,
            organisation_claim=self.auth_organisation_claim,
            role_claim=self.auth_role_claim,
            leeway_seconds=self.auth_leeway_seconds,
        )

    def snapshot_schedule(self) -> SnapshotSchedule:
        """When the service's read models store their snapshots."""
        return SnapshotSchedule(self.read_model_snapshot_every, self.read_model_snapshot_seconds)

    def gate(self) -> Gate:
        """A reader's admission of messages, with the network's key set."""
        if self.trusted_keys is None:
            log.warning("no trusted key set (CARENET_TRUSTED_KEYS): no message will be acted on")
            return Gate(None, self.topic_namespace)
        return Gate(json.loads(self.trusted_keys.read_text()), self.topic_namespace)

    def kafka_security(self) -> KafkaSecurity:
        """How this service's Kafka clients authenticate (aiokafka options, faust credentials)."""
        return KafkaSecurity(
            protocol=self.kafka_security_protocol,
            mechanism=self.kafka_sasl_mechanism,
            username=self.kafka_username,
            password=self.kafka_password.get_secret_value() if self.kafka_password else None,
            cafile=self.kafka_ssl_cafile,
        )

    def topic(self, producer: str) -> str:
        """The name of a producer's topic (`deploy/topics.yaml`) in this namespace."""
        return self.topic_namespace + load_catalog().topic_of(producer).name

    @property
    def dead_letter_topic(self) -> str:
        return self.topic_namespace + DEAD_LETTER_TOPIC

    @property
    def checkpoint_topic(self) -> str:
        return self.topic_namespace + CHECKPOINT_TOPIC

    @property
    def consumer_group(self) -> str:
        return f"{self.topic_namespace}carenet-{self.service}"

    def relay_lease(self) -> Lease:
        """The lease that lets one replica's relay publish the outbox (`carenet_kit.relay`):
        an advisory lock in the service's PostgreSQL database, or a lock file next to its
        SQLite database."""
        name = f"carenet-relay:{self.topic(self.service)}"
        if self.persistence == "postgres":
            return PostgresLease(name, self._postgres_connect())
        return FileLease(name, self.data_dir / f"{self.service}.relay.lock")

    def eventsourcing_env(self) -> dict[str, str]:
        """The `eventsourcing` library's settings for this service's own store, and its key."""
        return self._store_env() | self._signing_env()

    def _signing_env(self) -> dict[str, str]:
        if self.signing_key is None or self.signing_key_id is None:
            return {}
        return {
            "CARENET_SIGNING_KEY": self.signing_key.get_secret_value(),
            "CARENET_SIGNING_KEY_ID": self.signing_key_id,
        }

    def _store_env(self) -> dict[str, str]:
        """Each service keeps its tables in a PostgreSQL schema of its own, so one database can
        serve a small deployment without any service reading another's store."""
        if self.persistence == "postgres":
            self._create_schema()
            return {
                "PERSISTENCE_MODULE": "eventsourcing.postgres",
                "POSTGRES_HOST": self.postgres_host,
                "POSTGRES_PORT": str(self.postgres_port),
                "POSTGRES_USER": self.postgres_user,
                "POSTGRES_PASSWORD": self.postgres_password.get_secret_value(),
                "POSTGRES_DBNAME": self.postgres_dbname,
                "POSTGRES_SCHEMA": self.service,
                "POSTGRES_CONNECT_TIMEOUT": str(self.postgres_connect_timeout_seconds),
                "CREATE_TABLE": "y",
            }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(self.data_dir / f"{self.service}.sqlite"),
            "SQLITE_LOCK_TIMEOUT": "10",
        }

    def _create_schema(self) -> None:
        """The library creates its tables, not the schema that holds them."""
        with psycopg.connect(**self._postgres_connect(), autocommit=True) as connection:
            connection.execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.service))
            )

    def _postgres_connect(self) -> dict[str, Any]:
        return {
            "host": self.postgres_host,
            "port": self.postgres_port,
            "user": self.postgres_user,
            "password": self.postgres_password.get_secret_value(),
            "dbname": self.postgres_dbname,
        }


class KeyStoreSettings(ServiceSettings):
    """The settings of a service that keeps keys of one subject each (`carenet_kit.keystore`)."""

    master_key: SecretStr = SecretStr(DEVELOPMENT_MASTER_KEY)
    """base64 of 32 bytes: wraps each subject's key (`CARENET_MASTER_KEY`)."""

    @model_validator(mode="after")
    def _no_development_master_key_in_production(self) -> KeyStoreSettings:
        master_key(self.master_key.get_secret_value())
        if (
            self.environment == "production"
            and self.master_key.get_secret_value() == DEVELOPMENT_MASTER_KEY
        ):
            raise ValueError("set CARENET_MASTER_KEY in production")
        return self

    def master_key_bytes(self) -> bytes:
        return master_key(self.master_key.get_secret_value())
