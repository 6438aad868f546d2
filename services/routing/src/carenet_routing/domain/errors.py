"""Why a command on routing's aggregates is refused; each maps to one HTTP status."""

from __future__ import annotations

from carenet_kit.inbound import CommandConflict, CommandRejected


class Refused(CommandRejected):
    """The command is malformed or not allowed in the current state (422)."""


class Conflict(CommandConflict):
    """The command contradicts what is recorded, e.g. a catchment held by another center (409)."""


class Unknown(CommandRejected):
    """The command names a center, hospital, staff member or patient the service does not know.

    At the HTTP boundary this is a 404; on a Kafka message it dead-letters with the reason.
    """
