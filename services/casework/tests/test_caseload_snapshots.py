"""A center's caseload, which takes an event per case, loads from its latest snapshot."""

from __future__ import annotations

import os
from pathlib import Path
from uuid import uuid4

from eventsourcing.application import project_aggregate

from carenet_casework.application import CaseworkApplication
from carenet_casework.domain import Caseload
from carenet_casework.outbox import integration_events
from carenet_casework.rules import RuleSet
from carenet_devtools.snapshots import load_reading_from
from carenet_kit.outbox import Cause

from .conftest import open_case

MASTER_KEY = os.urandom(32)
RULES = RuleSet.load()


def casework(tmp_path: Path) -> CaseworkApplication:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "db")}
    return CaseworkApplication(env, integration_events(RULES), RULES, master_key=MASTER_KEY)


def test_the_caseload_loads_from_its_latest_snapshot_to_the_same_state(tmp_path: Path) -> None:
    app = casework(tmp_path)
    for _ in range(60):  # a case each: past the first snapshot
        app.open_case(open_case(uuid4(), "CHC-A"), Cause.request())
    caseload_id = Caseload.create_id("CHC-A")

    restarted = casework(tmp_path)
    loaded, read_after = load_reading_from(restarted, caseload_id)

    assert read_after is not None, "the whole history was replayed"
    assert loaded.version - read_after < 50  # a snapshot at most fifty events old
    assert loaded.assignments == 60
    replayed = project_aggregate(None, restarted.repository.event_store.get(caseload_id))
    assert vars(loaded) == vars(replayed)
