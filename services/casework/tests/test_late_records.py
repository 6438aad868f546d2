"""Records entered late take their place in the history: given / when / then, and a property.

A visit, admission or discharge is often entered days after it happened. The case's schedule
follows the day things happened, never the order they were entered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from random import Random
from uuid import uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from carenet_casework.commands import RecordAdmission, RecordDischarge
from carenet_casework.domain import Case, Family, Visit, case_deadlines, case_referrals, case_visits
from carenet_casework.domain.family import ConsentGiver, Relationship, Scope, Withdrawer
from carenet_casework.rules import Rating, RuleSet, Symptoms, VisitFindings
from carenet_contracts import VisitClassification as C
from carenet_kit.outbox import Cause

from .conftest import Casework
from .test_family import visit as visit_body

RULES = RuleSet.load()
OPENED = date(2026, 1, 5)
FIRST_DUE = date(2026, 1, 19)
TODAY = date(2026, 6, 1)
SCOPE = Scope(("visits",), ())


def findings(risk_level: int, symptoms: Symptoms = Symptoms.ESSENTIALLY_GONE) -> VisitFindings:
    return VisitFindings(risk_level, symptoms, Rating.GOOD, Rating.GOOD, False, False)


UNSTABLE = findings(3)
BASICALLY_STABLE = findings(1)
STABLE = findings(0)


def a_case() -> Case:
    case = Case(uuid4(), "CHC-A", "H-1", "schizophrenia", 1, FIRST_DUE, OPENED)
    case.assign_manager("SW-1", reason="fewest active cases")
    case.collect_events()  # given: an open case with a case manager
    return case


def visit(on: date, seen: VisitFindings) -> Visit:
    return Visit(uuid4(), on, "home", "patient", seen, "regular")


def new_events(case: Case) -> list[object]:
    return list(case.collect_events())


def test_a_visit_entered_late_does_not_overrule_the_newer_one() -> None:
    """Issue 14, as seen: unstable at risk 3 today, then a basically stable visit of 9 days ago."""
    case = a_case()
    case.record_visit(visit(TODAY, UNSTABLE), RULES)
    new_events(case)

    case.record_visit(visit(TODAY - timedelta(days=9), BASICALLY_STABLE), RULES)

    (recorded,) = new_events(case)
    assert isinstance(recorded, case_visits.VisitRecorded)
    assert recorded.next_follow_up_due == TODAY + timedelta(days=14)
    assert (case.next_due, case.risk_level, case.last_classification) == (
        TODAY + timedelta(days=14),
        3,
        C.UNSTABLE,
    )


def test_a_late_unstable_visit_before_a_newer_stable_one_asks_for_no_referral() -> None:
    case = a_case()
    case.record_visit(visit(TODAY, STABLE), RULES)
    new_events(case)
    case.record_visit(visit(TODAY - timedelta(days=9), findings(4)), RULES)
    assert [type(e) for e in new_events(case)] == [case_visits.VisitRecorded]
    assert (case.risk_level, case.next_due) == (0, TODAY + timedelta(days=91))


def test_a_miss_is_withdrawn_by_a_visit_entered_late_that_was_made_in_time() -> None:
    case = a_case()
    case.handle_deadlines(FIRST_DUE + timedelta(days=3), RULES)
    (missed,) = new_events(case)
    assert isinstance(missed, case_deadlines.FollowUpMissed)

    case.record_visit(visit(FIRST_DUE - timedelta(days=2), STABLE), RULES)

    recorded, withdrawn = new_events(case)
    assert isinstance(recorded, case_visits.VisitRecorded)
    assert isinstance(withdrawn, case_deadlines.FollowUpMissWithdrawn)
    assert withdrawn.due_on == FIRST_DUE
    assert withdrawn.reason == "a visit on 2026-01-17 was recorded"
    assert case.missed == []
    # the visit's three months, not the miss's reschedule (2 February)
    assert recorded.next_follow_up_due == case.next_due == date(2026, 4, 18)
    assert case.handle_deadlines(FIRST_DUE + timedelta(days=4), RULES) is False


def test_lost_to_follow_up_is_withdrawn_when_its_misses_were_no_misses() -> None:
    case = a_case()
    case.handle_deadlines(date(2026, 3, 1), RULES)  # 19 Jan, 2 Feb, 16 Feb missed: lost
    assert case.lost_streaks
    new_events(case)

    case.record_visit(visit(date(2026, 1, 25), STABLE), RULES)

    events = new_events(case)
    withdrawn = [e.due_on for e in events if isinstance(e, case_deadlines.FollowUpMissWithdrawn)]
    lost_withdrawn = [e for e in events if isinstance(e, case_deadlines.LostToFollowUpWithdrawn)]
    assert withdrawn == [date(2026, 2, 2), date(2026, 2, 16)]
    assert [e.missed_due_dates for e in lost_withdrawn] == [
        [date(2026, 1, 19), date(2026, 2, 2), date(2026, 2, 16)]
    ]
    assert case.missed == [date(2026, 1, 19)]  # the first visit was late: that miss stands
    assert case.lost_streaks == []
    assert case.next_due == date(2026, 4, 26)


def test_a_late_discharge_dated_before_the_latest_visit_keeps_the_visits_schedule() -> None:
    case = a_case()
    admission = uuid4()
    case.admitted(admission, "H-1", date(2026, 1, 10), RULES)
    case.record_visit(visit(date(2026, 2, 20), UNSTABLE), RULES)  # seen after discharge
    new_events(case)

    case.discharged(admission, date(2026, 2, 10), RULES)

    (resumed,) = new_events(case)
    assert isinstance(resumed, case_referrals.ResumedAfterDischarge)
    assert resumed.due_on == date(2026, 3, 6)  # the visit's 2 weeks, not the discharge's
    assert (case.status, case.next_due, case.risk_level) == ("active", date(2026, 3, 6), 3)


def test_a_late_admission_withdraws_the_misses_counted_while_the_patient_was_in_hospital() -> None:
    case = a_case()
    case.handle_deadlines(date(2026, 2, 10), RULES)  # 19 Jan and 2 Feb missed
    new_events(case)

    case.admitted(uuid4(), "H-1", date(2026, 1, 12), RULES)

    events = new_events(case)
    assert [e.due_on for e in events if isinstance(e, case_deadlines.FollowUpMissWithdrawn)] == [
        date(2026, 1, 19),
        date(2026, 2, 2),
    ]
    assert case.status == "in_hospital"
    assert case.handle_deadlines(date(2026, 3, 1), RULES) is False


def test_a_late_admission_dated_before_the_latest_visit_does_not_reset_its_schedule() -> None:
    case = a_case()
    admission = uuid4()
    case.admitted(admission, "H-1", date(2026, 1, 10), RULES)
    case.record_visit(visit(date(2026, 2, 20), STABLE), RULES)
    case.discharged(admission, date(2026, 2, 12), RULES)
    new_events(case)

    case.admitted(uuid4(), "H-2", date(2026, 1, 2), RULES)  # an earlier stay, reported late

    assert new_events(case)[1:] == []  # the admission only
    assert (case.status, case.next_due) == ("active", date(2026, 5, 22))


def test_visits_entered_late_withdraw_a_yearly_minimum_found_short() -> None:
    case = a_case()
    for day in (date(2026, 2, 1), date(2026, 5, 1), date(2026, 8, 1)):
        case.record_visit(visit(day, STABLE), RULES)
    case.handle_deadlines(date(2027, 1, 6), RULES)  # the case year to 2027-01-05: 3 of 4
    assert case.years_below == {OPENED: date(2027, 1, 5)}
    new_events(case)

    case.record_visit(visit(date(2026, 11, 1), STABLE), RULES)  # made in the year, entered now

    recounts = [e for e in new_events(case) if isinstance(e, case_deadlines.YearRecounted)]
    assert [(e.year_from, e.follow_ups, e.below_minimum) for e in recounts] == [(OPENED, 4, False)]
    assert case.years_below == {}


# -- the property: the order of recording does not matter ----------------------------------------

WINDOW = 400
"""Days after opening in which visits happen: more than a case year, so yearly counts matter."""

a_visit = st.tuples(
    st.integers(min_value=0, max_value=WINDOW),
    st.sampled_from([STABLE, BASICALLY_STABLE, UNSTABLE, findings(2, Symptoms.PRESENT)]),
    st.integers(min_value=0, max_value=40),
)
"""(day it happened, findings, days until it is entered)."""


@settings(max_examples=150, deadline=None)
@given(
    visits=st.lists(a_visit, min_size=1, max_size=8, unique_by=lambda v: v[0]),
    scheduler_days=st.lists(st.integers(min_value=0, max_value=WINDOW + 40), max_size=6),
    shuffle=st.randoms(use_true_random=False),
)
def test_the_schedule_is_the_same_whatever_the_order_of_recording(
    visits: list[tuple[int, VisitFindings, int]],
    scheduler_days: list[int],
    shuffle: Random,
) -> None:
    """Visits entered on time, or late in any order, with the scheduler running in between,
    end in the same classification, risk, next due day, misses and yearly counts.

    (Not compared: a lost-to-follow-up recorded while it held, before a late visit showed the
    run of misses had ended later. It was true when it was raised, so it is not withdrawn.)"""
    end = OPENED + timedelta(days=WINDOW + 41)
    dated = [(OPENED + timedelta(days=day), seen) for day, seen, _ in visits]

    in_order = a_case()
    for on, seen in sorted(dated, key=lambda v: v[0]):
        in_order.record_visit(visit(on, seen), RULES)
    in_order.handle_deadlines(end, RULES)

    late = a_case()
    timeline: list[tuple[date, int, date | None, VisitFindings | None]] = [
        (OPENED + timedelta(days=day + delay), 1, OPENED + timedelta(days=day), seen)
        for day, seen, delay in visits
    ]
    timeline += [(OPENED + timedelta(days=day), 0, None, None) for day in scheduler_days]
    shuffle.shuffle(timeline)
    for when, _, happened_on, found in sorted(timeline, key=lambda t: t[:2]):  # ties: random
        if happened_on is None or found is None:
            late.handle_deadlines(when, RULES)  # a scheduler run
        else:
            late.record_visit(visit(happened_on, found), RULES)
    late.handle_deadlines(end, RULES)

    assert schedule_of(late) == schedule_of(in_order)


a_stay = st.tuples(
    st.integers(min_value=0, max_value=WINDOW),
    st.integers(min_value=0, max_value=60),
    st.integers(min_value=0, max_value=20),
    st.integers(min_value=0, max_value=20),
)
"""(day admitted, days in hospital, days until the admission and the discharge are reported)."""

Entry = tuple[date, int, Callable[[Case], object]]
"""(day it is recorded, order among that day's records, what is recorded)."""


@settings(max_examples=150, deadline=None)
@given(
    visits=st.lists(a_visit, min_size=1, max_size=6, unique_by=lambda v: v[0]),
    stay=a_stay,
    scheduler_days=st.lists(st.integers(min_value=0, max_value=WINDOW + 100), max_size=6),
    shuffle=st.randoms(use_true_random=False),
)
def test_with_a_hospital_stay_the_schedule_is_the_same_whatever_the_order_of_recording(
    visits: list[tuple[int, VisitFindings, int]],
    stay: tuple[int, int, int, int],
    scheduler_days: list[int],
    shuffle: Random,
) -> None:
    """As above, with an admission and a discharge reported late by the hospital (in their own
    order: intake reports the discharge after the admission)."""
    end = OPENED + timedelta(days=WINDOW + 101)
    admitted_day, days_in, admission_delay, discharge_delay = stay
    admitted_on = OPENED + timedelta(days=admitted_day)
    discharged_on = admitted_on + timedelta(days=days_in)
    admission, reported = uuid4(), admitted_on + timedelta(days=admission_delay)
    entries: list[tuple[date, int, date, Callable[[Case], object]]] = [
        (
            OPENED + timedelta(days=day + delay),
            1,
            OPENED + timedelta(days=day),
            lambda case, on=OPENED + timedelta(days=day), seen=seen: case.record_visit(
                visit(on, seen), RULES
            ),
        )
        for day, seen, delay in visits
    ]
    entries.append(
        (reported, 1, admitted_on, lambda case: case.admitted(admission, "H", admitted_on, RULES))
    )
    entries.append(
        (
            max(reported, discharged_on + timedelta(days=discharge_delay)),
            2,  # after the admission's report on the same day
            discharged_on,
            lambda case: case.discharged(admission, discharged_on, RULES),
        )
    )

    in_order = a_case()  # as it happened: by day; a visit, the admission, then the discharge
    for _, _, _, record in sorted(entries, key=lambda e: (e[2], e[1])):
        record(in_order)
    in_order.handle_deadlines(end, RULES)

    late = a_case()
    timeline: list[Entry] = [(when, kind, record) for when, kind, _, record in entries]
    timeline += [
        (
            OPENED + timedelta(days=day),
            0,
            lambda case, day=day: case.handle_deadlines(OPENED + timedelta(days=day), RULES),
        )
        for day in scheduler_days
    ]
    shuffle.shuffle(timeline)
    for _, _, record in sorted(timeline, key=lambda t: t[:2]):  # ties in random order
        record(late)
    late.handle_deadlines(end, RULES)

    assert schedule_of(late) == schedule_of(in_order)
    assert late.status == in_order.status


def schedule_of(case: Case) -> tuple[object, ...]:
    year_one = sum(1 for d in case.visit_dates if d < date(2027, 1, 5))
    return (
        case.last_classification,
        case.risk_level,
        case.next_due,
        sorted(case.missed),
        year_one,
        case.years_checked,
        case.years_below,
    )


# -- over the API: what the case manager and the subscribers see ---------------------------------


def test_over_the_api_a_late_visit_keeps_the_newer_schedule(casework: Casework) -> None:
    case_id = casework.route("CHC-A")
    http = casework.http()
    casework.clock.advance(timedelta(days=10))
    today = casework.clock.now().date()
    unstable = visit_body(3) | {"visited_on": str(today)}
    assert http.post(f"/v1/cases/{case_id}/visits", json=unstable).status_code == 201
    nine_days_ago = visit_body(1) | {"visited_on": str(today - timedelta(days=9))}
    late = http.post(f"/v1/cases/{case_id}/visits", json=nine_days_ago)
    assert late.status_code == 201, late.text
    assert late.json()["classification"] == "basically_stable"  # the visit's own
    assert late.json()["next_follow_up_due"] == str(today + timedelta(days=14))  # the case's
    case = http.get(f"/v1/cases/{case_id}").json()
    assert (case["risk_level"], case["next_follow_up_due"]) == (3, str(today + timedelta(days=14)))


def test_subscribers_see_the_miss_withdrawn_and_the_visit_where_it_happened(
    casework: Casework,
) -> None:
    case_id = casework.route("CHC-A")  # first visit due 2026-11-16
    patient = casework.case(case_id).patient_id
    casework.clock.advance(timedelta(days=18))
    casework.app.handle_deadlines([case_id], casework.clock.now())
    http = casework.http()
    made_in_time = visit_body(0) | {"visited_on": "2026-11-14"}
    assert http.post(f"/v1/cases/{case_id}/visits", json=made_in_time).status_code == 201

    published = casework.published(patient)
    kinds = [m["event_type"] for m in published]
    assert kinds[-3:] == ["FirstVisitOverdue", "VisitCompleted", "FollowUpMissWithdrawn"]
    overdue, visited, withdrawn = published[-3:]
    assert withdrawn["data"]["due_on"] == overdue["data"]["due_on"] == "2026-11-16"
    assert withdrawn["data"]["reason"] == "a visit on 2026-11-14 was recorded"
    assert visited["occurred_at"].startswith("2026-11-14")
    assert visited["recorded_at"] > visited["occurred_at"]  # recorded when entered (wall clock)
    assert visited["data"]["next_follow_up_due"] == "2027-02-13"
    case = http.get(f"/v1/cases/{case_id}").json()
    assert (case["next_follow_up_due"], case["consecutive_misses"]) == ("2027-02-13", 0)


# -- old stored events still load -----------------------------------------------------------------


def stored_before_this_change(casework: Casework, domain_event: object, *dropped: str) -> object:
    """The event as an older version stored it (without `dropped`), read back by the mapper."""
    mapper = casework.app.mapper
    stored = mapper.to_stored_event(domain_event)  # type: ignore[arg-type]
    state = mapper.transcoder.decode(stored.state)
    for name in (*dropped, "class_version"):
        state.pop(name, None)
    old = type(stored)(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=mapper.transcoder.encode(state),
    )
    return mapper.to_domain_event(old)


def test_events_stored_before_dates_were_kept_load_with_the_day_they_were_recorded(
    casework: Casework,
) -> None:
    case = a_case()
    case.open_referral_id = uuid4()
    case.referral_not_admitted(case.open_referral_id, "no bed", date(2026, 1, 15), RULES)
    (joint,) = new_events(case)
    family = Family(uuid4())
    family.link(uuid4(), "m-1", Relationship.PARENT, False, ConsentGiver.PATIENT, SCOPE, TODAY)
    family.withdraw(uuid4(), "m-1", Withdrawer.PATIENT, TODAY)
    _, linked, withdrawn = family.collect_events()

    old_joint = stored_before_this_change(casework, joint, "decided_on")
    old_linked = stored_before_this_change(casework, linked, "given_on")
    old_withdrawn = stored_before_this_change(casework, withdrawn, "withdrawn_on")

    assert isinstance(old_joint, case_referrals.JointFollowUpScheduled)
    assert old_joint.decided_on == joint.timestamp.date()
    assert isinstance(old_linked, Family.Linked)
    assert old_linked.given_on == linked.timestamp.date()
    assert isinstance(old_withdrawn, Family.ConsentWithdrawn)
    assert old_withdrawn.withdrawn_on == withdrawn.timestamp.date()


def test_the_case_board_follows_the_stay_that_happened_last(casework: Casework) -> None:
    case_id = casework.route("CHC-A")
    patient = casework.case(case_id).patient_id
    stay, earlier_stay = uuid4(), uuid4()
    casework.clock.advance(timedelta(days=20))
    app = casework.app
    app.record_admission(RecordAdmission(patient, stay, "H-1", date(2026, 11, 10)), Cause.request())
    app.record_discharge(RecordDischarge(patient, stay, date(2026, 11, 18)), Cause.request())
    app.record_admission(
        RecordAdmission(patient, earlier_stay, "H-2", date(2026, 11, 4)), Cause.request()
    )

    case = casework.http().get(f"/v1/cases/{case_id}").json()
    assert (case["status"], case["next_follow_up_due"]) == ("active", "2026-12-02")
    assert casework.case(case_id).status == "active"
