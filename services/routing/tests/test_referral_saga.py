"""The referral saga, given / when / then: every step and every compensation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from carenet_routing.domain import Happening, Referral, Refused, Stage

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ACCEPT_BY = NOW + timedelta(hours=24)


def issued() -> Referral:
    referral = Referral(
        referral_id=uuid4(),
        patient_id=uuid4(),
        case_id=uuid4(),
        center_id="CHC-A",
        reason="unstable",
        risk_level=3,
    )
    referral.issue("H-A", ACCEPT_BY, directory_version=7, chosen_because="the diagnosing hospital")
    referral.collect_events()
    return referral


def then(referral: Referral) -> list[str]:
    return [type(e).__name__ for e in referral.collect_events()]


def answer(referral: Referral, happening: Happening, detail: str = "") -> str | None:
    return referral.hospital_answered(happening, "H-A", date(2026, 11, 2), detail)


def test_a_hospital_that_declines_escalates_the_referral_and_ends_it() -> None:
    referral = issued()
    answer(referral, Happening.DECLINED, "no bed")
    escalated = referral.collect_events()[-1]
    assert isinstance(escalated, Referral.Escalated)
    assert escalated.reason == "declined by H-A: no bed"
    assert escalated.stage == "declined"
    assert escalated.referral_open is False  # the community follows up jointly instead
    assert referral.stage is Stage.DECLINED
    assert not referral.is_open


def test_nobody_accepting_by_the_deadline_escalates_once() -> None:
    referral = issued()
    assert not referral.escalate_if_unaccepted(ACCEPT_BY - timedelta(seconds=1))
    assert referral.escalate_if_unaccepted(ACCEPT_BY)
    assert not referral.escalate_if_unaccepted(ACCEPT_BY + timedelta(hours=5))
    events = referral.collect_events()
    assert [type(e).__name__ for e in events] == ["AcceptDeadlinePassed", "Escalated"]
    assert events[-1].referral_open is True  # a late acceptance is still welcome
    assert events[-1].stage == "accept_overdue"
    assert referral.stage is Stage.ACCEPT_OVERDUE


def test_a_late_acceptance_after_escalation_still_moves_the_referral_on() -> None:
    referral = issued()
    referral.escalate_if_unaccepted(ACCEPT_BY)
    assert answer(referral, Happening.ACCEPTED) is None
    assert referral.stage is Stage.ACCEPTED


def test_an_accepted_referral_does_not_escalate_at_the_deadline() -> None:
    referral = issued()
    answer(referral, Happening.ACCEPTED)
    referral.collect_events()
    assert not referral.escalate_if_unaccepted(ACCEPT_BY)
    assert then(referral) == []


def test_a_withdrawal_before_admission_cancels_at_the_hospital() -> None:
    referral = issued()
    answer(referral, Happening.ACCEPTED)
    referral.collect_events()
    assert referral.withdraw("patient_unreachable") is None
    assert then(referral) == ["Withdrawn", "Cancelled"]
    assert referral.stage is Stage.CANCELLED


def test_a_withdrawal_after_admission_is_ignored_with_the_reason() -> None:
    referral = issued()
    answer(referral, Happening.ADMITTED)
    referral.collect_events()
    reason = referral.withdraw("withdrawn")
    assert reason == "the patient is already admitted; the hospital's discharge ends the referral"
    assert then(referral) == []
    assert referral.stage is Stage.ADMITTED


def test_admission_and_discharge_end_the_referral() -> None:
    referral = issued()
    for happening in (Happening.ACCEPTED, Happening.ADMITTED, Happening.DISCHARGED):
        assert answer(referral, happening) is None
    assert referral.stage is Stage.DISCHARGED
    assert not referral.is_open


def test_the_same_answer_twice_changes_nothing_the_second_time() -> None:
    referral = issued()
    answer(referral, Happening.DECLINED, "no bed")
    referral.collect_events()
    assert answer(referral, Happening.DECLINED, "no bed") == (
        "'declined' does not apply to a referral that is declined"
    )
    assert then(referral) == []


def test_an_answer_from_another_hospital_is_refused() -> None:
    with pytest.raises(Refused, match="went to H-A, not to H-B"):
        issued().hospital_answered(Happening.ACCEPTED, "H-B", date(2026, 11, 2))


def test_a_referral_without_a_certified_hospital_escalates_at_once() -> None:
    referral = Referral(
        referral_id=uuid4(),
        patient_id=uuid4(),
        case_id=uuid4(),
        center_id="CHC-A",
        reason="risk",
        risk_level=4,
    )
    referral.leave_unplaced("H-X", "H-X is not certified and no certified hospital in 440305", 3)
    events = referral.collect_events()
    assert [type(e).__name__ for e in events] == ["Requested", "Unplaced", "Escalated"]
    assert events[-1].referral_open is False
    assert referral.stage is Stage.UNPLACED
    assert not referral.escalate_if_unaccepted(NOW + timedelta(days=3))


@pytest.mark.parametrize(
    ("reason", "referral_open", "stage", "still_open"),
    [
        ("not accepted by 2026-11-03T10:00:00+00:00", None, "accept_overdue", True),
        ("declined by H-A: no bed", None, "declined", False),
        ("no hospital for the referral: none certified", None, "unplaced", False),
        ("declined by H-A: no bed", False, "declined", False),
    ],
)
def test_an_escalation_stored_before_it_named_its_stage_is_read_with_it(
    reason: str, referral_open: bool | None, stage: str, still_open: bool
) -> None:
    state: dict[str, object] = {"reason": reason}
    if referral_open is not None:
        state["referral_open"] = referral_open
    Referral.Escalated.upcast_v1_v2(state)
    assert (state["stage"], state["referral_open"]) == (stage, still_open)
