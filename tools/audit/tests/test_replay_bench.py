"""A smoke run of `bench.replay` with a tiny stream: both paths read every event."""

from __future__ import annotations

from rich.console import Console

from bench.replay import measure


def test_the_replay_benchmark_reads_every_event_raw_and_verified(kafka_bootstrap: str) -> None:
    raw, verified = measure(kafka_bootstrap, patients=3, events=2, workers=1, console=Console())

    assert raw.events == verified.events == 3 * 4 * 2
    assert verified.note == "12 streams, 12 signatures"
    assert raw.rate > 0
    assert verified.peak_rss_mb > 0
