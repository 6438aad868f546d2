"""The authorisation matrix: every endpoint x every role x every relation x every target.

The endpoints come from the services' own OpenAPI documents, and each must be one of the
operations listed in `ACCESS` below, every one of which must be there: a new endpoint cannot
escape, nor an old one vanish. Each is called by every role, as an actor of the patient's own
organisation, of a foreign one (related to another patient), of no related organisation, and
anonymously, about the own patient, the other patient and an id nobody knows. The expected
outcome of each cell is computed from `ACCESS` and the rules (who may see a patient), written
here, not read from the code under test: the services' own declarations (`x-carenet-access`)
must agree with `ACCESS`, entry by entry.

Writes are sent with an empty body: a cell that passes the door answers 422 (the body is
refused), so the matrix changes nothing. Every denied answer is checked for personal data, and
every answer of 200 for the ids of a patient the caller stands in no relation to (a list that
forgot its filter).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest

from .access_rules import ACCESS, NETWORK_ROLES, READS, ROLES, UNRELATED_ROLES, WRITES, Rule
from .conftest import Caller, System, eventually
from .pathway import centers_today, diagnosis, national_id, registration, visit

pytestmark = pytest.mark.e2e

SERVICES = ("intake", "routing", "casework", "notifications", "audit")
RELATIONS = ("own", "foreign", "none", "anonymous")
TARGETS = ("own", "other", "random")

OWN_HOSPITAL, OTHER_HOSPITAL = "H-SZ-KANGNING", "H-SZ-NANSHAN"
OWN_CENTER, OTHER_CENTER = "CHC-NS-NANTOU", "CHC-NS-SHEKOU"
OWN_REGION, OTHER_REGION = "440305001", "440305005"
SERIALS = {"own": 8101, "other": 8102}

STAFF_ORGS = {"own": OWN_CENTER, "foreign": OTHER_CENTER, "none": "CHC-HD-WANSHOULU"}
HOSPITAL_ORGS = {"own": OWN_HOSPITAL, "foreign": OTHER_HOSPITAL, "none": "H-BJ-ANDING"}
PARTNER_ORGS = {"own": "P-NS-CLUBHOUSE", "foreign": "P-NS-DPF", "none": "P-HD-DPF"}
"""A partner's staff: of the partner the own patient is referred to, the other's, neither's."""
SOCIAL_REFERRALS = {
    "own": ("P-NS-CLUBHOUSE", "clubhouse"),
    "other": ("P-NS-DPF", "employment_training"),
}
NETWORK_ORGS = {
    "auditor": {"own": "NHC-AUDIT", "foreign": "GD-AUDIT", "none": "XJ-AUDIT"},
    "operator": {"own": "network", "foreign": "network", "none": "network"},
    "network_lead": {"own": "network", "foreign": "network", "none": "network"},
}


RECOVERY_PLAN = {
    "goals": [
        {
            "domain": "work_or_study",
            "wants": "a part-time job",
            "steps": ["employment training"],
            "review_on": (centers_today() + timedelta(days=60)).isoformat(),
        }
    ]
}


@dataclass(frozen=True)
class Patient:
    patient_id: str
    case_id: str
    referral_id: str
    member_id: str
    session_id: str
    social_referral_id: str
    personal: tuple[str, ...]


@dataclass(frozen=True)
class Operation:
    service: str
    method: str
    path: str
    access: dict[str, Any]
    has_body: bool
    query: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.method.upper()} {self.service}{self.path}"


@dataclass(frozen=True)
class Cell:
    operation: Operation
    role: str
    relation: str
    target: str


# -- the world the matrix runs in ---------------------------------------------------------


def actor(role: str, relation: str, patients: dict[str, Patient]) -> Caller:
    if role == "family_member":
        member = {
            "own": patients["own"].member_id,
            "foreign": patients["other"].member_id,
            "none": str(uuid4()),
        }[relation]
        return (member, "family", role)
    if role in NETWORK_ORGS:
        return (f"{role}-{relation}", NETWORK_ORGS[role][relation], role)
    if role == "partner_staff":
        return (f"{role}-{relation}", PARTNER_ORGS[relation], role)
    orgs = HOSPITAL_ORGS if role == "clinician" else STAFF_ORGS
    return (f"{role}-{relation}", orgs[relation], role)


