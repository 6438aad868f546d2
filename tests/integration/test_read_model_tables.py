"""Read models as SQL tables (`carenet_kit.read_model_tables`), on real SQLite and PostgreSQL.

Given a store of a few hundred casework (or intake) events and its read model's tables, when
more events are recorded and a new follower starts on the same store, then it reads exactly
the events after the stored position, and the tables equal a rebuild from position 0. A batch
is applied with its position in one transaction: a crash before the position is stored leaves
nothing of the batch in the tables. Tables written by other code are rebuilt from 0.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import Notification
from eventsourcing.utils import get_topic

from carenet_casework.application import CaseworkApplication
from carenet_casework.outbox import integration_events
from carenet_casework.projection import CASES
from carenet_casework.projection_recovery import CaseworkBoard
from carenet_devtools.rebuilds import diverging_tables
from carenet_intake.domain import Patient
from carenet_intake.projection import PATIENTS, HospitalRegister
from carenet_kit.application import ServiceApplication
from carenet_kit.clock import ManualClock
from carenet_kit.outbox import Cause
from carenet_kit.read_model_tables import SqlReadModel, StaleReadModel, TableFollower

from .test_casework_scheduler import OPENED, RULES, noon, routed, stable_visit
from .test_read_model_snapshots import HOSPITALS, IntakeHistory

YEAR = timedelta(days=400)


class CaseworkHistory:
    """Cases opened at a center, visits on time, and follow-ups missed as the weeks pass."""

    def __init__(self, env: dict[str, str]) -> None:
        self.clock = ManualClock(noon(OPENED))
        self.app = CaseworkApplication(
            env, integration_events(RULES), RULES, clock=self.clock, master_key=os.urandom(32)
        )
        self.cases: list[UUID] = []

    def record(self, patients: int) -> None:
        """A visit on half the open cases, new cases, then a month on: deadlines fall due."""
        today = RULES.local_date(self.clock.now())
        for case_id in self.cases[::2]:
            self.app.record_visit(case_id, stable_visit(today), Cause.request())
        for _ in range(patients):
            self.app.open_case(routed(uuid4()), Cause.request())  # type: ignore[arg-type]
        board = rebuilt(self.app, CaseworkBoard)
        self.cases = [c.case_id for c in board.find()]
        self.clock.advance(timedelta(days=30))
        today = RULES.local_date(self.clock.now())
        self.app.handle_deadlines(board.falling_due(today), self.clock.now())


def notifications(app: ServiceApplication) -> list[Notification]:
    return list(app.process_recorder.select_notifications(0, 1_000_000))


def recorded(app: ServiceApplication) -> int:
    return app.process_recorder.max_notification_id() or 0


M = TypeVar("M", bound=SqlReadModel)


def rebuilt(app: ServiceApplication, read_model: type[M]) -> M:
    """The read model from position 0, in tables of its own in memory."""
    model = read_model(app, private=True)
    TableFollower(model).catch_up()
    return model


def contents(model: SqlReadModel) -> dict[str, list[Any]]:
    """Every table's views, in order, and the answers of the queries that are not lookups."""
    views: dict[str, list[Any]] = {table.name: model.where(table) for table in model.tables}
    if isinstance(model, CaseworkBoard):
        views["falling_due"] = model.falling_due(RULES.local_date(noon(OPENED + YEAR)))
    if isinstance(model, HospitalRegister):
        for hospital in HOSPITALS:
            views[hospital] = [
                model.patients_of(hospital),
                model.worklist_of(hospital),
                model.inpatients_of(hospital),
            ]
    return views


HISTORIES = [
    pytest.param(CaseworkHistory, CaseworkBoard, id="casework"),
    pytest.param(IntakeHistory, HospitalRegister, id="intake"),
]


@pytest.mark.parametrize(("history", "read_model"), HISTORIES)
def test_a_restart_reads_only_what_was_recorded_after_the_stored_position(
    env: dict[str, str], history: Any, read_model: type[SqlReadModel]
) -> None:
    first = history(env)
    first.record(40)
    first.record(40)
    before = TableFollower(read_model(first.app))
    assert before.catch_up() == recorded(first.app) > 200
    position = before.read_model.position()
    assert position == recorded(first.app)
    first.record(20)  # visits, misses, new cases
    first.app.close()

    second = history(env)
    after = TableFollower(read_model(second.app))

    assert after.catch_up() == recorded(second.app) - position > 50
    assert after.read_model.position() == recorded(second.app)
    held = contents(after.read_model)
    assert held == contents(rebuilt(second.app, read_model))
    assert held[read_model.tables[0].name]  # cases; intake: patients
    second.app.close()


def test_a_crash_before_the_position_is_stored_leaves_nothing_of_the_batch(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    history = CaseworkHistory(env)
    history.record(30)
    board = CaseworkBoard(history.app)
    follower = TableFollower(board)
    assert follower.step() > 0  # a first batch, stored with its position
    stored, held = board.position(), contents(board)

    def crash(*_: object) -> None:
        raise RuntimeError("the process dies here")

    history.record(30)
    monkeypatch.setattr(board, "_store_position", crash)
    with pytest.raises(RuntimeError):
        follower.step()

    assert board.position() == stored
    assert contents(board) == held  # none of the crashed batch's changes
    monkeypatch.undo()
    restarted = TableFollower(CaseworkBoard(history.app))
    assert restarted.catch_up() == recorded(history.app) - stored
    assert contents(restarted.read_model) == contents(rebuilt(history.app, CaseworkBoard))
    history.app.close()


def test_a_batch_applied_twice_is_told_from_a_rebuild(env: dict[str, str]) -> None:
    """What the fault scenarios' checker finds as `diverged` (`carenet_devtools.rebuilds`): a
    read model whose stored position fell behind its tables (as a batch's tables and position
    written apart, with a crash between them, would leave it) applies events again, and the
    tables that differ from a rebuild are named. Intake's register counts each patient's
    diagnoses: the last diagnosis applied twice counts two."""
    history = IntakeHistory(env)
    history.record(10)
    register = HospitalRegister(history.app)
    TableFollower(register).catch_up()
    assert diverging_tables(register) == []
    diagnosed = get_topic(Patient.DiagnosisRecorded)
    last = max(n.id for n in notifications(history.app) if n.topic == diagnosed)
    with register.store.transaction(commit=True) as cursor:
        register._store_position(cursor, last - 1)  # the position lost
    assert TableFollower(register).catch_up() > 0  # the diagnosis applied again
    assert diverging_tables(register) == [PATIENTS.name]
    history.app.close()


def test_tables_written_by_other_code_are_rebuilt_and_the_old_follower_stops(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    history = CaseworkHistory(env)
    history.record(20)
    old = TableFollower(CaseworkBoard(history.app))
    old.catch_up()

    monkeypatch.setattr(CaseworkBoard, "_fingerprint", lambda _: "another version")
    new = TableFollower(CaseworkBoard(history.app))

    assert new.position == 0
    assert CaseworkBoard(history.app).where(CASES) == []  # dropped, to be rebuilt
    assert new.catch_up() == recorded(history.app)
    assert contents(new.read_model) == contents(rebuilt(history.app, CaseworkBoard))
    history.app.open_case(routed(uuid4()), Cause.request())  # type: ignore[arg-type]
    with pytest.raises(StaleReadModel):
        old.step()
    history.app.close()
