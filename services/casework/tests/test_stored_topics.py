"""Events stored before the case was split into use-case modules still load, and alike.

The library stores each event under the Python path of its class. Until the split every case
event was nested in `Case` (`carenet_casework.domain.case:Case.VisitRecorded`); now each lives
in the module of its use case. `fixtures/case_history_before_split.json` holds one case's whole
history (all 19 kinds of case event) as the code before the split stored it, running
`a_whole_history()` below, with the case as that code rebuilt it from the store.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import StoredEvent

from carenet_casework.application import CaseworkApplication
from carenet_casework.domain import Case, Emergency, Visit
from carenet_casework.domain.case import STORED_BEFORE_THE_SPLIT
from carenet_casework.outbox import integration_events
from carenet_casework.rules import Rating, RuleSet, Symptoms, VisitFindings
from carenet_kit.clock import ManualClock

RULES = RuleSet.load().model_copy(update={"version": "nhc-2018/1"})
"""The rules the fixture was made under."""
BEFORE_THE_SPLIT = json.loads(
    (Path(__file__).parent / "fixtures" / "case_history_before_split.json").read_text()
)
NAMESPACE = uuid5(NAMESPACE_URL, "urn:carenet:test:old-topics")


def uid(name: str) -> UUID:
    return uuid5(NAMESPACE, name)


def seen(risk_level: int) -> VisitFindings:
    return VisitFindings(
        risk_level, Symptoms.ESSENTIALLY_GONE, Rating.GOOD, Rating.GOOD, False, False
    )


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def emergency(name: str, on: date) -> Emergency:
    return Emergency(uid(name), "violence", at(on), "SW-1", "police called")


def a_whole_history() -> Case:
    """Misses, a lost patient, late records withdrawing both, referrals ended every way, a
    hospital stay, a case year checked and recounted, a new case manager, closing."""
    case = Case(
        uid("patient"), "CHC-A", "H-1", "schizophrenia", 1, date(2026, 1, 19), date(2026, 1, 5)
    )
    case.assign_manager("SW-1", reason="fewest active cases at the center")
    case.handle_deadlines(date(2026, 6, 1), RULES)
    case.record_visit(
        Visit(uid("v1"), date(2026, 1, 18), "home", "patient", seen(1), "regular"), RULES
    )
    case.record_visit(
        Visit(uid("v2"), date(2026, 6, 2), "home", "patient", seen(3), "regular"), RULES
    )
    assert case.open_referral_id is not None
    case.withdraw_referral(case.open_referral_id, "family refuses")
    case.record_emergency(emergency("e1", date(2026, 6, 3)), at(date(2026, 6, 5)), RULES)
    assert case.open_referral_id is not None
    case.referral_ended(case.open_referral_id, "cancelled")
    case.record_emergency(emergency("e2", date(2026, 6, 10)), at(date(2026, 6, 10), 10), RULES)
    assert case.open_referral_id is not None
    case.referral_not_admitted(case.open_referral_id, "declined", date(2026, 6, 12), RULES)
    case.record_emergency(emergency("e3", date(2026, 6, 20)), at(date(2026, 6, 20), 10), RULES)
    case.admitted(uid("adm"), "H-1", date(2026, 6, 21), RULES)
    case.discharged(uid("adm"), date(2026, 7, 1), RULES)
    case.handle_deadlines(date(2027, 1, 10), RULES)
    for name, on in (("v3", date(2026, 7, 5)), ("v4", date(2026, 8, 5)), ("v5", date(2026, 9, 5))):
        case.record_visit(Visit(uid(name), on, "home", "patient", seen(0), "regular"), RULES)
    case.reassign_manager("SW-2", reason="leave")
    case.close("transferred", uid("next"))
    return case


def casework(env: dict[str, str]) -> CaseworkApplication:
    return CaseworkApplication(
        env,
        integration_events(RULES),
        RULES,
        clock=ManualClock(at(date(2027, 1, 10))),
        master_key=os.urandom(32),
    )


def view(case: Case) -> dict[str, Any]:
    """The case as the code before the split saw it (the fixture's `expected`)."""
    return {
        "version": case.version,
        "status": case.status,
        "next_due": str(case.next_due),
        "case_manager_id": case.case_manager_id,
        "facts": [repr(fact) for fact in case.facts],
        "visits": [str(v) for v in case.visits],
        "admissions": [str(a) for a in case.admissions],
        "missed": [str(d) for d in case.missed],
        "lost_streaks": [[str(d) for d in streak] for streak in case.lost_streaks],
        "years_checked": case.years_checked,
        "years_below": {str(k): str(v) for k, v in case.years_below.items()},
        "open_referral_id": str(case.open_referral_id),
        "emergencies": [str(e) for e in case.emergencies],
        "last_classification": str(case.last_classification),
        "risk_level": case.risk_level,
    }


def test_a_case_stored_under_the_old_topics_loads_from_sqlite_as_it_did(tmp_path: Path) -> None:
    stored = BEFORE_THE_SPLIT["stored"]
    assert all(s["topic"].startswith("carenet_casework.domain.case:Case.") for s in stored)
    app = casework(
        {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "db")}
    )
    app.recorder.insert_events(
        [
            StoredEvent(
                UUID(s["originator_id"]), s["originator_version"], s["topic"], s["state"].encode()
            )
            for s in stored
        ]
    )

    case: Case = app.repository.get(UUID(stored[0]["originator_id"]))

    assert view(case) == BEFORE_THE_SPLIT["expected"]
    kinds = {type(e) for e in app.repository.event_store.get(case.id)}
    assert kinds == {Case.Opened, *STORED_BEFORE_THE_SPLIT.values()}


ADDED_SINCE = {"class_version", "nonadherence_reason", "medication_guidance"}
"""What event classes have stored since the split (a new class version, its new fields)."""


def test_the_events_are_stored_in_the_same_shape_as_before_the_split() -> None:
    """Only the topic moved (and is registered): the stored state of each event is the old one,
    but for what later versions of an event class added (`VisitRecorded` 3: medication)."""
    app = casework({"PERSISTENCE_MODULE": "eventsourcing.popo"})
    now = [app.mapper.to_stored_event(e) for e in a_whole_history().collect_events()]
    before = BEFORE_THE_SPLIT["stored"]

    def state(text: str) -> dict[str, Any]:
        fields: dict[str, Any] = json.loads(text)
        del fields["timestamp"]  # when the fixture was made
        return {k: v for k, v in fields.items() if k not in ADDED_SINCE}

    assert [state(s.state.decode()) for s in now] == [state(s["state"]) for s in before]
    assert [STORED_BEFORE_THE_SPLIT.get(s["topic"]) for s in before] == [
        None if s.topic.endswith(":Case.Opened") else type(e)
        for s, e in zip(now, map(app.mapper.to_domain_event, now), strict=True)
    ]