def diagnosed_routed_and_referred(system: System, which: str) -> Patient:
    hospital, region = (
        (OWN_HOSPITAL, OWN_REGION)
        if which == "own"
        else (
            OTHER_HOSPITAL,
            OTHER_REGION,
        )
    )
    center = OWN_CENTER if which == "own" else OTHER_CENTER
    clinician: Caller = ("DR-MATRIX", hospital, "clinician")
    staff: Caller = ("SW-MATRIX", center, "social_worker")
    serial = SERIALS[which]
    registered = registration(serial, region) | {"hospital_id": hospital}
    with system.client("intake", clinician) as intake:
        patient_id = intake.post("/v1/patients", json=registered).json()["patient_id"]
        diagnosed = intake.post(
            f"/v1/patients/{patient_id}/diagnoses", json=diagnosis() | {"hospital_id": hospital}
        )
        assert diagnosed.status_code == 201, diagnosed.text

    def case() -> dict[str, Any] | None:
        with system.client("casework", staff) as casework:
            found = casework.get("/v1/cases", params={"patient_id": patient_id}).json()
        return found[0] if found and found[0]["case_manager_id"] else None

    case_id = eventually(case, timeout=60)["case_id"]
    with system.client("casework", staff) as casework:
        referred = casework.post(f"/v1/cases/{case_id}/visits", json=visit(risk_level=4))
        assert referred.status_code == 201, referred.text
        linked = casework.post(
            f"/v1/patients/{patient_id}/family",
            json={
                "relationship": "parent",
                "consent_given_by": "patient",
                "scope": {"may_see": ["appointments"], "notified_of": []},
            },
        )
        assert linked.status_code == 201, linked.text
        held = casework.post(
            f"/v1/centers/{center}/sessions",
            json={
                "kind": "group_activity",
                "topic": "handcrafts",
                "held_on": centers_today().isoformat(),
                "duration_minutes": 60,
                "facilitator_id": "SW-MATRIX",
                "attendees": [patient_id],
            },
        )
        assert held.status_code == 201, held.text
        planned = casework.post(f"/v1/patients/{patient_id}/recovery-plan", json=RECOVERY_PLAN)
        assert planned.status_code == 201, planned.text
        partner, service = SOCIAL_REFERRALS[which]
        socially = casework.post(
            f"/v1/patients/{patient_id}/social-referrals",
            json={
                "partner_id": partner,
                "service": service,
                "needs": "something to do in the daytime",
                "shares": ["phone"],
                "consented_on": centers_today().isoformat(),
            },
        )
        assert socially.status_code == 201, socially.text
    personal = (registered["name"], national_id(serial), registered["address"])
    return Patient(
        patient_id,
        case_id,
        referred.json()["referral_id"],
        linked.json()["member_id"],
        held.json()["session_id"],
        socially.json()["referral_id"],
        personal,
    )


def operations(system: System) -> list[Operation]:
    found = []
    for service in SERVICES:
        document = httpx.get(f"{system.processes[service].url}/openapi.json").json()
        for path, methods in document["paths"].items():
            for method, operation in methods.items():
                if path in {"/healthz", "/readyz", "/.well-known/jwks.json"}:
                    continue
                assert "x-carenet-access" in operation, (
                    f"{method} {service}{path} declares no access"
                )
                query = tuple(
                    p["name"]
                    for p in operation.get("parameters", [])
                    if p["in"] == "query" and p.get("required")
                )
                found.append(
                    Operation(
                        service,
                        method,
                        path,
                        operation["x-carenet-access"],
                        "requestBody" in operation,
                        query,
                    )
                )
    return found


