"""A running service's `GET /metrics` moves with real traffic against the real broker."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ..e2e.conftest import eventually
from .test_services import Harness, inbound, start_service

Labels = dict[str, str]


@pytest.fixture
def routing(kafka_bootstrap: str, tmp_path: Path) -> Iterator[Harness]:
    settings = {"CARENET_PERSISTENCE": "sqlite", "CARENET_CONSUMER_LAG_SECONDS": "0.5"}
    yield from start_service("routing", kafka_bootstrap, settings, tmp_path)


def scrape(harness: Harness) -> tuple[str, list[tuple[str, Labels, float]]]:
    """The text of `/metrics` (anonymous, like the cluster's scraper) and its samples."""
    response = httpx.get(f"{harness.process.url}/metrics", timeout=10)
    assert response.status_code == 200
    samples = [
        (s.name, s.labels, s.value)
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    ]
    return response.text, samples


def total(samples: list[tuple[str, Labels, float]], name: str, **labels: str) -> float:
    return sum(
        value
        for sample, have, value in samples
        if sample == name and all(have.get(k) == v for k, v in labels.items())
    )


def test_the_metrics_follow_consumed_produced_and_dead_lettered_messages(
    routing: Harness,
) -> None:
    intake_topic, routing_topic = routing.topic("intake"), routing.topic("routing")
    _, before = scrape(routing)
    assert total(before, "carenet_events_consumed_total", topic=intake_topic) == 0
    _, value, patient = inbound("DiagnosisRecorded", region_code="440305005")
    routing.publish("intake", value)
    routing.produce("intake", str(uuid4()).encode(), b"not a contract")  # and not signed
    with routing.client(None) as anonymous:
        assert anonymous.get(f"/v1/routes/{patient}").status_code == 401

    def settled() -> list[tuple[str, Labels, float]] | None:
        _, samples = scrape(routing)
        inbound_lag = [
            v
            for name, labels, v in samples
            if name == "carenet_consumer_lag"
            and labels["consumer"] == "inbound"
            and labels["topic"] == intake_topic
        ]
        done = (
            total(samples, "carenet_events_consumed_total", consumer="inbound", topic=intake_topic)
            == 2
            and total(samples, "carenet_dead_letters_total", source_topic=intake_topic) >= 1
            and total(samples, "carenet_messages_refused_total", topic=intake_topic) >= 2
            and total(samples, "carenet_events_produced_total", topic=routing_topic) >= 1
            and inbound_lag
            and not any(inbound_lag)
        )
        return samples if done else None

    samples = eventually(settled, timeout=60)
    assert (
        total(
            samples,
            "carenet_dead_letters_total",
            consumer="inbound",
            source_topic=intake_topic,
        )
        == 1
    )
    # refused by both readers of intake's topic, the inbound consumer and the access graph
    for consumer in ("inbound", f"{routing.namespace}carenet-routing-access"):
        refused = {"consumer": consumer, "topic": intake_topic, "reason": "forged"}
        assert total(samples, "carenet_messages_refused_total", **refused) == 1
    assert total(samples, "carenet_outbox_backlog", topic=routing_topic) == 0
    assert total(samples, "carenet_relay_lease_held", topic=routing_topic) == 1  # one replica
    assert total(samples, "carenet_broker_reachable") == 1
    partitions = {
        labels["partition"]
        for name, labels, _ in samples
        if name == "carenet_consumer_lag" and labels["topic"] == intake_topic
    }
    assert len(partitions) > 1  # every partition of the topic, read or not
    requests = total(
        samples,
        "http_request_duration_seconds_count",
        handler="/v1/routes/{patient_id}",
        method="GET",
        status="401",
    )
    assert requests == 1
    text, _ = scrape(routing)
    assert patient not in text
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", text)
