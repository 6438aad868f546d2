"""Relatives and the guardian, linked to a patient by consent, each under a pseudonymous id.

Casework never holds a relative's name or contact details: the relative is a member id, and
their contact details are registered with the notifications service for `family:<member_id>`.
A consent is an event with a scope; withdrawing it is an event; linking again is a new consent.
Each carries the day it was given or withdrawn (a paper form is often entered days later); it
takes effect when recorded, and a consent dated before the relative's last withdrawal is
refused: an older "yes" never undoes a newer "no".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from carenet_casework.domain.errors import (
    AlreadyRecorded,
    NotRecorded,
    RuleBroken,
)
from carenet_kit.plausibility import Implausible

FAMILY_NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:casework:family")

VISIBLE_PARTS = ("appointments", "visits", "risk", "emergencies", "recovery_goals")
"""The parts of the record a consent may open to a relative."""

NOTIFIABLE_EVENT_TYPES = (
    "CaseManagerAssigned",
    "CaseClosed",
    "VisitCompleted",
    "FollowUpScheduled",
    "FollowUpOverdue",
    "EmergencyRecorded",
    "ReferralRequested",
    "PatientTransferred",
    "PatientAdmitted",
    "PatientDischarged",
    "RehabilitationSessionAttended",
)
"""Integration events a relative may be told about, if the consent names them."""


class Relationship(StrEnum):
    PARENT = "parent"
    SPOUSE = "spouse"
    CHILD = "child"
    SIBLING = "sibling"
    GRANDPARENT = "grandparent"
    OTHER_RELATIVE = "other_relative"
    OTHER = "other"
    """A guardian need not be a relative (e.g. appointed by the neighbourhood committee)."""


class ConsentGiver(StrEnum):
    PATIENT = "patient"
    GUARDIAN = "guardian"


class Withdrawer(StrEnum):
    PATIENT = "patient"
    GUARDIAN = "guardian"
    RELATIVE = "relative"
    """The relative themself asks to be unlinked."""


@dataclass(frozen=True)
class Scope:
    may_see: tuple[str, ...]
    notified_of: tuple[str, ...]

    def check(self) -> None:
        if unknown := sorted(set(self.may_see) - set(VISIBLE_PARTS)):
            raise RuleBroken(f"no such part of the record: {', '.join(unknown)}")
        if unknown := sorted(set(self.notified_of) - set(NOTIFIABLE_EVENT_TYPES)):
            raise RuleBroken(f"not an event a relative can be told about: {', '.join(unknown)}")


@dataclass(frozen=True)
class Consent:
    """A relative's standing consent, as plain data."""

    member_id: str
    relationship: Relationship
    is_guardian: bool
    given_by: ConsentGiver
    scope: Scope


class Family(Aggregate):
    """The consents of one patient's relatives: at most one standing consent per relative."""

    @staticmethod
    def create_id(patient_id: UUID) -> UUID:
        return uuid5(FAMILY_NAMESPACE, str(patient_id))

    @event("Started")
    def __init__(self, patient_id: UUID) -> None:
        self.patient_id = patient_id
        self.consents: dict[str, Consent] = {}
        self.withdrawn: set[str] = set()
        """Members whose consent was withdrawn (and not given again)."""
        self.given_on: dict[str, date] = {}
        """The day each standing consent was given."""
        self.withdrawn_on: dict[str, date] = {}
        """The day each member's consent was last withdrawn."""

    class Linked(Aggregate.Event):
        class_version = 2

        patient_id: UUID
        case_id: UUID
        member_id: str
        relationship: str
        is_guardian: bool
        given_by: str
        may_see: list[str]
        notified_of: list[str]
        given_on: date

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["given_on"] = state["timestamp"].date()

    @event(Linked)
    def _linked(
        self,
        patient_id: UUID,
        case_id: UUID,
        member_id: str,
        relationship: str,
        is_guardian: bool,
        given_by: str,
        may_see: list[str],
        notified_of: list[str],
        given_on: date,
    ) -> None:
        self.withdrawn.discard(member_id)
        self.given_on[member_id] = given_on
        self.consents[member_id] = Consent(
            member_id=member_id,
            relationship=Relationship(relationship),
            is_guardian=is_guardian,
            given_by=ConsentGiver(given_by),
            scope=Scope(tuple(may_see), tuple(notified_of)),
        )

    class ConsentWithdrawn(Aggregate.Event):
        class_version = 2

        patient_id: UUID
        case_id: UUID
        member_id: str
        withdrawn_by: str
        withdrawn_on: date

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["withdrawn_on"] = state["timestamp"].date()

    @event(ConsentWithdrawn)
    def _withdrawn(
        self,
        patient_id: UUID,
        case_id: UUID,
        member_id: str,
        withdrawn_by: str,
        withdrawn_on: date,
    ) -> None:
        del self.consents[member_id]
        self.withdrawn.add(member_id)
        self.withdrawn_on[member_id] = withdrawn_on

    def has_guardian(self) -> bool:
        return any(c.is_guardian for c in self.consents.values())

    def link(
        self,
        case_id: UUID,
        member_id: str,
        relationship: Relationship,
        is_guardian: bool,
        given_by: ConsentGiver,
        scope: Scope,
        given_on: date,
    ) -> None:
        """Record a consent; a guardian consents for others only once they are linked."""
        scope.check()
        if member_id in self.consents:
            raise AlreadyRecorded("this relative is already linked; withdraw first to change")
        if given_on < self.withdrawn_on.get(member_id, date.min):
            raise Implausible(
                "given_on", "before_withdrawal", "must not be before the consent was withdrawn"
            )
        if given_by == ConsentGiver.GUARDIAN and not (is_guardian or self.has_guardian()):
            raise RuleBroken("consent by the guardian needs a linked guardian; link them first")
        self._linked(
            self.patient_id,
            case_id,
            member_id,
            relationship.value,
            is_guardian,
            given_by.value,
            list(scope.may_see),
            list(scope.notified_of),
            given_on,
        )

    def withdraw(
        self, case_id: UUID, member_id: str, withdrawn_by: Withdrawer, withdrawn_on: date
    ) -> Consent:
        consent = self.consents.get(member_id)
        if consent is None:
            raise NotRecorded("no standing consent for this relative")
        if withdrawn_on < self.given_on[member_id]:
            raise Implausible(
                "withdrawn_on", "before_consent", "must not be before the consent was given"
            )
        self._withdrawn(self.patient_id, case_id, member_id, withdrawn_by.value, withdrawn_on)
        return consent
