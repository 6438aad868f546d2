"""One service in-process for schemathesis: its real app on a temporary SQLite store, with state.

The FastAPI app is the one `main.bootstrap(settings)` builds, so routes, error handlers, body
limit and token verification are the production ones. Its lifespan is not started: no Kafka
consumer, relay or scheduler runs, which keeps the fuzz fast and independent of the broker.
What those loops would have done for a request is done on the test's thread instead:

- the service's read model is brought up to date after every call (`ProjectionRunner.catch_up`,
  the same code the background loop runs), so reads see what commands wrote;
- before fuzzing, the committed sample messages of the producers the service consumes go
  through its real inbound policy, so routes, cases, referrals, inboxes exist to be found.

Path parameters are drawn partly from the ids that seeding made (and the demo directory's
organisations), so that operations on existing resources are reached and not only 404.
Each request carries a bearer token from the development issuer for the service's actor.
"""

from __future__ import annotations

import importlib
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventsourcing.persistence import Tracking
from fastapi.testclient import TestClient
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from starlette.types import ASGIApp, Receive, Scope, Send

from carenet_contracts import parse_message
from carenet_devtools.issuer import DevIssuer
from carenet_kit.outbox import Cause
from carenet_kit.reference_data import ReferenceDirectory
from carenet_kit.refusals import Refusal
from carenet_kit.runtime import Service
from tests.e2e.pathway import diagnosis, registration

REPO = Path(__file__).parents[2]
MESSAGES = REPO / "contracts" / "tests" / "messages"
DIRECTORY = REPO / "reference" / "demo-directory.yaml"

CASES: Counter[tuple[str, str]] = Counter()
"""How many cases schemathesis sent, per (service, operation): printed at the end of the run."""


@dataclass(frozen=True)
class Actor:
    """Who the fuzzer's requests speak for: the token's subject, organisation and role."""

    user: str
    organisation: str
    role: str


@dataclass(frozen=True)
class Callers:
    """Who calls a service's operations: a bearer token per role of its actors (`ACTORS`,
    `MORE_ACTORS`), the main actor's first."""

    headers_of_role: dict[str, dict[str, str]]

    @staticmethod
    def of(service: str, issuer: DevIssuer, minutes: float = 120) -> Callers:
        actors = (ACTORS[service], *MORE_ACTORS.get(service, ()))
        tokens = {a.role: issuer.token(a.user, a.organisation, a.role, minutes) for a in actors}
        return Callers({role: {"Authorization": f"Bearer {t}"} for role, t in tokens.items()})

    @property
    def main(self) -> dict[str, str]:
        return next(iter(self.headers_of_role.values()))

    def headers_for(self, access: dict[str, Any] | None) -> dict[str, str]:
        """An actor whose role may call an operation that declares `access`, so that the
        case reaches its handler (the main actor's, if no other's role may, or for an
        operation open to all: the probes, the metrics, the signing key)."""
        if access is None:
            return self.main
        allowed = set(access.get("roles") or ROLES_OF_ACCESS[access["access"]])
        return next(
            (headers for role, headers in self.headers_of_role.items() if role in allowed),
            self.main,
        )


def conforms(parameter: Any, value: Any) -> bool:
    """Whether `value` is valid for an operation's `parameter`, its format (a UUID) included:
    schemathesis's own `is_valid` leaves formats out, so that a staff id passes for a UUID."""
    return Draft202012Validator(
        parameter.validation_schema, format_checker=Draft202012Validator.FORMAT_CHECKER
    ).is_valid(value)


@dataclass
class KnownIds:
    """Ids seen so far (seeding, lists, responses), by field name, as path-parameter values."""

    ids: dict[str, list[str]] = field(default_factory=dict)

    def remember(self, document: Any) -> None:
        """Keep every `..._id` (and region code) found in a document as a path-parameter value."""
        if isinstance(document, dict):
            for key, value in document.items():
                if isinstance(value, str) and (key.endswith("_id") or key == "region_code"):
                    pool = self.ids.setdefault(key, [])
                    if value not in pool:
                        pool.append(value)
                else:
                    self.remember(value)
        elif isinstance(document, list):
            for item in document:
                self.remember(item)

    def path_parameters(
        self, operation: Any, generated: dict[str, Any] | None
    ) -> st.SearchStrategy[dict[str, Any] | None]:
        """A valid generated value, or one of the known ids for that parameter (same odds each).

        An invalid value (a negative case) is left alone, so that it stays invalid.
        """
        if not generated:
            return st.just(generated)
        parameters = {p.name: p for p in operation.path_parameters}
        choices = {}
        for name, value in generated.items():
            known = [v for v in self.ids.get(name, []) if conforms(parameters[name], v)]
            valid = parameters[name].is_valid(value)
            choices[name] = st.sampled_from([value, *known]) if valid else st.just(value)
        return st.fixed_dictionaries(choices)


@dataclass
class FuzzTarget:
    name: str
    service: Service
    client: TestClient
    callers: Callers
    known: KnownIds = field(default_factory=KnownIds)

    @property
    def headers(self) -> dict[str, str]:
        """The service's main actor's (`ACTORS`)."""
        return self.callers.main

    def headers_for(self, access: dict[str, Any] | None) -> dict[str, str]:
        return self.callers.headers_for(access)

    def caught_up(self) -> None:
        """What the projection loop would have applied by now."""
        if self.service.projection_runner is not None:
            self.service.projection_runner.catch_up()

    def remember(self, document: Any) -> None:
        self.known.remember(document)


