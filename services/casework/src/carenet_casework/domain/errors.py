"""Why the community's aggregates refuse a command; the service layer turns these into 4xx."""

from __future__ import annotations


class RuleBroken(ValueError):
    """The command breaks a rule of the care pathway (refused)."""


class ImplausibleDate(RuleBroken):
    """A dated field breaks a plausibility rule; `field` and `rule` say which, never the value
    (dates of care are personal data). The HTTP layer answers it as an invalid field."""

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class AlreadyRecorded(ValueError):
    """The command contradicts what is already recorded (conflict)."""


class NotRecorded(LookupError):
    """The command names something that is not recorded (unknown)."""
