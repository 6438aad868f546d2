"""Stateful fuzzing of every service's API, live: the five services as processes, on Kafka.

schemathesis chains operations through the links it infers from each OpenAPI document (an id
in one response fills a path parameter of the next call: a patient registered, then diagnosed,
admitted, discharged, read; a referral listed, then accepted or declined; a case listed, then
its manager assigned) and sends every call as a caller whose role reaches the operation's
handler (`tests/fuzz/harness.py`, `Callers`). The services run as in production, their loops
and relays on a real broker, so that what one publishes reaches the next: the patients
diagnosed before the run are routed and have cases, which casework's scenarios find in its
lists. Every response is checked as the stateless fuzz checks it (no 5xx; status, content type
and body as documented; schema-valid input refused only by a rule, a 422 that names it) and by
schemathesis's stateful checks (a resource created can be read; one deleted cannot).

The scenarios are derandomized, so a red build is reproducible; `CARENET_STATEFUL_EXAMPLES`
runs more of them (`CARENET_STATEFUL_EXAMPLES=200 uv run pytest tests/e2e/test_api_stateful.py`).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from itertools import count
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import Flaky
from schemathesis import Case, Response
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.stateful.state_machine import APIStateMachine
from schemathesis.hooks import HookContext
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.fuzz.harness import HARVEST, Callers, KnownIds, directory_ids
from tests.fuzz.test_api_fuzz import valid_input_refused_only_by_the_rules

from .conftest import System, eventually
from .pathway import CENTER_STAFF, CLINICIAN, diagnose_new_patient, diagnosis, registration, visit

pytestmark = [pytest.mark.e2e, pytest.mark.own_system]  # what it does to the services stays

EXAMPLES = int(os.environ.get("CARENET_STATEFUL_EXAMPLES", "12"))
"""Scenarios per service, each a chain of up to `STEPS` calls."""
STEPS = 6
ACCESS = "x-carenet-access"
CHAINED = ("intake", "routing", "casework", "notifications")
"""The services whose documents have links. Audit's two operations take a patient in the body
and create nothing that another operation reads: no chain (the stateless fuzz covers them)."""
VALID_BODIES: dict[str, Callable[[int], dict[str, Any]]] = {
    "POST /v1/patients": registration,
    "POST /v1/patients/{patient_id}/diagnoses": lambda _: diagnosis(),
    "POST /v1/cases/{case_id}/visits": lambda serial: visit(1 + serial % 4),
    "POST /v1/cases/{case_id}/case-manager": lambda serial: {
        "case_manager_id": ("SW-NS-LI", "SW-NS-CHEN")[serial % 4 // 2],
        "reason": "caseload",
    },
}
"""Operations whose generated bodies almost never pass the rules (a resident ID's check digit,
a certified hospital, a visit's plausible answers, a social worker of the center): every other
positive case sends a valid one instead, so that chains reach past them."""

scenario_settings = settings(
    phases=[Phase.generate],  # no shrinking: a live system's answers cannot be replayed
    max_examples=EXAMPLES,
    stateful_step_count=STEPS,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module")
def diagnosed(system: System) -> KnownIds:
    """Two patients registered and diagnosed, each with a case at the center by the time the
    scenarios run; the ids the services' lists then show."""
    known = KnownIds()
    known.remember(directory_ids())
    with system.client("intake", CLINICIAN) as intake:
        for serial in (801, 802):
            diagnose_new_patient(intake, serial)
    with system.client("casework", CENTER_STAFF) as casework:
        eventually(lambda: len(casework.get("/v1/cases").json()) >= 2 or None, timeout=60)
    for service, urls in HARVEST.items():
        with system.client(service, None) as client:
            headers = Callers.of(service, system.issuer).main
            for url in urls:
                known.remember(client.get(url, headers=headers).json())
    return known


def live_machine(
    system: System, service: str, known: KnownIds, calls: Counter[str], found: list[FailureGroup]
) -> type[APIStateMachine]:
    """The service's state machine, calling its process as the right role, with known ids as
    path parameters, counting the calls by operation and status, keeping each response that
    fails a check in `found` (with the call that reproduces it)."""
    schema = schemathesis.openapi.from_url(f"{system.processes[service].url}/openapi.json")
    schema = schema.exclude(path="/metrics")  # Prometheus' text, read by the metrics tests

    @schema.hook
    def flatmap_path_parameters(context: HookContext, path_parameters: dict[str, Any]) -> Any:
        return known.path_parameters(context.operation, path_parameters)

    callers = Callers.of(service, system.issuer)
    serials = count(3000)

    class Live(schema.as_state_machine()):  # type: ignore[misc]
        def before_call(self, case: Case) -> None:
            valid = VALID_BODIES.get(case.operation.label)
            positive = case.meta is not None and case.meta.generation.mode.is_positive
            if valid and positive and (serial := next(serials)) % 2:
                case.body = valid(serial)

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"headers": callers.headers_for(case.operation.definition.raw.get(ACCESS))}

        def after_call(self, response: Response, case: Case) -> None:
            super().after_call(response, case)
            calls[f"{case.operation.label} {response.status_code}"] += 1

        def validate_response(
            self, response: Response, case: Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            try:
                case.validate_response(
                    response,
                    excluded_checks=[positive_data_acceptance],
                    additional_checks=[valid_input_refused_only_by_the_rules],
                    transport_kwargs=kwargs or None,
                    recorder=self.recorder,
                )
            except FailureGroup as failures:  # kept as seen: a live system is not replayed
                found.append(failures)

    return Live


@pytest.mark.timeout(600)
@pytest.mark.parametrize("service", CHAINED)
def test_chained_calls_answer_as_documented(
    system: System, diagnosed: KnownIds, service: str
) -> None:
    calls: Counter[str] = Counter()
    found: list[FailureGroup] = []
    with suppress(Flaky):  # a chain replayed that the live system, changed since, answers otherwise
        live_machine(system, service, diagnosed, calls, found).run(settings=scenario_settings)
    print(f"\n{service}: {sum(calls.values())} calls")
    for call, n in sorted(calls.items()):
        print(f"{n:6d}  {call}")
    assert not found, "\n\n".join(map(str, found))
    succeeded = sum(n for call, n in calls.items() if call.rsplit(" ", 1)[-1].startswith("2"))
    assert succeeded > 0, "no call was answered 2xx: the chains ran on nothing"
