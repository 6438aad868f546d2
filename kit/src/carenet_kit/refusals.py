"""The one vocabulary a service refuses a command in, wherever the command came from.

A domain error says what kind of refusal it is by subclassing one of the kinds below;
nothing translates it on the way out. Each kind has one HTTP answer (`http.py` turns any
`Refusal` into a problem document, RFC 9457: its `status`, its `type`, the message as
`detail`) and one stream behaviour (`inbound.py` dead-letters any `Refusal` with the message
as its reason). Because the message goes to the caller and into the dead-letter topic's
headers, it names ids and rules, never personal data (no name, phone, address or free text).

To add a refusal, subclass the kind in the service's `domain/errors.py`:

    class CatchmentHeld(Conflict):  # another center already holds the region (409)
        pass

A not-found refusal answers 404 to whoever may see the patient; a caller who may not see the
patient is turned away by the route's access check before the command runs, with the same 404.
"""

from __future__ import annotations

from typing import ClassVar


class Refusal(Exception):
    """The service refuses a command; `str(error)` is the reason given to the caller."""

    status: ClassVar[int]
    """The HTTP status of the answer."""
    type: ClassVar[str]
    """The problem type (RFC 9457 `type`): stable, whatever the message says."""


class Refused(Refusal):
    """The command breaks a rule, or is not allowed in the current state."""

    status = 422
    type = "urn:carenet:problem:refused"


class Conflict(Refusal):
    """The command contradicts what is already recorded; read again before retrying."""

    status = 409
    type = "urn:carenet:problem:conflict"


class NotFound(Refusal):
    """The command names something the service does not know."""

    status = 404
    type = "urn:carenet:problem:not-found"


class Gone(Refusal):
    """What the command names was known and is no longer there, e.g. erased personal data."""

    status = 410
    type = "urn:carenet:problem:gone"


class UpstreamFailed(Refusal):
    """A service the command depends on answered something unusable; nothing was recorded."""

    status = 502
    type = "urn:carenet:problem:upstream-failed"
