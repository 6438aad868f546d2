"""A center's caseload, which takes an event per case, loads from its latest snapshot."""

from __future__ import annotations

import json
import os
from pathlib import Path
from uuid import uuid4

from eventsourcing.application import project_aggregate

from carenet_casework.application import CaseworkApplication
from carenet_casework.domain import Caseload
from carenet_casework.outbox import integration_events
from carenet_casework.rules import RuleSet
from carenet_contracts import parse_message
from carenet_devtools.snapshots import load_reading_from
from carenet_kit.outbox import Cause

MESSAGES = Path(__file__).parents[3] / "contracts" / "tests" / "messages"
MASTER_KEY = os.urandom(32)
RULES = RuleSet.load()


def casework(tmp_path: Path) -> CaseworkApplication:
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(tmp_path / "db")}
    rosters = {"CHC-NS-NANTOU": ["SW-1", "SW-2"]}  # the center of the message below
    return CaseworkApplication(
        env, integration_events(RULES), RULES, rosters=rosters, master_key=MASTER_KEY
    )


def test_the_caseload_loads_from_its_latest_snapshot_to_the_same_state(tmp_path: Path) -> None:
    app = casework(tmp_path)
    routed = json.loads((MESSAGES / "PatientRouted.v1.json").read_text())
    for _ in range(60):  # a case each: past the first snapshot
        routed.update(event_id=str(uuid4()), patient_id=str(uuid4()))
        app.open_case(parse_message(json.dumps(routed).encode()), Cause.request())
    caseload_id = Caseload.create_id(routed["data"]["center_id"])

    restarted = casework(tmp_path)
    loaded, read_after = load_reading_from(restarted, caseload_id)

    assert read_after is not None, "the whole history was replayed"
    assert loaded.version - read_after < 50  # a snapshot at most fifty events old
    assert loaded.assignments == 60
    replayed = project_aggregate(None, restarted.repository.event_store.get(caseload_id))
    assert vars(loaded) == vars(replayed)
