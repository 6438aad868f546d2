"""Retries back off exponentially with jitter, within a ceiling, and give up after N attempts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from carenet_notifications.application import DeliveryPolicy

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_retries_wait_longer_each_time_within_the_ceiling_then_give_up() -> None:
    policy = DeliveryPolicy(
        max_attempts=6, retry_initial=timedelta(seconds=10), retry_max=timedelta(seconds=100)
    )
    waits = [policy.retry_at(NOW, attempts) for attempts in range(1, 6)]
    delays = [(w - NOW).total_seconds() for w in waits if w is not None]
    assert len(delays) == 5
    assert 10 <= delays[0] <= 20
    assert 20 <= delays[1] <= 30
    assert all(d <= 100 for d in delays)
    assert delays[-1] == 100
    assert policy.retry_at(NOW, 6) is None
