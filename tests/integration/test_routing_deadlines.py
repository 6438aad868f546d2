"""Routing's deadlines on a ManualClock: two application instances share one real store.

Both instances run the due work at the same moment; each deadline is acted on exactly once
(optimistic concurrency on the aggregate), and the relay puts exactly one escalation on the
real broker. So is the routing of a patient who waited for a catchment the directory gained.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from carenet_devtools import kafka
from carenet_devtools.kafka import run_sync
from carenet_devtools.topics import read_topic
from carenet_kit.clock import ManualClock
from carenet_kit.outbox import Cause
from carenet_kit.projection import LogFollower
from carenet_kit.read_model_snapshots import SnapshotSchedule
from carenet_kit.reference_data import ReferenceDirectory
from carenet_kit.relay import OutboxRelay
from carenet_kit.topics import load_catalog
from carenet_routing import deadlines
from carenet_routing.application import RoutingApplication
from carenet_routing.commands import RequestReferral, RouteDiagnosedPatient
from carenet_routing.outbox import to_integration_event
from carenet_routing.waiting import WaitingRoutes

REPO = Path(__file__).parents[2]
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "sqlite":
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(tmp_path / "routing.sqlite"),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    database: dict[str, str] = request.getfixturevalue("postgres_database")
    return {"PERSISTENCE_MODULE": "eventsourcing.postgres", "CREATE_TABLE": "y", **database}


def diagnosed(app: RoutingApplication, region_code: str) -> UUID:
    patient_id = uuid4()
    diagnosis = RouteDiagnosedPatient(
        patient_id=patient_id,
        diagnosing_hospital_id="H-SZ-KANGNING",
        category="schizophrenia",
        risk_level=3,
        region_code=region_code,
        recorded_at=START,
    )
    app.route_diagnosed_patient(diagnosis, Cause.request())
    return patient_id


def referred(app: RoutingApplication, patient_id: UUID) -> None:
    request = RequestReferral(
        patient_id=patient_id,
        referral_id=uuid4(),
        case_id=uuid4(),
        center_id="CHC-NS-NANTOU",
        reason="unstable",
        risk_level=3,
    )
    app.request_referral(request, Cause.request())


def both_at_once(apps: list[RoutingApplication], now: datetime) -> int:
    """Both instances run their due work at the same moment; returns the actions recorded."""
    start = threading.Barrier(len(apps))

    def run(app: RoutingApplication) -> int:
        start.wait()
        return app.act_on_due(now)

    with ThreadPoolExecutor(len(apps)) as pool:
        return sum(pool.map(run, apps))


async def relay_everything(app: RoutingApplication, bootstrap: str, topic: str) -> None:
    """Run the outbox relay until it has published every notification of the store."""
    relay = OutboxRelay(app, topic, bootstrap, poll_seconds=0.05)
    task = asyncio.create_task(relay.run())
    recorder = app.process_recorder
    try:
        async with asyncio.timeout(60):
            while (recorder.max_tracking_id(relay.position_name) or 0) < (
                recorder.max_notification_id() or 0
            ):
                await asyncio.sleep(0.1)
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


def test_deadlines_passed_are_acted_on_once_by_two_instances_and_published_once(
    store: dict[str, str], kafka_bootstrap: str
) -> None:
    clock = ManualClock(START)
    apps = [RoutingApplication(store, to_integration_event, clock) for _ in range(2)]
    try:
        apps[0].load_directory(ReferenceDirectory.load(REPO / "reference/demo-directory.yaml"))
        unaccepted = diagnosed(apps[0], "440305001")
        referred(apps[0], unaccepted)
        unroutable = diagnosed(apps[1], "440399001")

        assert both_at_once(apps, clock.advance(timedelta(hours=23))) == 0
        assert both_at_once(apps, clock.advance(timedelta(hours=1))) == 1  # accept_by passed
        assert both_at_once(apps, clock.advance(timedelta(days=3))) == 1  # route_by passed
        assert both_at_once(apps, clock.advance(timedelta(days=3))) == 0

        namespace = f"it-{uuid4().hex[:8]}."
        run_sync(kafka.create_topics(kafka_bootstrap, namespace=namespace))
        topic = namespace + load_catalog().topic_of("routing").name
        run_sync(relay_everything(apps[0], kafka_bootstrap, topic))
        messages = run_sync(read_topic(kafka_bootstrap, topic))
    finally:
        for app in apps:
            app.close()

    def about(patient_id: UUID) -> list[str]:
        return [m.event_type for m in messages if m.patient_id == patient_id]

    assert about(unaccepted) == ["PatientRouted", "ReferralIssued", "ReferralEscalated"]
    assert about(unroutable) == ["RoutingPending", "ManualRoutingOverdue"]
    escalated = next(m for m in messages if m.event_type == "ReferralEscalated")
    assert escalated.schema_version == 2
    assert (escalated.data.cause, escalated.data.referral_open) == ("not_accepted_in_time", True)
    assert escalated.data.detail == f"not accepted by {(START + timedelta(hours=24)).isoformat()}"


def test_a_new_catchment_routes_its_waiting_patient_once_across_instances_and_restarts(
    store: dict[str, str], kafka_bootstrap: str
) -> None:
    """Given a patient waiting for a region no catchment holds, when an operator registers a
    center that holds it, then the due work of two instances racing routes the patient once,
    an instance started afterwards (a restart) routes nobody again, and the broker carries one
    PatientRouted naming the directory version of the change."""
    clock = ManualClock(START)
    apps = [RoutingApplication(store, to_integration_event, clock) for _ in range(2)]
    try:
        apps[0].load_directory(ReferenceDirectory.load(REPO / "reference/demo-directory.yaml"))
        waiting = diagnosed(apps[0], "440399001")
        assert both_at_once(apps, clock.now()) == 0
        version = apps[1].register_center("CHC-NEW", "New", ["440399"], "OP-1", Cause.request())

        assert both_at_once(apps, clock.advance(timedelta(minutes=1))) == 1
        restarted = RoutingApplication(store, to_integration_event, clock)
        apps.append(restarted)
        assert restarted.act_on_due(clock.advance(timedelta(days=4))) == 0  # nor overdue

        namespace = f"it-{uuid4().hex[:8]}."
        run_sync(kafka.create_topics(kafka_bootstrap, namespace=namespace))
        topic = namespace + load_catalog().topic_of("routing").name
        run_sync(relay_everything(apps[0], kafka_bootstrap, topic))
        messages = [
            m for m in run_sync(read_topic(kafka_bootstrap, topic)) if m.patient_id == waiting
        ]
    finally:
        for app in apps:
            app.close()

    assert [m.event_type for m in messages] == ["RoutingPending", "PatientRouted"]
    routed = messages[1].data
    assert (routed.center_id, routed.routed_by, routed.directory_version) == (
        "CHC-NEW",
        "catchment",
        version,
    )


def test_a_restart_takes_the_open_deadlines_from_their_snapshot_and_reads_only_what_is_new(
    store: dict[str, str],
) -> None:
    """Given four patients held for manual routing and a snapshot of the open deadlines taken
    by the due work, an instance started after a fifth is held reads one event to catch up
    (not the five), holds what a rebuild from 0 holds, and flags each overdue route once."""
    clock = ManualClock(START)
    every_four = SnapshotSchedule(every=4, seconds=10**9)
    first = RoutingApplication(store, to_integration_event, clock, snapshots=every_four)
    apps = [first]
    try:
        first.load_directory(ReferenceDirectory.load(REPO / "reference/demo-directory.yaml"))
        for _ in range(4):
            diagnosed(first, "440399001")
        assert first.act_on_due(clock.now()) == 0  # follows the four holds, stores a snapshot
        diagnosed(first, "440399001")

        restarted = RoutingApplication(store, to_integration_event, clock, snapshots=every_four)
        apps.append(restarted)
        assert restarted.following_deadlines.catch_up() == 1
        from_zero = deadlines.OpenDeadlines()
        assert LogFollower(restarted, from_zero, events=deadlines.EVENTS).catch_up() == 5
        assert restarted.open_deadlines == from_zero
        assert restarted.act_on_due(clock.advance(timedelta(days=4))) == 5
        assert first.act_on_due(clock.now()) == 0
    finally:
        for app in apps:
            app.close()


def test_a_restart_takes_the_waiting_routes_from_their_snapshot_and_routes_each_once(
    store: dict[str, str],
) -> None:
    """Given four patients waiting for a region no catchment holds and a snapshot of the
    waiting routes taken by the due work, an instance started after a fifth waits resumes from
    the snapshot's position (not from 0), holds what a rebuild from 0 holds, and when a center
    comes to hold the region routes the five once."""
    clock = ManualClock(START)
    every_four = SnapshotSchedule(every=4, seconds=10**9)
    first = RoutingApplication(store, to_integration_event, clock, snapshots=every_four)
    apps = [first]
    try:
        first.load_directory(ReferenceDirectory.load(REPO / "reference/demo-directory.yaml"))
        for _ in range(4):
            diagnosed(first, "440399001")
        assert first.act_on_due(clock.now()) == 0  # follows the four waits, stores a snapshot
        snapshot_position = first.waiting_routes.position
        diagnosed(first, "440399001")

        restarted = RoutingApplication(store, to_integration_event, clock, snapshots=every_four)
        apps.append(restarted)
        restarted.waiting_routes.restore()
        assert restarted.waiting_routes.position == snapshot_position > 0
        assert restarted.act_on_due(clock.now()) == 0
        from_zero = WaitingRoutes(restarted, schedule=None)
        assert from_zero.route_those_now_held(clock.now().date(), restarted.rules) == 0
        assert restarted.waiting_routes.waiting == from_zero.waiting
        assert len(from_zero.waiting.regions) == 5

        restarted.register_center("CHC-NEW", "New", ["440399"], "OP-1", Cause.request())
        assert restarted.act_on_due(clock.advance(timedelta(minutes=1))) == 5
        assert first.act_on_due(clock.now()) == 0
    finally:
        for app in apps:
            app.close()
