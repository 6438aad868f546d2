"""The plumbing of plausibility checks on the dates a caller states: no date in the future.

"The future" starts where a clock running `tolerance` ahead of the service's own clock would
be: a caller whose clock is a little fast, just after midnight, is not refused for naming its
today. A refusal names the field and the rule, never the value, which may be personal data;
the HTTP handlers answer it as a 422 in the shape of a refused field (`http.InvalidField`).
The domain's own rules (not before birth, an age within bounds) stay in each service.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

from carenet_kit.refusals import Refused

DEFAULT_CLOCK_TOLERANCE = timedelta(minutes=5)
"""How far a caller's clock may run ahead of the service's (`CARENET_CLOCK_TOLERANCE_SECONDS`)."""


class Implausible(Refused):
    """A stated value breaks a plausibility rule; says which field and which rule, not the value."""

    def __init__(self, field: str, rule: str, explanation: str) -> None:
        super().__init__(f"{field} {explanation}")
        self.field = field
        """Its path in the request body, dotted: `consent.given_on`."""
        self.rule = rule
        """A short name of the rule broken, e.g. `in_future`."""
        self.explanation = explanation


def refuse_future(
    field: str, stated: date, now: datetime, zone: tzinfo, tolerance: timedelta
) -> None:
    """Refuse a date (a calendar day in `zone`) or a moment later than `now` + `tolerance`."""
    ahead = now + tolerance
    if isinstance(stated, datetime):
        late = stated > ahead
    else:
        late = stated > ahead.astimezone(zone).date()
    if late:
        minutes = tolerance.total_seconds() / 60
        raise Implausible(
            field, "in_future", f"is in the future (clock tolerance {minutes:g} minutes)"
        )
