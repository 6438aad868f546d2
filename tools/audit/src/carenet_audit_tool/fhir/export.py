"""The resources of one patient's export, keyed by their CareNet identifiers, and the Bundle.

Every resource carries one business identifier in a CareNet system; its Bundle `fullUrl` is
`urn:uuid:` + a uuid5 of that identifier, so exporting the same events twice gives the same
Bundle, and references inside the Bundle are those `urn:uuid:` placeholders.

The Bundle is a `transaction` a hospital's FHIR server can apply as it is, and apply again:

- resources CareNet owns (its facts about the patient's care) are conditional updates,
  `PUT Condition?identifier=<system>|<value>`: the first import creates them with the server's
  own ids, a later import of a longer history updates them instead of duplicating them;
- resources the hospital may already hold richer (the Patient, organisations, staff, the
  CareNet services as Devices) and Provenance (immutable) are conditional creates,
  `POST` with `ifNoneExist`: never duplicated, never overwritten with CareNet's thinner copy.

A `collection` would leave every receiving system to invent this matching itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from fhir.resources.R4B.bundle import Bundle

from carenet_contracts import Envelope
from carenet_kit.signing import Signature

CANONICAL = "https://carenet.example.org/fhir"
"""CareNet's FHIR base for its identifier systems, code systems and extensions.

A placeholder until the operator publishes its own domain; change it here only.
"""
NAMESPACE = uuid5(NAMESPACE_URL, CANONICAL)

ICD10 = "http://hl7.org/fhir/sid/icd-10"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V3_CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"

EVENT_SYSTEM = f"{CANONICAL}/sid/event"
EVENT_TYPE_SYSTEM = f"{CANONICAL}/CodeSystem/event-type"
SIGNATURE_EXTENSION = f"{CANONICAL}/StructureDefinition/event-signature"

SHARED_KINDS = frozenset({"Patient", "Organization", "Practitioner", "Device"})
"""Created if absent, never updated: the hospital's own record of them wins."""
PATIENT_DATA_KINDS = frozenset(
    {
        "Patient",
        "Condition",
        "EpisodeOfCare",
        "Encounter",
        "CarePlan",
        "CareTeam",
        "Goal",
        "Task",
        "Communication",
        "RelatedPerson",
        "Flag",
        "Provenance",
    }
)
RESTRICTED = {"system": V3_CONFIDENTIALITY, "code": "R", "display": "restricted"}
"""Mental-health data: restricted confidentiality on every resource about the patient."""


def system(name: str) -> str:
    """CareNet's identifier system for one kind of id, e.g. `.../sid/case`."""
    return f"{CANONICAL}/sid/{name}"


def code_system(name: str) -> str:
    return f"{CANONICAL}/CodeSystem/{name}"


