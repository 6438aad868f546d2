"""The care-pathway rule set: one versioned file (`rules/nhc-2018.yaml`), one section per
service, one version and one time zone for them all.

Plumbing only: where the file is, that it is whole (a version, a time zone the machine knows,
sections named after services and nothing else), and the strict, typed reading of one section
into the model its service declares. What the rules are and what they mean stays in each
service's `rules.py`; every decision a service records names `version`, so an auditor can check
it against the rules that were in force.
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any, ClassVar, Self, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from carenet_contracts.envelope import Producer
from carenet_kit.reference_data import StrictModel, read_yaml, validate_strictly

DEFAULT_RULE_SET_FILE = Path("rules/nhc-2018.yaml")
"""Relative to the working directory, where deploy/build-app.sh lays it out in the image; a
region points `CARENET_RULE_SET_FILE` at its own, for every service alike."""

HEADER = ("version", "timezone")


class RuleSection(StrictModel):
    """One service's section of the rule set, under the version and time zone of the whole.

    A service subclasses it with its own typed fields and names its `section`.
    """

    section: ClassVar[Producer]

    version: str = Field(min_length=1)
    timezone: str
    """Deadlines are calendar days where the centers and hospitals are, whatever the servers'
    time zone."""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {name!r}") from error
        return name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local_date(self, moment: datetime) -> date:
        """The calendar day at that moment where the rules apply (a UTC date is a day behind
        in China before 08:00)."""
        return moment.astimezone(self.zone).date()

    def start_of(self, day: date) -> datetime:
        """Midnight at the start of that calendar day where the rules apply."""
        return datetime.combine(day, time.min, self.zone)

    @classmethod
    def load(cls, path: Path = DEFAULT_RULE_SET_FILE) -> Self:
        """This service's section of the rule set at `path`."""
        return validate_strictly(cls, section_of(read_yaml(path), cls.section, path), path)


def section_of(rule_set: Any, section: str, source: Path) -> dict[str, Any]:
    """One section with the header it stands under; refuses a file that is not whole."""
    if not isinstance(rule_set, dict):
        raise ValueError(f"{source}: a rule set is a mapping of sections")
    if unknown := set(rule_set) - {*HEADER, *get_args(Producer)}:
        raise ValueError(f"{source}: no service has the sections {sorted(unknown)}")
    if missing := [key for key in (*HEADER, section) if key not in rule_set]:
        raise ValueError(f"{source}: the rule set has no {', '.join(missing)}")
    body = rule_set[section]
    if not isinstance(body, dict):
        raise ValueError(f"{source}: the {section} section is a mapping")
    if shadowed := set(body) & set(HEADER):
        raise ValueError(f"{source}: {sorted(shadowed)} belong to the whole rule set")
    return {**body, **{key: rule_set[key] for key in HEADER}}
