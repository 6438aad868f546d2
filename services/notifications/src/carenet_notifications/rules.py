"""The notification rule table, loaded, typed and applied.

The table is data: the `notifications` section of the network's one rule set
(`rules/nhc-2018.yaml`; `carenet_kit.rule_set`), which a region replaces with its own
(`CARENET_RULE_SET_FILE`). Every notification records the rule set's `version`, so an auditor
can check who was told what against the rules in force.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from string import Formatter
from typing import Any, ClassVar, Literal

from pydantic import Field

from carenet_contracts import CURRENT, Payload
from carenet_kit.reference_data import StrictModel
from carenet_kit.rule_set import RuleSection
from carenet_notifications.circle import Circle, center, family, role, staff

Channel = Literal["webhook", "email"]
"""Channels besides the inbox, which always receives a notification."""


class Urgency(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"


class Rule(StrictModel):
    event: str
    when: dict[str, str] = Field(default_factory=dict)
    at_least: dict[str, int] = Field(default_factory=dict)
    urgency: Urgency
    channels: tuple[Channel, ...]
    audience: tuple[str, ...]
    summary: str
    family_summary: str | None = None
    family_sees: tuple[str, ...] = ()
    dates: tuple[str, ...] = ()

    def applies(self, data: Any) -> bool:
        return all(str(getattr(data, f)) == v for f, v in self.when.items()) and all(
            getattr(data, f) >= v for f, v in self.at_least.items()
        )


class RuleTable(RuleSection):
    section: ClassVar = "notifications"

    rules: tuple[Rule, ...]

    def model_post_init(self, _: Any) -> None:
        """Refuse at start-up a table that names an unknown event, field or audience."""
        for rule in self.rules:
            contract = CURRENT.get(rule.event)
            if contract is None:
                raise ValueError(f"rules name an unknown event type {rule.event!r}")
            templates = [rule.summary, rule.family_summary or ""]
            used = {f for t in templates for _, f, _, _ in Formatter().parse(t) if f}
            used |= {*rule.when, *rule.at_least, *rule.dates}
            if unknown := used - set(contract.model_fields):
                raise ValueError(f"{rule.event}: no such fields {sorted(unknown)}")
            for word in (w for item in rule.audience for w in item.split(" or ")):
                if not _is_audience_word(word.strip()):
                    raise ValueError(f"{rule.event}: unknown audience {word!r}")


@dataclass(frozen=True)
class Planned:
    """One recipient's notification about one event."""

    recipient: str
    urgency: Urgency
    channels: frozenset[Channel]
    summary: str | None
    """None: the recipient may not see what the event says, only that it happened."""
    dates: dict[str, str]


GENERIC_FAMILY_SUMMARY = "There is news about your relative's care."


def plan(table: RuleTable, event: Payload, circle: Circle) -> list[Planned]:
    """The notifications one event calls for: one per recipient, merged across rules."""
    planned: dict[str, Planned] = {}
    for rule in table.rules:
        if rule.event != event.event_type or not rule.applies(event):
            continue
        for recipient in _audience(rule, event, circle):
            one = _for_recipient(rule, event, recipient, circle)
            earlier = planned.get(recipient)
            planned[recipient] = one if earlier is None else _merge(earlier, one)
    return list(planned.values())


def _for_recipient(rule: Rule, data: Any, recipient: str, circle: Circle) -> Planned:
    fields = data.model_dump(mode="json")
    dates = {name: str(fields[name]) for name in rule.dates}
    summary: str | None = rule.summary.format(**fields)
    if recipient.startswith("family:"):
        consent = circle.family[recipient.removeprefix("family:")]
        if rule.family_summary is not None and set(rule.family_sees) <= consent.may_see:
            summary = rule.family_summary.format(**fields)
        else:
            summary, dates = None, {}
    return Planned(recipient, rule.urgency, frozenset(rule.channels), summary, dates)


def _merge(a: Planned, b: Planned) -> Planned:
    """The first matching rule speaks; the most urgent sets the urgency; channels add up."""
    urgency = Urgency.URGENT if Urgency.URGENT in (a.urgency, b.urgency) else Urgency.ROUTINE
    return Planned(a.recipient, urgency, a.channels | b.channels, a.summary, a.dates)


def _audience(rule: Rule, event: Payload, circle: Circle) -> list[str]:
    recipients: list[str] = []
    for item in rule.audience:
        for word in item.split(" or "):
            found = _resolve(word.strip(), event, circle)
            if found:
                recipients.extend(r for r in found if r not in recipients)
                break
    return recipients


Resolver = Callable[[Payload, Circle], list[str]]


def _field(event: Payload, name: str) -> Any:
    return getattr(event, name, None)


def _center_of(event: Payload, circle: Circle) -> str | None:
    return _field(event, "center_id") or _field(event, "from_center_id") or circle.center_id


def _one(value: str | None, address: Callable[[str], str]) -> list[str]:
    return [address(value)] if value else []


RESOLVERS: dict[str, Resolver] = {
    "center": lambda e, c: _one(_center_of(e, c), center),
    "from_center": lambda e, c: _one(_field(e, "from_center_id"), center),
    "to_center": lambda e, c: _one(_field(e, "to_center_id"), center),
    "case_manager": lambda e, c: _one(_field(e, "case_manager_id") or c.case_manager_id, staff),
    "previous_case_manager": lambda e, c: _one(_field(e, "previous_case_manager_id"), staff),
    "care_team": lambda e, c: [staff(m) for m in c.team_members()],
    "hospital": lambda e, c: _one(
        _field(e, "hospital_id") or c.hospital_id, lambda h: role(h, "clinician")
    ),
    "family": lambda e, c: [family(m) for m in c.family_notified_of(e.event_type)],
}


def _is_audience_word(word: str) -> bool:
    kind, _, rest = word.partition("/")
    return (
        word in RESOLVERS
        or (kind in {"care_team", "center_role"} and bool(rest))
        or (word.startswith("role:") and "/" in word)
    )


def _resolve(word: str, event: Payload, circle: Circle) -> list[str]:
    if word.startswith("role:"):
        return [word]
    kind, _, name = word.partition("/")
    if kind == "care_team" and name:
        return [staff(m) for m in circle.team_members(name)]
    if kind == "center_role":
        return _one(_center_of(event, circle), lambda c: role(c, name))
    return RESOLVERS[word](event, circle)


@cache
def default_table() -> RuleTable:
    """The table of the rule set shipped with the network (read once: tests build many
    applications)."""
    return RuleTable.load()
