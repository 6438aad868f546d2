"""One patient's whole pathway, built from the committed example messages, as a FHIR Bundle."""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from carenet_audit_tool.fhir import HANDLERS, UNMAPPED, patient_bundle
from carenet_audit_tool.fhir.export import SIGNATURE_EXTENSION
from carenet_contracts import CONTRACTS, CURRENT, Envelope, parse_message
from carenet_kit.signing import Signature, Signer

MESSAGES = Path(__file__).resolve().parents[3] / "contracts" / "tests" / "messages"
PATIENT = UUID("5d1c6a0e-6f43-4f0e-9d7e-0a3b7c1e2f10")
CASE, NEXT_CASE = uuid4(), uuid4()
ADMITTED, WITHDRAWN, DECLINED = uuid4(), uuid4(), uuid4()
CLUBHOUSE, TRAINING = uuid4(), uuid4()
TOLD, URGENT = uuid4(), uuid4()
SECRET_REASON = "550 mailbox li.wei@example.com unknown"


def pathway() -> list[tuple[str, dict[str, Any]]]:
    """(event type, changes to its example data): diagnosis to transfer, every kind once+."""
    case, center = {"case_id": str(CASE)}, {"center_id": "CHC-NS-NANTOU"}
    urgent = {"notification_id": str(URGENT), "about": "VisitCompleted"}
    return [
        ("RoutingPending", {}),
        ("ManualRoutingOverdue", {}),
        ("DiagnosisRecorded", {}),
        ("ReportingDeadlineMissed", {}),
        ("PatientRouted", {}),
        ("CaseOpened", case | center),
        ("CareTeamMemberJoined", case | {"member_id": "SW-NS-LI", "role": "case_manager"}),
        ("CaseManagerAssigned", case | center),
        ("NotificationDelivered", {"notification_id": str(TOLD), "about": "CaseManagerAssigned"}),
        ("CareTeamMemberJoined", case),
        ("FamilyMemberLinked", case),
        ("CareTeamMemberJoined", case | {"member_id": "FM-5c1e0d", "role": "guardian"}),
        ("FirstVisitOverdue", case),
        ("VisitCompleted", case | center),
        ("ScreeningCompleted", case | center),
        ("RecoveryPlanAgreed", case | center),
        ("RecoveryGoalReviewed", case | center),
        ("RecoveryReviewDue", case | center),
        ("RecoveryPlanRevised", case | center),
        ("SocialServiceReferred", case | {"referral_id": str(CLUBHOUSE)}),
        ("SocialServiceAccepted", {"referral_id": str(CLUBHOUSE)}),
        ("SocialServiceStarted", {"referral_id": str(CLUBHOUSE)}),
        ("SocialServiceEnded", {"referral_id": str(CLUBHOUSE)}),
        ("SocialServiceReferred", case | {"referral_id": str(TRAINING)}),
        ("SocialServiceDeclined", {"referral_id": str(TRAINING)}),
        ("NotificationFailed", {"reason": SECRET_REASON} | urgent),
        ("NotificationEscalated", urgent),
        ("NotificationAcknowledged", urgent),
        ("ReferralRequested", case | {"referral_id": str(ADMITTED)}),
        ("ReferralIssued", case | {"referral_id": str(ADMITTED)}),
        ("ReferralEscalated", {"referral_id": str(ADMITTED)}),
        ("ReferralAccepted", {"referral_id": str(ADMITTED)}),
        ("PatientAdmitted", {"referral_id": str(ADMITTED)}),
        ("PatientDischarged", {"referral_id": str(ADMITTED)}),
        ("FollowUpScheduled", case),
        ("FollowUpOverdue", case),
        ("EmergencyRecorded", case),
        ("RehabilitationSessionAttended", {}),
        ("ReferralRequested", case | {"referral_id": str(WITHDRAWN)}),
        ("ReferralWithdrawn", case | {"referral_id": str(WITHDRAWN)}),
        ("ReferralCancelled", {"referral_id": str(WITHDRAWN)}),
        ("ReferralRequested", case | {"referral_id": str(DECLINED)}),
        ("ReferralIssued", case | {"referral_id": str(DECLINED)}),
        ("ReferralDeclined", {"referral_id": str(DECLINED)}),
        ("ReferralEscalated", {"referral_id": str(DECLINED), "referral_open": False}),
        ("LostToFollowUp", case),
        ("FollowUpsBelowYearlyMinimum", case),
        ("FamilyConsentWithdrawn", case),
        ("CareTeamMemberLeft", case | {"member_id": "FM-5c1e0d", "role": "guardian"}),
        ("CareTeamMemberLeft", case),
        ("PatientTransferred", {}),
        ("CaseClosed", case | {"continued_by_case_id": str(NEXT_CASE)}),
        (
            "CaseOpened",
            {"case_id": str(NEXT_CASE), "center_id": "CHC-HD-ZGC"}
            | {"transferred_from_case_id": str(CASE)},
        ),
        ("PatientHistoryRead", {}),
    ]


