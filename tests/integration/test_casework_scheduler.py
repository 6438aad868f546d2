"""A simulated year of follow-up for 1,000 patients, on a real store, with a moved clock.

Four kinds of patients, 250 each, make the expected count of every time-driven event easy to
reason about (see `PATTERNS`). The year is played once with one scheduler, and once with a
restart in the middle and two schedulers racing on the same store: the counts must be exactly
the expected ones both times.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, time, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from eventsourcing.utils import get_topic

from carenet_casework.application import CaseworkApplication
from carenet_casework.commands import OpenCase
from carenet_casework.domain import Visit
from carenet_casework.outbox import integration_events
from carenet_casework.projection import CaseBoard
from carenet_casework.rules import Rating, RuleSet, Symptoms, VisitFindings
from carenet_kit.clock import ManualClock
from carenet_kit.outbox import Cause, PublishedStream
from carenet_kit.read_model_tables import TableFollower

RULES = RuleSet.load()
OPENED = date(2026, 1, 5)  # first visit due 2026-01-19
LAST_DAY = date(2027, 1, 10)  # past the first case year's end (2027-01-05)
PATIENTS_PER_PATTERN = 250
CENTER = "CHC-SIM"
WORKERS = tuple(f"SW-SIM-{n}" for n in range(10))

# Visit days per pattern. Stable visits are due again after 91 days; a missed due date is due
# again 14 days later; 3 misses in a row: lost to follow-up.
PATTERNS: dict[str, list[date]] = {
    # every visit on its due date: 4 in the case year, no deadline missed
    "kept": [date(2026, 1, 15), date(2026, 4, 16), date(2026, 7, 16), date(2026, 10, 15)],
    # never seen: first visit missed, then 2 follow-ups, lost; 0 visits in the year
    "never_seen": [],
    # seen once, then 3 follow-ups missed (04-16, 04-30, 05-14), lost; 1 visit in the year
    "seen_once": [date(2026, 1, 15)],
    # every follow-up missed by 4 days, then made: 3 misses, never 2 in a row; 4 visits
    "always_late": [date(2026, 1, 15), date(2026, 4, 20), date(2026, 7, 24), date(2026, 10, 27)],
}


def expected(per_pattern: int) -> Counter[str]:
    """The time-driven events of the year, for `per_pattern` patients of each pattern."""
    return Counter(
        {
            "FirstVisitOverdue": per_pattern,
            "FollowUpOverdue": per_pattern * (2 + 3 + 3),
            "LostToFollowUp": per_pattern * 2,
            "FollowUpsBelowYearlyMinimum": per_pattern * 2,
        }
    )


TIME_DRIVEN = set(expected(1))


class Scheduler:
    """One casework application following the read model, as one service instance does."""

    def __init__(self, env: dict[str, str], clock: ManualClock) -> None:
        self.app = CaseworkApplication(
            env, integration_events(RULES), RULES, clock=clock, master_key=os.urandom(32)
        )
        self.board = CaseBoard(self.app)
        self.follower = TableFollower(self.board)

    def run_due_work(self) -> int:
        self.follower.catch_up()
        now = self.app.clock.now()
        return self.app.handle_deadlines(self.board.falling_due(RULES.local_date(now)), now)


def routed(patient_id: UUID) -> OpenCase:
    """What a route to the simulated center asks of casework."""
    return OpenCase(
        patient_id=patient_id,
        center_id=CENTER,
        first_visit_due=OPENED + timedelta(days=14),
        social_worker_ids=WORKERS,
        diagnosing_hospital_id="H-SIM",
        category="schizophrenia",
        risk_level=0,
    )


def stable_visit(on: date) -> Visit:
    findings = VisitFindings(0, Symptoms.ESSENTIALLY_GONE, Rating.GOOD, Rating.GOOD, False, False)
    return Visit(uuid4(), on, "home", "patient", findings, "regular")


def noon(day: date) -> datetime:
    return datetime.combine(day, time(12), RULES.zone)


def play_the_year(
    env: dict[str, str],
    schedulers: int,
    restart_on: date | None,
    per_pattern: int = PATIENTS_PER_PATTERN,
) -> Counter[str]:
    clock = ManualClock(noon(OPENED))
    instances = [Scheduler(env, clock) for _ in range(schedulers)]
    setup = instances[0].app
    visits: dict[date, list[UUID]] = {}
    for pattern, days in PATTERNS.items():
        for _ in range(per_pattern):
            patient_id = uuid4()
            setup.open_case(routed(patient_id), Cause.request())
            case_id = setup.active_case_id(patient_id)
            assert case_id is not None, pattern
            for day in days:
                visits.setdefault(day, []).append(case_id)

    day = OPENED
    with ThreadPoolExecutor(max_workers=schedulers) as pool:
        while day <= LAST_DAY:
            clock.advance(noon(day) - clock.now())
            for case_id in visits.get(day, []):
                setup.record_visit(case_id, stable_visit(day), Cause.request())
            list(pool.map(Scheduler.run_due_work, instances))
            if day == restart_on:
                for instance in instances:
                    instance.app.close()
                instances = [Scheduler(env, clock) for _ in range(schedulers)]
                setup = instances[0].app
            day += timedelta(days=1)
    counts = published_event_types(setup)
    for instance in instances:
        instance.app.close()
    return counts


def published_event_types(app: CaseworkApplication) -> Counter[str]:
    """What the relay will publish: the outbox entries, by event type."""
    appended = get_topic(PublishedStream.Appended)
    counts: Counter[str] = Counter()
    position = 0
    while batch := app.process_recorder.select_notifications(
        position, 1000, inclusive_of_start=False
    ):
        for notification in batch:
            if notification.topic == appended:
                event_type = json.loads(app.mapper.to_domain_event(notification).message)
                counts[event_type["event_type"]] += 1
        position = batch[-1].id
    return counts


@pytest.fixture
def sqlite_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """A real SQLite file; in a RAM-backed directory where there is one (`/dev/shm`): what is
    tested is the bookkeeping of deadlines, not the disk's fsync latency."""
    ram = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=ram if ram.is_dir() else tmp_path) as directory:
        yield {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(Path(directory) / "casework.sqlite"),
            "SQLITE_LOCK_TIMEOUT": "30",
        }


