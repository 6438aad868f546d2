"""The shared metrics: HTTP by route template (never an id), consumer lag arithmetic."""

from __future__ import annotations

from uuid import uuid4

from aiokafka import TopicPartition
from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from carenet_kit import metrics


def measured_api() -> FastAPI:
    api = FastAPI()
    metrics.instrument_http(api)

    @api.get("/v1/metered/{patient_id}")
    def patient(patient_id: str) -> dict[str, str]:
        if patient_id.startswith("unknown-"):
            raise HTTPException(404)
        return {}

    @api.get("/healthz")
    def healthz() -> dict[str, str]:
        return {}

    return api


def requests(handler: str, status: str) -> float:
    value = REGISTRY.get_sample_value(
        "http_request_duration_seconds_count",
        {"handler": handler, "method": "GET", "status": status},
    )
    return value or 0.0


def test_requests_are_measured_by_route_template_and_status_without_ids() -> None:
    template = "/v1/metered/{patient_id}"
    before = (requests(template, "200"), requests(template, "404"))
    patient_id = str(uuid4())
    measured_api()  # an app made earlier in the process must not take the metric for itself
    with TestClient(measured_api()) as client:
        assert client.get(f"/v1/metered/{patient_id}").status_code == 200
        assert client.get("/v1/metered/unknown-0").status_code == 404
        client.get("/healthz")
        exposed = client.get("/metrics")
    assert (requests(template, "200"), requests(template, "404")) == (before[0] + 1, before[1] + 1)
    assert exposed.status_code == 200
    assert exposed.headers["content-type"].startswith("text/plain")
    text = exposed.text
    assert patient_id not in text
    assert "unknown-0" not in text
    latency = {
        (s.labels["handler"], s.labels["status"])
        for family in text_string_to_metric_families(text)
        if family.name == "http_request_duration_seconds"
        for s in family.samples
        if s.name.endswith("_count")
    }
    assert (template, "200") in latency
    assert not {h for h, _ in latency} & {"/healthz", "/metrics"}


def test_the_metrics_endpoint_is_not_an_operation_of_the_api() -> None:
    paths = measured_api().openapi()["paths"]
    assert "/v1/metered/{patient_id}" in paths
    assert "/metrics" not in paths


def lag(consumer: str, topic: str, partition: int) -> float | None:
    return REGISTRY.get_sample_value(
        "carenet_consumer_lag",
        {"consumer": consumer, "topic": topic, "partition": str(partition)},
    )


def test_lag_is_the_end_offset_minus_the_next_position_per_partition() -> None:
    topic = f"lag-{uuid4().hex[:6]}"
    p0, p1, p2 = (TopicPartition(topic, p) for p in range(3))
    metrics.record_lag("unit", {p0: 10, p1: 7, p2: 3}, {p0: 4, p1: 7})
    assert [lag("unit", topic, p) for p in range(3)] == [6, 0, 3]  # p2 never read: from 0
    metrics.record_lag("unit", {p0: 12}, {p0: 12})
    assert lag("unit", topic, 0) == 0


def test_lag_is_never_negative() -> None:
    """A position past an end fetched a moment earlier is a race, not negative lag."""
    topic = f"lag-{uuid4().hex[:6]}"
    tp = TopicPartition(topic, 0)
    metrics.record_lag("unit", {tp: 5}, {tp: 6})
    assert lag("unit", topic, 0) == 0
