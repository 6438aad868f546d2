"""`carenet-audit history` against a real broker: the patient's messages, and only theirs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from uuid import uuid4

from typer.testing import CliRunner

from carenet_audit_tool.cli import app
from carenet_devtools import kafka
from carenet_devtools.kafka import run_sync

sys.path.insert(0, str(Path(__file__).parents[3]))  # the repository's `bench` package
from bench.synthetic import SyntheticNetwork, produce


def test_history_reads_every_producer_topic_for_one_patient_and_verifies_it(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    namespace = f"history-{uuid4().hex[:8]}."
    run_sync(kafka.create_topics(kafka_bootstrap, namespace=namespace))
    network = SyntheticNetwork()
    patient, *others = run_sync(produce(kafka_bootstrap, namespace, network, 3, 2))
    keys = tmp_path / "jwks.json"
    keys.write_text(network.key_set_json())

    result = CliRunner().invoke(
        app,
        [
            *("history", str(patient), "--format", "json", "--keys", str(keys)),
            *("--bootstrap", kafka_bootstrap, "--namespace", namespace),
        ],
    )

    assert result.exit_code == 0, result.output
    events = json.loads(result.stdout)["events"]
    assert len(events) == 4 * 2  # two events of each of the four producers
    assert {e["signature"] for e in events} == {"verified"}
    assert {e["producer"] for e in events} == {"intake", "routing", "casework", "notifications"}
    assert others  # the other patients' messages were on the same topics
