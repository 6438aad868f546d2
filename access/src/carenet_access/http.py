"""The policy at the door of every endpoint, and in the OpenAPI document for all to see.

A route declares what it needs with one of three keyword sets, e.g.

    @router.get("/patients/{patient_id}", **guarded(Access.READ_IDENTITY))
    @router.get("/hospitals/{hospital_id}/inpatients", **of_organisation("hospital_id", CLINICIAN))
    @router.get("/routing-queue", **for_roles(Role.OPERATOR))

Each adds a dependency that authenticates the caller and applies the policy before the
endpoint runs, and an `x-carenet-access` member to the operation in the OpenAPI document, so
that the authorisation matrix test finds every endpoint and what it is meant to allow.

Every read of a known patient's record, granted or refused, is recorded (`access_log`) before
the endpoint answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from uuid import UUID

import structlog
from fastapi import Depends, HTTPException, Request, status

from carenet_access.graph import AccessGraph, graph_loader
from carenet_access.policy import READS, Access, Decision, Outcome, Role, decide
from carenet_access.relations import PatientRelations
from carenet_kit.access_log import AccessEntry
from carenet_kit.application import ServiceApplication
from carenet_kit.auth import Actor, CurrentActor
from carenet_kit.batches import BatchConsumer
from carenet_kit.http import from_app_state
from carenet_kit.outbox import Cause
from carenet_kit.settings import ServiceSettings

log = structlog.get_logger()

Target = Literal["patient", "case", "referral"]
EXTENSION = "x-carenet-access"
NOT_FOUND = "not found"


def _nothing(_: UUID) -> PatientRelations | None:
    return None


@dataclass
class AccessControl:
    """One service's access control: the care network from the topics, and its own log."""

    service: str
    application: ServiceApplication
    known: Callable[[UUID], PatientRelations | None] = _nothing
    """What the service knows of a patient before the network does (intake: who registered)."""
    case_of: Callable[[UUID], UUID | None] | None = None
    """The patient of a case, from the service's own store (casework), if it has one."""
    graph: AccessGraph = field(init=False)
    """The care network, kept beside the application's own store."""

    def __post_init__(self) -> None:
        self.graph = AccessGraph.beside(self.application.factory)

    def loader(self, settings: ServiceSettings) -> BatchConsumer:
        """What keeps the graph current from the topics (a `runtime.Service` batch consumer)."""
        return graph_loader(settings, self.graph)

    @property
    def state(self) -> dict[str, Any]:
        """What `runtime.Service` puts into `app.state`."""
        return {"access": self}

    def relations(self, patient_id: UUID) -> PatientRelations | None:
        network, local = self.graph.relations(patient_id), self.known(patient_id)
        if network is None or local is None:
            return network or local
        network.hospitals |= local.hospitals
        network.center = network.center or local.center
        return network

    def patient_of(self, target: Target, target_id: UUID) -> UUID | None:
        if target == "patient":
            return target_id
        if target == "case":
            local = self.case_of(target_id) if self.case_of else None
            return local or self.graph.patient_of_case(target_id)
        return self.graph.patient_of_referral(target_id)

    def decide(
        self, actor: Actor, access: Access, patient_id: UUID | None, part: str | None = None
    ) -> Decision:
        relations = None if patient_id is None else self.relations(patient_id)
        return decide(actor, access, relations, self.application.clock.now(), part)

    def visible(
        self,
        actor: Actor,
        patient_ids: Iterable[UUID],
        request: Request,
        access: Access = Access.READ_CARE,
        part: str | None = None,
    ) -> set[UUID]:
        """The patients of a list the actor may read; each one shown is a recorded read."""
        shown = {
            patient_id: decision
            for patient_id in set(patient_ids)
            if (decision := self.decide(actor, access, patient_id, part)).granted
        }
        self.application.record_accesses(
            [
                _entry(actor, patient_id, _record(request), access, decision)
                for patient_id, decision in shown.items()
            ],
            _cause(request),
        )
        return set(shown)

    def enforce_request(
        self, request: Request, actor: Actor, access: Access, patient_id: UUID
    ) -> Decision:
        """`enforce` for a patient named in the request's body rather than its path."""
        return self.enforce(actor, access, patient_id, _record(request), _cause(request))

    def enforce(
        self,
        actor: Actor,
        access: Access,
        patient_id: UUID | None,
        record: str,
        cause: Cause,
        part: str | None = None,
    ) -> Decision:
        """Decide, record a read of a known patient, and answer 404 or 403 unless granted."""
        relations = None if patient_id is None else self.relations(patient_id)
        decision = decide(actor, access, relations, self.application.clock.now(), part)
        if access in READS and patient_id is not None and relations is not None:
            entry = _entry(actor, patient_id, record, access, decision)
            self.application.record_accesses([entry], cause)
        if decision.outcome is Outcome.HIDDEN:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)
        if decision.outcome is Outcome.FORBIDDEN:
            log.info("access refused", record=record, access=access.value, role=actor.role)
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"role {actor.role!r} may not {access.value} here"
            )
        return decision


