"""The referral saga, routing's side, in one table: what each happening does in each stage.

A community referral goes to a hospital (`ReferralIssued`); the hospital accepts, admits and
discharges, or declines; casework may withdraw it. Where the saga cannot go forward, a
compensation makes people act: `escalate` (ReferralEscalated to the community and network)
or `cancel` (ReferralCancelled to the hospital). A happening the table does not list for a
stage changes nothing and is logged with the reason (a repeat, a late message, a withdrawal
after admission).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    REQUESTED = "requested"
    ISSUED = "issued"
    ACCEPT_OVERDUE = "accept_overdue"
    """Escalated because nobody accepted in time, still open: a late acceptance is welcome."""
    ACCEPTED = "accepted"
    ADMITTED = "admitted"
    DISCHARGED = "discharged"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    UNPLACED = "unplaced"
    """No certified hospital could be chosen; escalated at once."""


ENDED = frozenset({Stage.DISCHARGED, Stage.DECLINED, Stage.CANCELLED, Stage.UNPLACED})


class Happening(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ADMITTED = "admitted"
    DISCHARGED = "discharged"
    WITHDRAWN = "withdrawn"
    ACCEPT_DEADLINE_PASSED = "accept_deadline_passed"


class Compensation(StrEnum):
    ESCALATE = "escalate"
    CANCEL = "cancel"


@dataclass(frozen=True)
class Step:
    then: Stage
    compensation: Compensation | None = None


_OPEN_BEFORE_ADMISSION = (Stage.ISSUED, Stage.ACCEPT_OVERDUE, Stage.ACCEPTED)

STEPS: dict[tuple[Stage, Happening], Step] = {
    **{(s, Happening.ADMITTED): Step(Stage.ADMITTED) for s in _OPEN_BEFORE_ADMISSION},
    **{
        (s, Happening.DECLINED): Step(Stage.DECLINED, Compensation.ESCALATE)
        for s in _OPEN_BEFORE_ADMISSION
    },
    **{
        (s, Happening.WITHDRAWN): Step(Stage.CANCELLED, Compensation.CANCEL)
        for s in _OPEN_BEFORE_ADMISSION
    },
    (Stage.ISSUED, Happening.ACCEPTED): Step(Stage.ACCEPTED),
    (Stage.ACCEPT_OVERDUE, Happening.ACCEPTED): Step(Stage.ACCEPTED),
    (Stage.ISSUED, Happening.ACCEPT_DEADLINE_PASSED): Step(
        Stage.ACCEPT_OVERDUE, Compensation.ESCALATE
    ),
    (Stage.ADMITTED, Happening.DISCHARGED): Step(Stage.DISCHARGED),
}

IGNORED_BECAUSE: dict[tuple[Stage, Happening], str] = {
    (Stage.ADMITTED, Happening.WITHDRAWN): (
        "the patient is already admitted; the hospital's discharge ends the referral"
    ),
    (Stage.DISCHARGED, Happening.WITHDRAWN): "the patient was already admitted and discharged",
}


def next_step(stage: Stage, happening: Happening) -> Step | str:
    """The step the saga takes, or why the happening changes nothing."""
    step = STEPS.get((stage, happening))
    if step is not None:
        return step
    return IGNORED_BECAUSE.get(
        (stage, happening), f"'{happening}' does not apply to a referral that is {stage}"
    )
