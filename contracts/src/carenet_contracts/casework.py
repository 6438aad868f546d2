"""What the community tier publishes: cases, case managers, visits (producer `casework`)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import ClassVar, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from carenet_contracts.common import (
    NOT_TAKEN_AS_PRESCRIBED,
    CareTeamRole,
    MedicationAdherence,
    NonadherenceReason,
    OrganisationId,
    ReferralReason,
    RiskLevel,
    VisitClassification,
    VisitMode,
)
from carenet_contracts.envelope import Payload, Producer

StaffId = OrganisationId


class CaseOpened(Payload):
    """The community health center opened the patient's case file."""

    event_type: ClassVar[str] = "CaseOpened"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    center_id: OrganisationId
    first_visit_due: date
    transferred_from_case_id: UUID | None = Field(
        default=None, description="The closed case whose history this one continues."
    )
    contact_key: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{43}$",
        description="The case's X25519 public key (32 bytes, unpadded base64url): intake seals "
        "the patient's contact details to it (`ContactDetailsShared`). None: no contact wanted.",
    )


class CaseManagerAssigned(Payload):
    """A social worker of the center became the case manager."""

    event_type: ClassVar[str] = "CaseManagerAssigned"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    center_id: OrganisationId
    case_manager_id: OrganisationId
    reason: str
    previous_case_manager_id: OrganisationId | None = Field(
        default=None, description="Set on a reassignment."
    )


class VisitCompletedV1(Payload):
    """A follow-up visit happened; the rules classified it and set the next due date."""

    # Version 1, still on the topics; `parse_message` reads it as version 2 (see there).
    model_config = ConfigDict(frozen=True, extra="ignore", title="VisitCompleted")

    event_type: ClassVar[str] = "VisitCompleted"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    visit_id: UUID
    center_id: OrganisationId
    case_manager_id: OrganisationId
    visited_on: date
    mode: VisitMode
    risk_level: RiskLevel
    classification: VisitClassification
    next_follow_up_due: date
    rule_set_version: str


class VisitCompleted(Payload):
    """A follow-up visit happened; the rules classified it and set the next due date.

    Version 2: what the national follow-up form asks at every visit about medication — the
    adherence, why it is not as prescribed, and whether guidance was given (its words stay in
    casework's record). Version 1 did not carry them: read as version 2 they are
    `not_recorded` and unknown (null), never a guess.
    """

    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        json_schema_extra={
            "if": {"properties": {"medication_adherence": {"enum": ["intermittent", "none"]}}},
            "then": {"properties": {"nonadherence_reason": {"type": "string"}}},
            "else": {"properties": {"nonadherence_reason": {"type": "null"}}},
        },
    )

    event_type: ClassVar[str] = "VisitCompleted"
    schema_version: ClassVar[int] = 2
    producer: ClassVar[Producer] = "casework"
    previous: ClassVar[type[Payload] | None] = VisitCompletedV1

    case_id: UUID
    visit_id: UUID
    center_id: OrganisationId
    case_manager_id: OrganisationId
    visited_on: date
    mode: VisitMode
    risk_level: RiskLevel
    classification: VisitClassification
    # the case's next due day with this visit in its place in the history: for a visit
    # entered late, a newer visit's schedule stands
    next_follow_up_due: date
    medication_adherence: MedicationAdherence
    nonadherence_reason: NonadherenceReason | None = Field(
        description="Why, exactly when the adherence is intermittent or none; else null."
    )
    medication_guidance_given: bool | None = Field(
        description="Whether the case manager gave medication guidance; null: not recorded."
    )
    rule_set_version: str

    @model_validator(mode="after")
    def _reason_goes_with_nonadherence(self) -> Self:
        needs_reason = self.medication_adherence in NOT_TAKEN_AS_PRESCRIBED
        if needs_reason != (self.nonadherence_reason is not None):
            raise ValueError(
                "nonadherence_reason is given exactly when medication_adherence is "
                "intermittent or none"
            )
        return self

    @classmethod
    def upcast(cls, old: Payload) -> VisitCompleted:
        """Version 1 as version 2: what it did not record stays unrecorded."""
        assert isinstance(old, VisitCompletedV1)
        return cls(
            **old.model_dump(),
            medication_adherence=MedicationAdherence.NOT_RECORDED,
            nonadherence_reason=None,
            medication_guidance_given=None,
        )


