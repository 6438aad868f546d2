"""Why the community's aggregates refuse a command; the service layer turns these into 4xx."""

from __future__ import annotations


class RuleBroken(ValueError):
    """The command breaks a rule of the care pathway (refused)."""


class AlreadyRecorded(ValueError):
    """The command contradicts what is already recorded (conflict)."""


class NotRecorded(LookupError):
    """The command names something that is not recorded (unknown)."""
