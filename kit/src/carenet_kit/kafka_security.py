"""How a client authenticates to the Kafka brokers: one description, for every client library.

In development the broker is a loopback PLAINTEXT one and nobody authenticates. In the secured
profile every service is a SASL/SCRAM principal of its own, and the broker's ACLs (derived from
`deploy/topics.yaml`) let it write only its own topic and read only what it consumes.
`KafkaSecurity` turns the settings into aiokafka's keyword arguments (producer, consumer, admin
client) and into faust's `broker_credentials`, so no client is configured by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import faust
from aiokafka.helpers import create_ssl_context

SecurityProtocol = Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]


@dataclass(frozen=True)
class KafkaSecurity:
    """A client's credentials and transport; the default is the development broker's PLAINTEXT."""

    protocol: SecurityProtocol = "PLAINTEXT"
    mechanism: SaslMechanism = "SCRAM-SHA-512"
    username: str | None = None
    password: str | None = None
    cafile: Path | None = None
    """The CA that signed the brokers' certificates (SASL_SSL); unset: the system's CAs."""

    def __post_init__(self) -> None:
        if self.protocol != "PLAINTEXT" and not (self.username and self.password):
            raise ValueError(f"{self.protocol} needs a Kafka username and password")

    def __repr__(self) -> str:  # never the password
        return f"KafkaSecurity({self.protocol}, {self.mechanism}, user={self.username!r})"

    @property
    def authenticated(self) -> bool:
        return self.protocol != "PLAINTEXT"

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's `AIOKafkaProducer`, `AIOKafkaConsumer` and
        `AIOKafkaAdminClient`."""
        if not self.authenticated:
            return {"security_protocol": "PLAINTEXT"}
        options: dict[str, Any] = {
            "security_protocol": self.protocol,
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
        }
        if self.protocol == "SASL_SSL":
            options["ssl_context"] = self._ssl_context()
        return options

    def faust_credentials(self) -> faust.SASLCredentials | None:
        """faust's `broker_credentials`: None for PLAINTEXT."""
        if not self.authenticated:
            return None
        return faust.SASLCredentials(
            username=self.username,
            password=self.password,
            mechanism=self.mechanism,
            ssl_context=self._ssl_context() if self.protocol == "SASL_SSL" else None,
        )

    def _ssl_context(self) -> Any:
        return create_ssl_context(cafile=str(self.cafile) if self.cafile else None)


PLAINTEXT = KafkaSecurity()
"""No authentication: the development broker."""