def coded(name: str, code: str, text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept in one of CareNet's own code systems."""
    return {"coding": [{"system": code_system(name), "code": code}], "text": text or code}


def text(value: str) -> dict[str, Any]:
    return {"text": value}


def instant(moment: datetime) -> str:
    return moment.isoformat()


class Export:
    """The resources built so far from one patient's events, and which event touched which."""

    def __init__(self, patient_id: UUID) -> None:
        self.patient_id = patient_id
        self._resources: dict[str, dict[str, Any]] = {}
        self._requests: dict[str, dict[str, str]] = {}
        self._provenance: dict[UUID, dict[str, Any]] = {}
        self.patient = self.ref("Patient", "patient", str(patient_id))

    def resource(self, kind: str, id_system: str, value: str) -> dict[str, Any]:
        """The resource with this identifier, created empty on first use."""
        url = _full_url(kind, id_system, value)
        if url not in self._resources:
            sid = system(id_system)
            body: dict[str, Any] = {
                "resourceType": kind,
                "identifier": [{"system": sid, "value": value}],
            }
            if kind in PATIENT_DATA_KINDS:
                body["meta"] = {"security": [RESTRICTED]}
            self._resources[url] = body
            query = f"identifier={sid}|{value}"
            self._requests[url] = (
                {"method": "POST", "url": kind, "ifNoneExist": query}
                if kind in SHARED_KINDS
                else {"method": "PUT", "url": f"{kind}?{query}"}
            )
        return self._resources[url]

    def ref(self, kind: str, id_system: str, value: str) -> dict[str, Any]:
        """A reference to the resource with this identifier (created if need be)."""
        self.resource(kind, id_system, value)
        return {"reference": _full_url(kind, id_system, value)}

    def referenced(self, reference: dict[str, Any]) -> dict[str, Any]:
        """The resource a reference made by `ref` points at."""
        return self._resources[reference["reference"]]

    def organisation(self, organisation_id: str) -> dict[str, Any]:
        return self.ref("Organization", "organisation", organisation_id)

    def staff(self, staff_id: str) -> dict[str, Any]:
        return self.ref("Practitioner", "staff", staff_id)

    def relative(self, member_id: str) -> dict[str, Any]:
        reference = self.ref("RelatedPerson", "relative", member_id)
        self.resource("RelatedPerson", "relative", member_id)["patient"] = self.patient
        return reference

    def service(self, producer: str) -> dict[str, Any]:
        reference = self.ref("Device", "service", producer)
        device = self.resource("Device", "service", producer)
        device["deviceName"] = [{"name": f"CareNet {producer}", "type": "user-friendly-name"}]
        return reference

    def came_from(
        self,
        envelope: Envelope[Any],
        targets: list[dict[str, Any]],
        signature: Signature | None,
        on_behalf_of: str | None,
    ) -> None:
        """Record that `envelope` contributed to `targets` (one Provenance per event)."""
        provenance = self._provenance.get(envelope.event_id)
        if provenance is None:
            provenance = _provenance(envelope, self.service(envelope.producer), signature)
            if on_behalf_of is not None:
                provenance["agent"][0]["onBehalfOf"] = self.organisation(on_behalf_of)
            self._provenance[envelope.event_id] = provenance
        for target in targets:
            if target not in provenance["target"]:
                provenance["target"].append(target)

    def targets_of(self, event_id: UUID) -> list[dict[str, Any]]:
        provenance = self._provenance.get(event_id)
        return list(provenance["target"]) if provenance else []

    def bundle(self, timestamp: datetime) -> Bundle:
        """The transaction, validated by the FHIR R4B models (R4-compatible for these types)."""
        entries = [
            {"fullUrl": url, "resource": body, "request": self._requests[url]}
            for url, body in self._resources.items()
        ] + [
            {
                "fullUrl": f"urn:uuid:{uuid5(NAMESPACE, f'Provenance|{event_id}')}",
                "resource": body,
                "request": {
                    "method": "POST",
                    "url": "Provenance",
                    "ifNoneExist": f"entity:identifier={EVENT_SYSTEM}|{event_id}",
                },
            }
            for event_id, body in self._provenance.items()
        ]
        return Bundle.model_validate(
            {
                "resourceType": "Bundle",
                "id": str(uuid5(NAMESPACE, f"Bundle/{self.patient_id}")),
                "meta": {"security": [RESTRICTED]},
                "type": "transaction",
                "timestamp": instant(timestamp),
                "entry": entries,
            }
        )


def _full_url(kind: str, id_system: str, value: str) -> str:
    return f"urn:uuid:{uuid5(NAMESPACE, f'{kind}|{system(id_system)}|{value}')}"


def _provenance(
    envelope: Envelope[Any], producer: dict[str, Any], signature: Signature | None
) -> dict[str, Any]:
    source: dict[str, Any] = {
        "role": "source",
        "what": {
            "identifier": {"system": EVENT_SYSTEM, "value": str(envelope.event_id)},
            "display": (
                f"{envelope.event_type} v{envelope.schema_version}, "
                f"{envelope.producer} #{envelope.sequence}"
            ),
        },
    }
    if signature is not None:
        source["extension"] = [
            {
                "url": SIGNATURE_EXTENSION,
                "extension": [
                    {"url": "keyId", "valueString": signature.key_id},
                    {"url": "ed25519", "valueString": signature.value},
                ],
            }
        ]
    return {
        "resourceType": "Provenance",
        "meta": {"security": [RESTRICTED]},
        "target": [],
        "occurredDateTime": instant(envelope.occurred_at),
        "recorded": instant(envelope.recorded_at),
        "activity": {
            "coding": [{"system": EVENT_TYPE_SYSTEM, "code": envelope.event_type}],
            "text": envelope.event_type,
        },
        "agent": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                            "code": "author",
                        }
                    ]
                },
                "who": producer,
            }
        ],
        "entity": [source],
    }