class WithoutLifespan:
    """The app with its lifespan left out: the fuzz drives no Kafka, relay or scheduler loop."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


def start(name: str, data_dir: Path, issuer: DevIssuer, **settings: Any) -> FuzzTarget:
    """The service `name` built by its own `main.bootstrap`, its lifespan not started."""
    config = importlib.import_module(f"carenet_{name}.config")
    main = importlib.import_module(f"carenet_{name}.main")
    service: Service = main.bootstrap(
        config.Settings(
            data_dir=data_dir,
            reference_file=DIRECTORY,
            auth_jwks=str(issuer.key_set_path),
            auth_issuer=issuer.issuer,
            auth_audience=issuer.audience,
            **settings,
        )
    )
    target = FuzzTarget(
        name,
        service,
        TestClient(service.http_api(), raise_server_exceptions=False),
        Callers.of(name, issuer),
    )
    target.remember(directory_ids())
    return target


def feed_samples(target: FuzzTarget) -> int:
    """Every committed sample message of a consumed producer, through the service's policy."""
    policy = target.service.policy
    if policy is None:
        return 0
    applied = 0
    for position, path in enumerate(sorted(MESSAGES.glob("*.json"))):
        raw = path.read_bytes()
        document = json.loads(raw)
        if document["producer"] not in target.service.consumes:
            continue
        envelope = parse_message(raw)
        target.remember(document)
        try:
            policy(envelope, Cause.inbound(envelope, Tracking("fuzz-samples", position + 1)))
        except Refusal:  # dead-lettered by the consumer
            continue
        applied += 1
    target.caught_up()
    return applied


def harvest(target: FuzzTarget, urls: Iterable[str]) -> None:
    """Read some lists after seeding and keep the ids they show."""
    for url in urls:
        response = target.client.get(url, headers=target.headers)
        if response.status_code == 200:
            target.remember(response.json())


def directory_ids() -> dict[str, list[str]]:
    directory = ReferenceDirectory.load(DIRECTORY)
    centers = directory.centers
    return {
        "hospital_id": [h.id for h in directory.hospitals],
        "center_id": [c.id for c in centers],
        "staff_id": [s for c in centers for s in c.social_workers],
        "region_code": [r for c in centers for r in c.catchment],
    }


def case_counts() -> list[tuple[str, str, int]]:
    return sorted((service, label, n) for (service, label), n in CASES.items())


ACTORS = {
    "intake": Actor("DR-KN-WANG", "H-SZ-KANGNING", "clinician"),
    "routing": Actor("OP-ZHAO", "network", "operator"),
    "casework": Actor("SW-NS-LI", "CHC-NS-NANTOU", "social_worker"),
    "notifications": Actor("SW-NS-LI", "CHC-NS-NANTOU", "social_worker"),
    "audit": Actor("AUD-WANG", "NHC-AUDIT", "auditor"),
}
"""The demo user each service's fuzz requests speak for (`reference/demo-users.yaml`)."""
OPERATOR = Actor("OP-ZHAO", "network", "operator")
MORE_ACTORS = {
    "intake": (OPERATOR,),
    "routing": (Actor("SW-NS-LI", "CHC-NS-NANTOU", "social_worker"),),
    "notifications": (OPERATOR,),
    "audit": (Actor("DR-KN-WANG", "H-SZ-KANGNING", "clinician"),),
}
"""Who calls the operations whose roles leave the main actor out (erasure, failed deliveries,
a center's referrals, breaking the glass)."""
ROLES_OF_ACCESS = {
    "read-identity": {"clinician", "community_doctor", "social_worker"},
    "read-care": {"clinician", "community_doctor", "social_worker"},
    "record-care": {"clinician", "community_doctor", "social_worker"},
    "read-route": {"clinician", "community_doctor", "social_worker", "operator"},
    "route": {"community_doctor", "social_worker", "operator"},
    "erase": {"operator"},
}
"""The roles that may act on a patient's record, for choosing who calls (README, "Who may see
what"); whether the actor's organisation is related to the patient decides the rest."""


def _seed_intake(target: FuzzTarget) -> None:
    for serial in (901, 902):
        created = target.client.post(
            "/v1/patients", json=registration(serial), headers=target.headers
        )
        assert created.status_code == 201, created.text
        target.remember(created.json())
        patient_id = created.json()["patient_id"]
        diagnosed = target.client.post(
            f"/v1/patients/{patient_id}/diagnoses", json=diagnosis(), headers=target.headers
        )
        assert diagnosed.status_code == 201, diagnosed.text
        target.remember(diagnosed.json())
    target.caught_up()


def _seed_notifications(target: FuzzTarget) -> None:
    subscription = {"recipient": "center:CHC-NS-NANTOU", "channel": "email"}
    created = target.client.post(
        "/v1/subscriptions",
        json={**subscription, "email": "duty@nantou.example"},
        headers=target.headers,
    )
    assert created.status_code == 201, created.text
    target.remember(created.json())
    target.caught_up()


SEEDS: dict[str, Callable[[FuzzTarget], None]] = {
    "intake": _seed_intake,
    "routing": lambda _: None,
    "casework": lambda _: None,
    "notifications": _seed_notifications,
    "audit": lambda _: None,
}
"""What each service is given through its own API before fuzzing (after the samples)."""

HARVEST = {
    "intake": ["/v1/referrals?hospital_id=H-SZ-KANGNING&status=all"],
    "routing": ["/v1/routing-queue", *(f"/v1/referrals?center_id={c}" for c in ("CHC-NS-NANTOU",))],
    "casework": ["/v1/cases"],
    "notifications": [
        f"/v1/inbox?recipient={r}" for r in ("center:CHC-NS-NANTOU", "staff:SW-NS-LI")
    ],
    "audit": [],
}
"""Lists read after seeding whose ids become path-parameter values."""
