"""Why intake's aggregates refuse a command, each in the kit's vocabulary of refusals
(`carenet_kit.refusals`): the kind decides the HTTP answer and the stream's dead letter."""

from __future__ import annotations

from carenet_kit.refusals import Conflict, Refused


class WrongHospital(Refused):
    """The hospital acting on a referral or an admission is not the one it concerns (422)."""


class StateConflict(Conflict):
    """The command contradicts the state the referral or admission is in (409)."""