Control = Annotated[AccessControl, from_app_state("access")]
"""The service's access control, for an endpoint that filters a list by the policy."""


def _entry(
    actor: Actor, patient_id: UUID, record: str, access: Access, decision: Decision
) -> AccessEntry:
    return AccessEntry(
        patient_id=patient_id,
        reader_id=actor.subject,
        reader_organisation=actor.organisation,
        reader_role=actor.role,
        record=record,
        access=access.value,
        purpose=decision.purpose,
        granted=decision.granted,
        emergency_access_id=decision.emergency_access_id,
    )


def _control(request: Request) -> AccessControl:
    control: AccessControl = request.app.state.access
    return control


def _record(request: Request) -> str:
    return f"{_control(request).service}.{request.scope['endpoint'].__name__}"


def _cause(request: Request) -> Cause:
    return Cause.request(request.state.correlation_id)


def guarded(access: Access, target: Target = "patient", part: str | None = None) -> dict[str, Any]:
    """Route keywords: the actor must have `access` to the patient the path names, directly
    (`{patient_id}`) or through a case or referral; `part` is what a relative's consent
    must cover."""

    def enforce(request: Request, actor: Actor, target_id: UUID) -> None:
        control = _control(request)
        patient_id = control.patient_of(target, target_id)
        control.enforce(actor, access, patient_id, _record(request), _cause(request), part)

    def by_patient(request: Request, actor: CurrentActor, patient_id: UUID) -> None:
        enforce(request, actor, patient_id)

    def by_case(request: Request, actor: CurrentActor, case_id: UUID) -> None:
        enforce(request, actor, case_id)

    def by_referral(request: Request, actor: CurrentActor, referral_id: UUID) -> None:
        enforce(request, actor, referral_id)

    check = {"patient": by_patient, "case": by_case, "referral": by_referral}[target]
    declared = {"access": access.value, "target": target} | ({"part": part} if part else {})
    return {"dependencies": [Depends(check)], "openapi_extra": {EXTENSION: declared}}


def of_organisation(parameter: str, *roles: Role) -> dict[str, Any]:
    """Route keywords: the organisation the path names must be the actor's, in one of `roles`."""

    def check(request: Request, actor: CurrentActor) -> None:
        require_role(actor, roles)
        if actor.organisation != request.path_params[parameter]:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "not your organisation")

    declared = {"access": "organisation", "parameter": parameter, "roles": sorted(roles)}
    return {"dependencies": [Depends(check)], "openapi_extra": {EXTENSION: declared}}


def for_roles(*roles: Role) -> dict[str, Any]:
    """Route keywords: any actor in one of `roles`; the endpoint scopes what it shows (a list
    filtered by the policy, one's own inbox) or checks the organisation the body names."""

    def check(actor: CurrentActor) -> None:
        require_role(actor, roles)

    declared = {"access": "roles", "roles": sorted(roles)}
    return {"dependencies": [Depends(check)], "openapi_extra": {EXTENSION: declared}}


def require_role(actor: Actor, roles: Iterable[Role]) -> None:
    if actor.role not in set(roles):
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {actor.role!r} may not do this")


def require_organisation(actor: Actor, organisation: str) -> None:
    """403 unless the actor acts for `organisation` (as named in a request body)."""
    if actor.organisation != organisation:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "not your organisation")
