"""Why the community's aggregates refuse a command, each in the kit's vocabulary of refusals
(`carenet_kit.refusals`): the kind decides the HTTP answer and the stream's dead letter."""

from __future__ import annotations

from carenet_kit.refusals import Conflict, Gone, NotFound, Refused


class RuleBroken(Refused):
    """The command breaks a rule of the care pathway (422)."""


class AlreadyRecorded(Conflict):
    """The command contradicts what is already recorded (409)."""


class NotRecorded(NotFound):
    """The command names a patient, member, consent or session casework does not know (404)."""


class NoCase(NotFound):
    """No such case here (404; on the stream, contact details for it are dead-lettered)."""


class NotYetShared(NotFound):
    """The hospital has not shared the contact details with this case yet (404)."""


class Erased(Gone):
    """The patient's personal data was erased: the case's key is gone (410)."""
