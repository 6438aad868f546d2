"""Fail points end the process exactly on the pass they are armed for; unknown names are refused."""

from __future__ import annotations

import multiprocessing

import pytest

from carenet_kit import fail_points
from carenet_kit.fail_points import EXIT_STATUS, FailPoints


def test_a_point_is_armed_for_a_pass_and_a_guard_turned_off_by_name() -> None:
    points = FailPoints.parse("relay.acknowledged:3, inbound.committed", "relay-skip")
    assert points.armed == {"relay.acknowledged": 3, "inbound.committed": 1}
    assert not points.guarded("relay-skip")
    assert points.guarded("inbound-tracking")


@pytest.mark.parametrize(
    ("points", "unguarded", "refusal"),
    [
        ("relay.acknowleged", "", "no fail point 'relay.acknowleged'"),
        ("relay.acknowledged:0", "", "counts from 1"),
        ("", "relay-skipping", "no guard"),
    ],
)
def test_a_misspelt_point_or_guard_is_refused(points: str, unguarded: str, refusal: str) -> None:
    with pytest.raises(ValueError, match=refusal):
        FailPoints.parse(points, unguarded)


def test_unarmed_every_point_passes_and_every_guard_is_on() -> None:
    fail_points.reached("relay.acknowledged")
    assert fail_points.guarded("relay-skip")


def _pass_three_times() -> None:
    fail_points.arm(FailPoints.parse("relay.acknowledged:3", ""))
    for _ in range(2):
        fail_points.reached("relay.acknowledged")
        fail_points.reached("inbound.committed")  # not armed
    print("two passes survived", flush=True)
    fail_points.reached("relay.acknowledged")
    raise SystemExit(0)  # not reached: the third pass ends the process


def test_the_process_ends_on_the_armed_pass_with_the_fail_points_status() -> None:
    child = multiprocessing.get_context("fork").Process(target=_pass_three_times)
    child.start()
    child.join(30)
    assert child.exitcode == EXIT_STATUS
