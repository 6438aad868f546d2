"""What notifications knows of the people around one patient, as plain data.

Built by the `PatientCircle` aggregate from the events notifications consumes; the rule table
resolves its audience words against it. Addresses are never personal data:
`staff:<id>`, `family:<member_id>`, `role:<org>/<role>`, `center:<id>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

FAMILY_ROLES = frozenset({"family_member", "guardian"})
"""Care-team roles held by relatives: they are reached only through their consent, as family."""


@dataclass(frozen=True)
class FamilyConsent:
    may_see: frozenset[str]
    notified_of: frozenset[str]


@dataclass(frozen=True)
class Circle:
    center_id: str | None = None
    case_manager_id: str | None = None
    hospital_id: str | None = None
    team: frozenset[tuple[str, str]] = frozenset()
    """(role, member id) of the current care team."""
    family: dict[str, FamilyConsent] = field(default_factory=dict)
    """Relatives whose consent is in force, by member id."""

    def team_members(self, role: str | None = None) -> list[str]:
        """Staff members of the care team, in one role or all (relatives excluded)."""
        return sorted(
            {
                member
                for member_role, member in self.team
                if member_role not in FAMILY_ROLES and (role is None or member_role == role)
            }
        )

    def family_notified_of(self, event_type: str) -> list[str]:
        return sorted(m for m, c in self.family.items() if event_type in c.notified_of)


def staff(member_id: str) -> str:
    return f"staff:{member_id}"


def family(member_id: str) -> str:
    return f"family:{member_id}"


def center(center_id: str) -> str:
    return f"center:{center_id}"


def role(organisation_id: str, role_name: str) -> str:
    return f"role:{organisation_id}/{role_name}"


def family_member_of(recipient: str) -> str | None:
    """The member id when the address is a relative's, else None."""
    kind, _, member = recipient.partition(":")
    return member if kind == "family" else None