class Network:
    """Signs and chains each producer's stream as the services' outboxes do."""

    def __init__(self) -> None:
        self.signers: dict[str, Signer] = {}
        self.last: dict[str, tuple[int, bytes]] = {}
        self.signatures: dict[UUID, Signature] = {}
        self.clock = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
        self.events_by_type: dict[str, list[Envelope[Any]]] = {}

    def publish(self, event_type: str, changes: dict[str, Any]) -> Envelope[Any]:
        version = CURRENT[event_type].schema_version  # the example of what producers write
        raw = json.loads((MESSAGES / f"{event_type}.v{version}.json").read_text())
        producer = raw["producer"]
        sequence, previous = self.last.get(producer, (0, b""))
        self.clock += timedelta(hours=1)
        if "about" in changes:
            about = self.events_by_type[changes.pop("about")][-1]
            changes |= {"about_event_id": str(about.event_id)}
            if "about_event_type" in raw["data"]:
                changes |= {"about_event_type": about.event_type}
        raw |= {
            "event_id": str(uuid4()),
            "patient_id": str(PATIENT),
            "occurred_at": self.clock.isoformat(),
            "recorded_at": (self.clock + timedelta(seconds=1)).isoformat(),
            "sequence": sequence + 1,
            "previous_hash": hashlib.sha256(previous).hexdigest() if previous else None,
            "data": raw["data"] | changes,
        }
        value = json.dumps(raw).encode()
        envelope = parse_message(value)
        signer = self.signers.setdefault(producer, Signer.generate(f"{producer}-1", producer))
        self.signatures[envelope.event_id] = signer.sign(value)
        self.last[producer] = (sequence + 1, value)
        self.events_by_type.setdefault(event_type, []).append(envelope)
        return envelope


@pytest.fixture(scope="module")
def network() -> Network:
    return Network()


@pytest.fixture(scope="module")
def events(network: Network) -> list[Envelope[Any]]:
    return [network.publish(event_type, changes) for event_type, changes in pathway()]


@pytest.fixture(scope="module")
def bundle(events: list[Envelope[Any]], network: Network) -> Bundle:
    return patient_bundle(events, network.signatures)


@pytest.fixture(scope="module")
def document(bundle: Bundle) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(bundle.model_dump_json())
    return result


def resources(document: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in document["entry"]
        if kind is None or e["resource"]["resourceType"] == kind
    ]


def by_identifier(document: dict[str, Any], kind: str, value: object) -> dict[str, Any]:
    (found,) = [r for r in resources(document, kind) if r["identifier"][0]["value"] == str(value)]
    return found