def ids_for(target: str, patients: dict[str, Patient], caller: Caller | None) -> dict[str, str]:
    """Every path or query parameter, for the own patient, the other one, or nobody."""
    if target == "random":
        return {
            "patient_id": str(uuid4()),
            "case_id": str(uuid4()),
            "referral_id": str(uuid4()),
            "member_id": str(uuid4()),
            "session_id": str(uuid4()),
            "social_referral_id": str(uuid4()),
            "partner_id": "P-NOBODY",
            "hospital_id": "H-NOBODY",
            "center_id": "CHC-NOBODY",
            "recipient": "staff:NOBODY",
        }
    patient = patients[target]
    mine = target == "own"
    return {
        "patient_id": patient.patient_id,
        "case_id": patient.case_id,
        "referral_id": patient.referral_id,
        "member_id": patient.member_id,
        "session_id": patient.session_id,
        "social_referral_id": patient.social_referral_id,
        "partner_id": SOCIAL_REFERRALS[target][0],
        "hospital_id": OWN_HOSPITAL if mine else OTHER_HOSPITAL,
        "center_id": OWN_CENTER if mine else OTHER_CENTER,
        "recipient": recipient_of(caller) if mine and caller else "staff:SOMEONE-ELSE",
    }


def recipient_of(caller: Caller) -> str:
    user, _, role = caller
    return f"family:{user}" if role == "family_member" else f"staff:{user}"


class Clients:
    """One client per (service, caller), and one answer per distinct request: an anonymous
    request is the same whichever role's cell it fills."""

    def __init__(self, system: System) -> None:
        self.system = system
        self.clients: dict[tuple[str, Caller | None], httpx.Client] = {}
        self.answers: dict[tuple[str, Caller | None, str], httpx.Response] = {}

    def client(self, service: str, caller: Caller | None) -> httpx.Client:
        key = (service, caller)
        if key not in self.clients:
            self.clients[key] = self.system.client(service, caller)
        return self.clients[key]

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


def request(clients: Clients, cell: Cell, patients: dict[str, Patient]) -> httpx.Response:
    op = cell.operation
    caller = None if cell.relation == "anonymous" else actor(cell.role, cell.relation, patients)
    key = (op.name, caller, cell.target)
    if key not in clients.answers:
        clients.answers[key] = send(clients.client(op.service, caller), cell, patients, caller)
    return clients.answers[key]


def send(
    client: httpx.Client, cell: Cell, patients: dict[str, Patient], caller: Caller | None
) -> httpx.Response:
    op = cell.operation
    values = ids_for(cell.target, patients, caller)
    path = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), str(uuid4())), op.path)
    params = {name: values.get(name, "x") for name in op.query}
    body: dict[str, Any] | None = {} if op.has_body else None
    if op.path in VALID_BODY:  # the one read whose patient is in the body
        body = {
            "patient_id": values["patient_id"],
            "purpose": "compliance-audit",
            "justification": "authorisation matrix",
        }
    return client.request(op.method, path, params=params, json=body)


# -- the expected outcome of each cell ------------------------------------------------------


def related(cell: Cell, patient: str | None = None) -> bool:
    """The actor's organisation (or person) stands in a relation to the target patient (or to
    `patient`: "own" or "other")."""
    return (cell.relation, patient or cell.target) in {("own", "own"), ("foreign", "other")}


def unrelated_ids_in(cell: Cell, patients: dict[str, Patient], text: str) -> list[str]:
    """The ids of patients the caller stands in no relation to, found in an answer. (The
    network's roles are related to every patient, auditors with every read audited.)"""
    if cell.role in NETWORK_ROLES:
        return []
    return [
        f"{which} patient's {name}"
        for which, patient in patients.items()
        if not related(cell, which)
        for name, value in (("patient_id", patient.patient_id), ("case_id", patient.case_id))
        if value in text
    ]


def expected(cell: Cell) -> set[int]:  # noqa: PLR0911 (a decision table)
    """What the rules want for this cell; `PASSES` means any answer beyond the door."""
    if cell.relation == "anonymous":
        return {401}
    op = cell.operation
    rule = ACCESS[op.name]
    if rule.kind in READS or rule.kind in WRITES:
        return expected_for_patient(cell, rule)
    if cell.role not in rule.roles:
        return {403}
    if op.path in VALID_BODY:
        return PASSES
    if rule.kind == "organisation" and not related(cell):
        return {403}
    if op.has_body:
        return {422}
    if "{session_id}" in op.path and not related(cell):
        return {404}  # another center's session is not found, whatever its id
    if {"hospital_id", "center_id"} & set(op.query) and not related(cell):
        return {403}  # not the caller's organisation
    if "recipient" in op.query and cell.target != "own":
        return {403}  # a recipient is a person or an organisation's desk: only one's own
    return PASSES


