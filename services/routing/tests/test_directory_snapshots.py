"""The directory loads from its latest snapshot, to the same state as from its whole history."""

from __future__ import annotations

from pathlib import Path

from eventsourcing.application import project_aggregate

from carenet_devtools.snapshots import load_reading_from
from carenet_kit.outbox import Cause
from carenet_kit.reference_data import ReferenceDirectory
from carenet_routing.application import RoutingApplication
from carenet_routing.domain import DIRECTORY_ID, StaffRole
from carenet_routing.outbox import to_integration_event

REFERENCE = Path(__file__).parents[3] / "reference" / "demo-directory.yaml"


def routing(tmp_path: Path) -> RoutingApplication:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "db")}
    return RoutingApplication(env, to_integration_event)


def test_the_directory_loads_from_its_latest_snapshot_to_the_same_state(tmp_path: Path) -> None:
    app = routing(tmp_path)
    app.load_directory(ReferenceDirectory.load(REFERENCE))
    center = next(iter(app.directory().centers)).id
    for n in range(10):  # operator changes past the next snapshot
        app.staff_joined(center, f"SW-NEW-{n}", StaffRole.SOCIAL_WORKER, "OP-1", Cause.request())
    version = app.directory().version

    restarted = routing(tmp_path)
    loaded, read_after = load_reading_from(restarted, DIRECTORY_ID)

    assert read_after is not None, "the whole history was replayed"
    assert version - read_after < 10  # a snapshot at most ten changes old
    replayed = project_aggregate(None, restarted.repository.event_store.get(DIRECTORY_ID))
    assert vars(loaded) == vars(replayed)
    assert loaded.centers[center].staff["SW-NEW-9"] is StaffRole.SOCIAL_WORKER
