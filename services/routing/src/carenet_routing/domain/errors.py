"""Why a command on routing's aggregates is refused, in the kit's vocabulary.

Routing refuses (422) and finds conflicts (409) with the kit's kinds as they are; only an
unknown name has a class of its own, so that its tests can say which refusal they expect.
"""

from __future__ import annotations

from carenet_kit.refusals import Conflict, NotFound, Refused


class Unknown(NotFound):
    """The command names a center, hospital, staff member, patient or referral routing does
    not know: a 404 at the HTTP boundary, a dead letter with the reason on a Kafka message."""


__all__ = ["Conflict", "Refused", "Unknown"]