def expected_for_patient(cell: Cell, rule: Rule) -> set[int]:
    network = cell.role in NETWORK_ROLES
    if cell.target == "random" or not (related(cell) or network) or cell.role in UNRELATED_ROLES:
        return {404}  # a foreign organisation learns nothing, not even that the patient exists
    granted = READS.get(rule.kind) or WRITES[rule.kind]
    if cell.role == "family_member" and rule.family_part:
        granted = granted | {"family_member"}
    if cell.role not in granted:
        return {403}
    return {422} if cell.operation.has_body or cell.operation.query else {200}


PASSES = {200, 201, 202, 204, 404, 409, 422}
VALID_BODY = {"/v1/patient-histories"}
"""Operations sent a valid body: the audit service records (and refuses) a non-auditor itself."""


# -- the test -------------------------------------------------------------------------------


@pytest.mark.timeout(900)
def test_every_endpoint_answers_every_role_relation_and_target_as_the_rules_say(
    system: System,
) -> None:
    patients = {which: diagnosed_routed_and_referred(system, which) for which in ("own", "other")}

    def referral_known_everywhere() -> bool:
        with system.client("intake", actor("clinician", "own", patients)) as intake:
            referral = patients["own"].referral_id
            worklist = intake.get("/v1/referrals", params={"hospital_id": OWN_HOSPITAL}).json()
        return any(r["referral_id"] == referral for r in worklist)

    eventually(referral_known_everywhere, timeout=60)
    ops = operations(system)
    cells = [
        Cell(op, role, relation, target)
        for op in ops
        for role in ROLES
        for relation in RELATIONS
        for target in TARGETS
    ]
    wrong, leaks, answers = [], [], Counter[int]()
    hidden: dict[tuple[str, str], set[str]] = {}
    clients = Clients(system)
    for cell in cells:
        response = request(clients, cell, patients)
        answers[response.status_code] += 1
        want = expected(cell)
        if response.status_code not in want:
            wrong.append(
                f"{cell.operation.name} {cell.role}/{cell.relation}/{cell.target}: "
                f"{response.status_code} not in {sorted(want)}: {response.text[:120]}"
            )
        if response.status_code >= 400:
            leaks.extend(
                f"{cell.operation.name}: {value!r}"
                for p in patients.values()
                for value in p.personal
                if value in response.text
            )
        if response.status_code == 200:
            leaks.extend(
                f"{cell.operation.name} {cell.role}/{cell.relation}/{cell.target}: {found}"
                for found in unrelated_ids_in(cell, patients, response.text)
            )
        if response.status_code == 404 and cell.target != "own":
            hidden.setdefault((cell.operation.name, cell.role), set()).add(response.text)
    clients.close()
    print(
        f"\n{len(ops)} operations, {len(cells)} cells, {len(clients.answers)} requests: "
        f"{dict(sorted(answers.items()))}"
    )
    assert not wrong, f"{len(wrong)} of {len(cells)} cells wrong:\n" + "\n".join(wrong[:60])
    assert not leaks, leaks
    # a patient of another organisation and an id nobody has answer alike
    assert all(len(bodies) == 1 for bodies in hidden.values()), hidden
    assert sorted(op.name for op in ops) == sorted(ACCESS)  # every one, and only these


def test_every_operation_declares_the_access_the_rules_give_it(system: System) -> None:
    """The services' own declarations (`x-carenet-access`, which their guards enforce) say
    what `ACCESS` says."""
    for op in operations(system):
        rule, declared = ACCESS[op.name], op.access
        assert declared["access"] == rule.kind, op.name
        if rule.kind in ("roles", "organisation"):
            assert set(declared["roles"]) == rule.roles, op.name
        assert ("part" in declared) == rule.family_part, op.name