def walk(node: object) -> Iterator[tuple[str, object]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def test_every_contract_is_mapped_or_declared_without_fhir_counterpart() -> None:
    mapped = {payload.event_type for payload in HANDLERS}
    contracts = {event_type for event_type, _ in CONTRACTS}
    assert mapped.isdisjoint(UNMAPPED)
    assert mapped | set(UNMAPPED) == contracts


def test_the_bundle_round_trips_through_the_fhir_r4b_models(
    bundle: Bundle, document: dict[str, Any]
) -> None:
    text = bundle.model_dump_json()
    assert Bundle.model_validate_json(text).model_dump_json() == text
    for resource in resources(document):
        model = get_fhir_model_class(resource["resourceType"])
        assert model.model_validate(resource).model_dump(mode="json") == resource


def test_the_pathway_becomes_the_expected_resources(document: dict[str, Any]) -> None:
    kinds = Counter(r["resourceType"] for r in resources(document))
    assert document["type"] == "transaction"
    assert kinds["Patient"] == 1
    assert kinds["Condition"] == 1
    assert kinds["EpisodeOfCare"] == 2
    assert kinds["Encounter"] == 4  # visit, admission, emergency, rehabilitation session
    assert kinds["CarePlan"] == 3  # the two cases' follow-ups, the recovery plan
    assert kinds["Goal"] == 3
    assert kinds["CareTeam"] == 1
    assert kinds["Task"] == 5  # three hospital referrals, two social ones
    assert kinds["ServiceRequest"] == 2
    assert kinds["Communication"] == 4  # delivered+failed, acknowledgement, escalation
    mapped = [event_type for event_type, _ in pathway() if event_type not in UNMAPPED]
    assert kinds["Provenance"] == len(mapped)


def test_the_diagnosis_is_an_icd10_condition(document: dict[str, Any]) -> None:
    (condition,) = resources(document, "Condition")
    assert {"system": "http://hl7.org/fhir/sid/icd-10", "code": "F20.0"} in condition["code"][
        "coding"
    ]


def test_referral_tasks_follow_their_status_transitions(document: dict[str, Any]) -> None:
    admitted = by_identifier(document, "Task", ADMITTED)
    assert admitted["status"] == "completed"
    assert admitted["businessStatus"]["text"] == "admitted"
    stay = admitted["output"][0]["valueReference"]["reference"]
    assert (
        next(e for e in document["entry"] if e["fullUrl"] == stay)["resource"]["class"]["code"]
        == "IMP"
    )
    assert by_identifier(document, "Task", WITHDRAWN)["status"] == "cancelled"
    assert by_identifier(document, "Task", DECLINED)["status"] == "rejected"


def test_episodes_open_and_close_with_the_case_manager_as_care_manager(
    document: dict[str, Any],
) -> None:
    closed = by_identifier(document, "EpisodeOfCare", CASE)
    assert closed["status"] == "finished"
    assert [s["status"] for s in closed["statusHistory"]] == ["active", "finished"]
    assert "careManager" in closed
    assert by_identifier(document, "EpisodeOfCare", NEXT_CASE)["status"] == "active"


def test_the_care_plan_tracks_each_follow_up(document: dict[str, Any]) -> None:
    plan = by_identifier(document, "CarePlan", CASE)
    statuses = [a["detail"]["status"] for a in plan["activity"]]
    # first visit done; next superseded by discharge; that one missed; rescheduled one open
    # until the case closed
    assert statuses == ["completed", "cancelled", "stopped", "cancelled"]
    assert plan["status"] == "completed"
    assert "outcomeReference" in plan["activity"][0]


def test_care_team_members_join_and_leave_in_their_roles(document: dict[str, Any]) -> None:
    (team,) = resources(document, "CareTeam")
    periods = {p["role"][0]["coding"][0]["code"]: p["period"] for p in team["participant"]}
    assert "end" not in periods["case_manager"]
    assert "end" in periods["guardian"]
    assert "end" in periods["police_liaison"]


def test_every_reference_resolves_inside_the_bundle(document: dict[str, Any]) -> None:
    full_urls = {e["fullUrl"] for e in document["entry"]}
    references = [v for k, v in walk(document) if k == "reference"]
    assert references
    assert set(references) <= full_urls


def test_every_resource_about_the_patient_has_its_provenance(
    document: dict[str, Any], network: Network
) -> None:
    targets = {t["reference"] for p in resources(document, "Provenance") for t in p["target"]}
    for entry in document["entry"]:
        if entry["resource"]["resourceType"] not in {
            "Provenance",
            "Organization",
            "Practitioner",
            "Device",
        }:
            assert entry["fullUrl"] in targets, entry["resource"]["resourceType"]
    key_ids = {
        ext["valueString"]
        for p in resources(document, "Provenance")
        for outer in p["entity"][0]["extension"]
        if outer["url"] == SIGNATURE_EXTENSION
        for ext in outer["extension"]
        if ext["url"] == "keyId"
    }
    assert key_ids == {s.key_id for producer, s in network.signers.items() if producer != "audit"}


def test_each_entry_is_a_conditional_write_on_its_carenet_identifier(
    document: dict[str, Any],
) -> None:
    for entry in document["entry"]:
        resource, request = entry["resource"], entry["request"]
        assert "id" not in resource  # the receiving server assigns its own ids
        if resource["resourceType"] == "Provenance":
            assert request["method"] == "POST"
            continue
        identifier = resource["identifier"][0]
        query = f"identifier={identifier['system']}|{identifier['value']}"
        assert query in (request.get("ifNoneExist"), request["url"].partition("?")[2])


def test_no_personal_data_leaves_in_the_bundle(document: dict[str, Any]) -> None:
    (patient,) = resources(document, "Patient")
    assert set(patient) <= {
        "resourceType",
        "meta",
        "identifier",
        "active",
        "generalPractitioner",
        "managingOrganization",
    }
    keys = {k for k, _ in walk(document)}
    assert keys.isdisjoint({"telecom", "address", "birthDate", "gender", "photo", "contact"})
    text = json.dumps(document)
    assert "@" not in text
    assert SECRET_REASON not in text


def test_exporting_twice_in_any_order_gives_the_same_bundle(
    events: list[Envelope[Any]], network: Network, bundle: Bundle
) -> None:
    shuffled = events + events[:5]
    random.Random(4).shuffle(shuffled)
    again = patient_bundle(shuffled, network.signatures)
    assert again.model_dump_json() == bundle.model_dump_json()


def test_events_of_several_patients_are_refused(events: list[Envelope[Any]]) -> None:
    other = events[0].model_copy(update={"patient_id": uuid4(), "event_id": uuid4()})
    with pytest.raises(ValueError, match="one patient"):
        patient_bundle([*events, other])


def test_a_visit_s_medication_is_an_observation_of_its_encounter(
    document: dict[str, Any],
) -> None:
    [observation] = [
        r for r in resources(document, "Observation") if "medication-adherence" in str(r["code"])
    ]
    assert observation["valueCodeableConcept"]["coding"][0]["code"] == "intermittent"
    [reason] = observation["component"]
    assert reason["valueCodeableConcept"]["coding"][0]["code"] == "side_effects"
    by_url = {e["fullUrl"]: e["resource"] for e in document["entry"]}
    assert by_url[observation["encounter"]["reference"]]["resourceType"] == "Encounter"


def test_a_screening_is_a_loinc_scored_observation_and_an_urgent_one_a_flag(
    document: dict[str, Any],
) -> None:
    [scored] = [
        r for r in resources(document, "Observation") if "screening" in str(r.get("category"))
    ]
    assert scored["code"]["coding"][0] == {
        "system": "http://loinc.org",
        "code": "44261-6",
        "display": "Patient Health Questionnaire 9 item (PHQ-9) total score",
    }
    assert (scored["valueInteger"], scored["interpretation"][0]["text"]) == (11, "moderate")
    assert "carenet/standard-instruments" in scored["method"]["text"]
    [flag] = [r for r in resources(document, "Flag") if "self-harm" in str(r["code"])]
    assert flag["status"] == "active"


def test_a_recovery_plan_is_a_care_plan_of_goals_and_a_revision_cancels_what_it_leaves_out(
    document: dict[str, Any],
) -> None:
    [plan] = [r for r in resources(document, "CarePlan") if "recovery" in str(r.get("category"))]
    goals = {r["category"][0]["coding"][0]["code"]: r for r in resources(document, "Goal")}
    assert len(plan["goal"]) == 2
    assert goals["work_or_study"]["lifecycleStatus"] == "active"  # kept, in progress
    assert goals["work_or_study"]["target"] == [{"dueDate": "2027-02-05"}]
    assert goals["social_participation"]["lifecycleStatus"] == "cancelled"  # left out
    assert goals["physical_health"]["lifecycleStatus"] == "accepted"  # new, not started


def test_a_social_referral_is_a_service_request_followed_by_a_task_at_the_partner(
    document: dict[str, Any],
) -> None:
    done, declined = (by_identifier(document, "Task", r) for r in (CLUBHOUSE, TRAINING))
    assert done["status"] == "completed"
    assert done["executionPeriod"] == {"start": "2026-12-14", "end": "2027-03-01"}
    assert declined["status"] == "rejected"
    assert declined["statusReason"]["coding"][0]["code"] == "no_capacity"
    request = by_identifier(document, "ServiceRequest", CLUBHOUSE)
    assert request["status"] == "completed"
    assert request["code"]["coding"][0]["code"] == "clubhouse"
    [request_entry] = [e for e in document["entry"] if e["resource"] is request]
    assert done["focus"] == {"reference": request_entry["fullUrl"]}
    assert by_identifier(document, "ServiceRequest", TRAINING)["status"] == "revoked"