class CaseClosed(Payload):
    """The case at this center ended (transfer to another center, death, end of management)."""

    event_type: ClassVar[str] = "CaseClosed"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    center_id: OrganisationId
    reason: str
    continued_by_case_id: UUID | None = None


class FollowUpScheduled(Payload):
    """A follow-up was set outside a visit (return from hospital, rescheduling after a miss)."""

    # also: the next due day moved because a record entered late changed the history
    # (`reason` says which)

    event_type: ClassVar[str] = "FollowUpScheduled"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    center_id: OrganisationId
    due_on: date
    reason: str
    rule_set_version: str


class FirstVisitOverdue(Payload):
    """The center did not make the first visit within the deadline after routing."""

    event_type: ClassVar[str] = "FirstVisitOverdue"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    center_id: OrganisationId
    case_manager_id: StaffId | None
    due_on: date
    rule_set_version: str


class FollowUpOverdue(Payload):
    """A due follow-up passed without a visit; `consecutive_misses` counts the streak."""

    event_type: ClassVar[str] = "FollowUpOverdue"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    center_id: OrganisationId
    case_manager_id: StaffId | None
    due_on: date
    consecutive_misses: int = Field(ge=1)
    rescheduled_to: date
    rule_set_version: str


class LostToFollowUp(Payload):
    """Consecutive follow-ups were missed up to the rule's limit; the case is escalated."""

    event_type: ClassVar[str] = "LostToFollowUp"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    center_id: OrganisationId
    case_manager_id: StaffId | None
    missed_due_dates: list[date]
    rule_set_version: str


class FollowUpMissWithdrawn(Payload):
    """A follow-up published as missed was not: a record entered late (a visit made in time,
    an admission) places the history otherwise. The `FollowUpOverdue` stays in the stream;
    from this event on it no longer counts."""

    event_type: ClassVar[str] = "FollowUpMissWithdrawn"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    center_id: OrganisationId
    case_manager_id: StaffId | None
    due_on: date = Field(description="The due day of the miss withdrawn.")
    reason: str = Field(description="Which late record showed it, by kind and date only.")
    rule_set_version: str


class LostToFollowUpWithdrawn(Payload):
    """The misses of a published `LostToFollowUp` are no longer misses in a row, because a
    record entered late shows otherwise; the escalation no longer holds."""

    event_type: ClassVar[str] = "LostToFollowUpWithdrawn"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    center_id: OrganisationId
    case_manager_id: StaffId | None
    missed_due_dates: list[date] = Field(
        description="As the withdrawn `LostToFollowUp` named them."
    )
    reason: str = Field(description="Which late record showed it, by kind and date only.")
    rule_set_version: str


class FollowUpsBelowYearlyMinimum(Payload):
    """A patient at home had fewer follow-ups in a case year than the rules require."""

    event_type: ClassVar[str] = "FollowUpsBelowYearlyMinimum"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    center_id: OrganisationId
    year_from: date
    year_to: date = Field(description="Exclusive end of the case year.")
    follow_ups: int = Field(ge=0)
    required: int = Field(ge=1)
    rule_set_version: str


class FollowUpsBelowYearlyMinimumWithdrawn(Payload):
    """Visits entered late bring a case year published as below the minimum up to it."""

    # or a stay in hospital at the year's end, reported late, shows the minimum did not apply

    event_type: ClassVar[str] = "FollowUpsBelowYearlyMinimumWithdrawn"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    center_id: OrganisationId
    year_from: date
    year_to: date = Field(description="Exclusive end of the case year.")
    follow_ups: int = Field(ge=0, description="Counted again, with the late visits.")
    required: int = Field(ge=1)
    reason: str = Field(description="Which late record showed it, by kind and date only.")
    rule_set_version: str


