"""`python -m bench` runs every scenario end to end at a tiny size and reports every row.

The figures at these sizes mean nothing; what is checked is that each scenario completes on
a real broker, measures both sides, and lands in the table and the JSON. The scenarios that
start service processes take minutes: they are marked `bench`, which the default run leaves out
(`pytest -m bench tests/bench` runs them).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from bench.__main__ import main
from carenet_devtools import kafka

TINY = [
    "--messages", "200",
    "--consumed", "50",
    "--patients", "5",
    "--requests", "20",
    "--concurrency", "4",
    "--replay-patients", "5",
    "--replay-events", "2",
    "--history-patients", "20",
    "--history-sizes", "10",
    "--admitted", "100",
    "--province-patients", "10",
    "--province-events", "8",
    "--timeout", "120",
]  # fmt: skip


def rows_of(path: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = json.loads(path.read_text())["rows"]
    return rows


def test_in_process_scenarios_give_both_figures(kafka_bootstrap: str, tmp_path: Path) -> None:
    """The relay, the consumer, the faust agent and the admission (no service processes):
    seconds. The consumer and the agent fail if a message they were given is refused."""
    report = tmp_path / "bench.json"
    main(["--only", "P1,P2,P6,P8", "--bootstrap", kafka_bootstrap, "--json", str(report), *TINY])
    rows = rows_of(report)
    assert [str(row["scenario"])[:2] for row in rows] == ["P1", "P2", "P6", "P8"]
    for row in rows:
        ratio, load = row["ratio"], row["load"]
        assert isinstance(ratio, float), row
        assert ratio > 0, row
        assert isinstance(load, list), row
        assert len(load) == 3


@pytest.mark.bench
def test_scenarios_with_service_processes_give_every_row(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    """The pathway, the replay and history, ingest, start-up and the province import start
    service processes."""
    report = tmp_path / "bench.json"
    only = "P3,P4,P5,P7,P9"
    main(["--only", only, "--bootstrap", kafka_bootstrap, "--json", str(report), *TINY])
    scenarios = [str(row["scenario"])[:2] for row in rows_of(report)]
    assert scenarios == ["P3", "P4", "P4", "P5", *["P7"] * 5, "P9"]
    left = [t for t in kafka.run_sync(topic_names(kafka_bootstrap)) if t.startswith("province-")]
    assert left == [], "the province's topics are deleted once measured"


async def topic_names(bootstrap: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return list(await admin.list_topics())
    finally:
        await admin.close()
