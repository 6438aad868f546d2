"""No date or moment in the future beyond the clock tolerance, refused without the value."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carenet_kit.plausibility import Implausible, refuse_future

CHINA = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 15, 57, tzinfo=UTC)  # 23:57 in China
TOLERANCE = timedelta(minutes=5)


def test_a_day_is_judged_in_the_zone_with_the_tolerance() -> None:
    refuse_future("visited_on", date(2026, 11, 21), NOW, CHINA, TOLERANCE)  # 00:02 by a fast clock
    with pytest.raises(Implausible) as error:
        refuse_future("visited_on", date(2026, 11, 21), NOW, CHINA, timedelta(minutes=2))
    assert (error.value.field, error.value.rule) == ("visited_on", "in_future")
    assert "2026" not in str(error.value)
    assert str(error.value) == "visited_on is in the future (clock tolerance 2 minutes)"


def test_a_moment_is_judged_against_now_plus_the_tolerance() -> None:
    refuse_future("occurred_at", NOW + TOLERANCE, NOW, CHINA, TOLERANCE)
    with pytest.raises(Implausible):
        refuse_future("occurred_at", NOW + TOLERANCE + timedelta(seconds=1), NOW, CHINA, TOLERANCE)