class ReferralRequested(Payload):
    """The community asks for the patient to be referred to a hospital (two-way referral)."""

    event_type: ClassVar[str] = "ReferralRequested"
    producer: ClassVar[Producer] = "casework"

    referral_id: UUID
    case_id: UUID
    center_id: OrganisationId
    reason: ReferralReason
    risk_level: RiskLevel
    rule_set_version: str


class ReferralWithdrawn(Payload):
    """The community takes a referral back (the saga's compensation starts in routing)."""

    event_type: ClassVar[str] = "ReferralWithdrawn"
    producer: ClassVar[Producer] = "casework"

    referral_id: UUID
    case_id: UUID
    reason: str = Field(description="'withdrawn' or 'patient_unreachable', with a remark.")


class EmergencyKind(StrEnum):
    RELAPSE = "relapse"
    HARM_TO_OTHERS = "harm_to_others"
    SELF_HARM = "self_harm"
    OVERDOSE = "overdose"


class EmergencyRecorded(Payload):
    """An emergency and its handling were recorded; late when over 24 hours after it began."""

    event_type: ClassVar[str] = "EmergencyRecorded"
    producer: ClassVar[Producer] = "casework"

    emergency_id: UUID
    case_id: UUID
    center_id: OrganisationId
    kind: EmergencyKind
    occurred_at: datetime
    handled_by: StaffId
    recorded_late: bool = Field(description="Recorded more than the rules' 24 hours after.")
    rule_set_version: str


class CareTeamMemberJoined(Payload):
    """Someone joined the patient's care-and-assistance team in a role."""

    event_type: ClassVar[str] = "CareTeamMemberJoined"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    member_id: StaffId = Field(description="Staff id, or the pseudonymous id of a relative.")
    role: CareTeamRole


class CareTeamMemberLeft(Payload):
    event_type: ClassVar[str] = "CareTeamMemberLeft"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    member_id: StaffId
    role: CareTeamRole
    reason: str


class ConsentScope(BaseModel):
    """What a linked relative may see and which notifications reach them."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    may_see: list[str] = Field(
        description="Parts of the record: 'appointments', 'visits', 'risk', 'emergencies', "
        "'recovery_goals' (the recovery goals the patient shares with the family)."
    )
    notified_of: list[str] = Field(description="Event types the relative is told about.")


class FamilyMemberLinked(Payload):
    """A relative or guardian was linked with the patient's (or guardian's) consent."""

    event_type: ClassVar[str] = "FamilyMemberLinked"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    member_id: StaffId = Field(description="Pseudonymous id of the relative.")
    relationship: str
    is_guardian: bool
    consent_given_by: str = Field(description="'patient' or 'guardian'.")
    scope: ConsentScope


class FamilyConsentWithdrawn(Payload):
    """Consent for a relative was withdrawn; nothing reaches them from now on."""

    event_type: ClassVar[str] = "FamilyConsentWithdrawn"
    producer: ClassVar[Producer] = "casework"

    case_id: UUID
    member_id: StaffId
    withdrawn_by: str


class SessionKind(StrEnum):
    PEER_SUPPORT = "peer_support"
    GROUP_ACTIVITY = "group_activity"


class RehabilitationSessionAttended(Payload):
    """The patient attended a peer-support session or a group activity at the center."""

    event_type: ClassVar[str] = "RehabilitationSessionAttended"
    producer: ClassVar[Producer] = "casework"

    session_id: UUID
    center_id: OrganisationId
    kind: SessionKind
    topic: str
    held_on: date
    duration_minutes: int = Field(ge=1, le=600)
    facilitator_id: StaffId