def only_time_driven(counts: Counter[str]) -> Counter[str]:
    return Counter({k: v for k, v in counts.items() if k in TIME_DRIVEN})


Play = Callable[[dict[str, str]], Counter[str]]


@pytest.mark.parametrize(
    "play",
    [
        pytest.param(lambda env: play_the_year(env, 1, None), id="one-scheduler"),
        pytest.param(
            lambda env: play_the_year(env, 2, date(2026, 7, 1)), id="restart-and-two-schedulers"
        ),
    ],
)
def test_a_year_for_1000_patients_yields_each_time_driven_event_exactly_as_often_as_expected(
    sqlite_env: dict[str, str], play: Play
) -> None:
    counts = play(sqlite_env)
    assert only_time_driven(counts) == expected(PATIENTS_PER_PATTERN)
    assert counts["CaseOpened"] == 1000
    assert counts["VisitCompleted"] == sum(len(d) for d in PATTERNS.values()) * 250


def test_two_schedulers_on_postgresql_after_a_restart_record_each_deadline_once(
    postgres_database: dict[str, str],
) -> None:
    """The same race on PostgreSQL's row locks and unique constraints, at 50 patients a
    pattern: the year at 1,000 patients is played on SQLite above, and the race does not
    depend on the size."""
    env = {**postgres_database, "PERSISTENCE_MODULE": "eventsourcing.postgres", "CREATE_TABLE": "y"}
    counts = play_the_year(env, 2, date(2026, 7, 1), per_pattern=50)
    assert only_time_driven(counts) == expected(50)
