"""Every overlay builds, every document validates offline against the pinned Kubernetes
release's schemas (strict: no unknown field) or, for Strimzi's resources, against Strimzi's own
CRD schemas, and the built output obeys the platform's policy."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from carenet_devtools import kubernetes
from carenet_kit.topics import load_catalog

from .conftest import Built, build_with

STRIMZI_KINDS = {"KafkaTopic": "kafkatopic", "KafkaUser": "kafkauser"}
SERVICES = ("intake", "routing", "casework", "notifications", "audit")
CONSUMER_SERVICES = ("intake", "routing", "casework", "notifications")
"""The services whose inbound consumer is a consumer group: they scale by partitions."""


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """A CRD's structural schema as the API server applies it, where an unknown field would be
    pruned silently: here it is an error, as kubectl's strict field validation makes it."""
    schema = copy.deepcopy(schema)

    def close(node: Any) -> None:
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(schema)
    return schema


def crd_schema(crds: Path, kind: str, api_version: str) -> dict[str, Any]:
    crd = yaml.safe_load((crds / f"{STRIMZI_KINDS[kind]}.yaml").read_text())
    version = api_version.rsplit("/", 1)[1]
    served = next(v for v in crd["spec"]["versions"] if v["name"] == version)
    return strict(served["schema"]["openAPIV3Schema"])


def test_every_document_of_the_overlay_is_valid(built: Built, strimzi_crds: Path) -> None:
    started = time.perf_counter()
    kinds: dict[str, int] = {}
    for document in built.documents:
        kind = document["kind"]
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind in STRIMZI_KINDS:
            schema = crd_schema(strimzi_crds, kind, document["apiVersion"])
            jsonschema.validate(document, schema, cls=jsonschema.Draft4Validator)
        else:
            kubernetes_validate.validate(document, kubernetes.KUBERNETES_VERSION, strict=True)
    print(  # the measure the runbook quotes (pytest -s shows it)
        f"\n{built.overlay}: {len(built.documents)} documents built in {built.seconds:.2f}s, "
        f"validated in {time.perf_counter() - started:.2f}s: {dict(sorted(kinds.items()))}"
    )
    assert kinds["Deployment"] == len(SERVICES)
    assert kinds["KafkaTopic"] == len(load_catalog().topics)


def test_a_document_with_an_unknown_field_is_refused(strimzi_crds: Path) -> None:
    """The validation itself can fail: a misspelt field, in a core kind and in a Strimzi kind."""
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "x", "image": "x", "readOnlyRootFs": True}]},
            },
        },
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, kubernetes.KUBERNETES_VERSION, strict=True)
    topic = kubernetes.kafka_topics(load_catalog(), "production")[0]
    topic["spec"]["replication"] = 3
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(topic, crd_schema(strimzi_crds, "KafkaTopic", topic["apiVersion"]))


def containers(built: Built) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(deployment, pod spec, container) of every container of every Deployment."""
    return [
        (d["metadata"]["name"], d["spec"]["template"]["spec"], c)
        for d in built.of_kind("Deployment")
        for pod in [d["spec"]["template"]["spec"]]
        for c in [*pod["containers"], *pod.get("initContainers", [])]
    ]


def test_every_container_is_locked_down(built: Built) -> None:
    for name, pod, container in containers(built):
        context = container["securityContext"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert context["runAsNonRoot"] is True, name
        assert context["runAsUser"] != 0, name
        assert context["readOnlyRootFilesystem"] is True, name
        assert context["allowPrivilegeEscalation"] is False, name
        assert context["capabilities"]["drop"] == ["ALL"], name
        assert "add" not in context["capabilities"], name
        assert context["seccompProfile"]["type"] == "RuntimeDefault", name
        assert pod["automountServiceAccountToken"] is False, name
        account = built.named("ServiceAccount", pod["serviceAccountName"])
        assert account["automountServiceAccountToken"] is False, name


def test_every_container_has_probes_requests_and_limits(built: Built) -> None:
    for name, _, container in containers(built):
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        for bound in ("requests", "limits"):
            assert set(container["resources"][bound]) == {"cpu", "memory"}, (name, bound)


def test_writable_paths_are_volumes(built: Built) -> None:
    for name, pod, container in containers(built):
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        env = {
            k: v
            for ref in container["envFrom"]
            if "configMapRef" in ref
            for k, v in built.named("ConfigMap", ref["configMapRef"]["name"])["data"].items()
        }
        for path in (env["CARENET_DATA_DIR"], "/tmp"):
            assert "emptyDir" in volumes[mounts[path]], (name, path)


def test_every_service_reads_the_network_key_set_it_is_told_to_trust(built: Built) -> None:
    """CARENET_TRUSTED_KEYS names a file of the ConfigMap carenet-trusted-keys, mounted in
    every pod: without it a service would act on no message (production: not start)."""
    path = Path(common_settings(built)["CARENET_TRUSTED_KEYS"])
    for name, pod, container in containers(built):
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["volumes"]}
        volume = volumes[mounts[str(path.parent)]]
        assert volume["configMap"]["name"] == "carenet-trusted-keys", name
        assert not volume["configMap"].get("optional"), name


def test_no_secret_is_committed_only_referenced(built: Built) -> None:
    assert built.of_kind("Secret") == []
    for name, _, container in containers(built):
        refs = [r["secretRef"]["name"] for r in container["envFrom"] if "secretRef" in r]
        assert refs == [f"{name}-secrets"]
        for config in built.of_kind("ConfigMap"):
            for key in config["data"]:
                assert not any(
                    word in key for word in ("PASSWORD", "SIGNING_KEY", "MASTER", "CIPHER")
                ), key


def test_the_network_denies_everything_not_allowed(built: Built) -> None:
    policies = {p["metadata"]["name"]: p["spec"] for p in built.of_kind("NetworkPolicy")}
    deny = policies["default-deny-all"]
    assert deny["podSelector"] == {}
    assert set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny
    assert "egress" not in deny
    for name, spec in policies.items():
        for rule in spec.get("ingress", []):
            assert rule.get("from"), f"{name} lets anyone in"
            for peer in rule["from"]:
                assert "ipBlock" not in peer, f"{name} lets an address range in"
        for rule in spec.get("egress", []):
            assert rule.get("to"), f"{name} lets out to anywhere"
            assert rule.get("ports"), f"{name} lets out on any port"


def test_every_pod_is_scraped_on_its_http_port(built: Built) -> None:
    for deployment in built.of_kind("Deployment"):
        template = deployment["spec"]["template"]
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/path"] == "/metrics"
        ports = {p["name"]: p["containerPort"] for p in template["spec"]["containers"][0]["ports"]}
        assert annotations["prometheus.io/port"] == str(ports["http"])


def test_consumers_scale_within_their_partitions(built: Built) -> None:
    partitions = min(t.partitions for t in load_catalog().topics)
    autoscaled = {
        h["spec"]["scaleTargetRef"]["name"]: h["spec"]
        for h in built.of_kind("HorizontalPodAutoscaler")
    }
    assert set(autoscaled) == set(CONSUMER_SERVICES)
    for spec in autoscaled.values():
        assert spec["maxReplicas"] <= partitions
    budgets = {
        b["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
        for b in built.of_kind("PodDisruptionBudget")
    }
    assert budgets == set(SERVICES)


def common_settings(built: Built) -> dict[str, str]:
    data: dict[str, str] = built.named("ConfigMap", "carenet-common")["data"]
    return data


def test_development_is_one_replica_on_sqlite(kustomize: Path) -> None:
    from .conftest import build  # noqa: PLC0415

    development = build(kustomize, "development")
    settings = common_settings(development)
    assert settings["CARENET_ENVIRONMENT"] == "development"
    assert settings["CARENET_PERSISTENCE"] == "sqlite"
    for hpa in development.of_kind("HorizontalPodAutoscaler"):
        assert hpa["spec"]["maxReplicas"] == 1
    assert development.named("Deployment", "audit")["spec"]["replicas"] == 1
    assert {t["spec"]["replicas"] for t in development.of_kind("KafkaTopic")} == {1}
    assert development.of_kind("KafkaUser") == []


def test_production_is_replicated_on_postgres_and_authenticated(kustomize: Path) -> None:
    from .conftest import build  # noqa: PLC0415

    production = build(kustomize, "production")
    settings = common_settings(production)
    assert settings["CARENET_ENVIRONMENT"] == "production"
    assert settings["CARENET_PERSISTENCE"] == "postgres"
    assert settings["CARENET_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    for hpa in production.of_kind("HorizontalPodAutoscaler"):
        assert hpa["spec"]["minReplicas"] >= 2
    assert production.named("Deployment", "audit")["spec"]["replicas"] >= 2
    for topic in production.of_kind("KafkaTopic"):
        assert topic["spec"]["replicas"] == 3
        assert topic["spec"]["config"]["min.insync.replicas"] == "2"
    users = {u["metadata"]["name"] for u in production.of_kind("KafkaUser")}
    assert users == {f"carenet-{s}" for s in SERVICES}
    for name, pod, container in containers(production):
        secret = next(r["secretRef"] for r in container["envFrom"] if "secretRef" in r)
        assert secret.get("optional", False) is False, name
        password = next(e for e in container["env"] if e["name"] == "CARENET_KAFKA_PASSWORD")
        assert password["valueFrom"]["secretKeyRef"]["name"] == f"carenet-{name}"
        assert password["valueFrom"]["secretKeyRef"].get("optional", False) is False, name
        username = next(e for e in container["env"] if e["name"] == "CARENET_KAFKA_USERNAME")
        assert username["value"] in users
        ca = {m["mountPath"] for m in container["volumeMounts"]}
        assert str(Path(settings["CARENET_KAFKA_SSL_CAFILE"]).parent) in ca, name
        assert {v["name"] for v in pod["volumes"]} >= {"kafka-ca", "data", "tmp"}


def test_the_optional_pod_monitor_scrapes_every_service(kustomize: Path) -> None:
    documents = build_with(kustomize, "production", ("prometheus-operator",), "carenet")
    monitor = next(d for d in documents if d["kind"] == "PodMonitor")
    selector = monitor["spec"]["selector"]["matchLabels"]
    endpoint = monitor["spec"]["podMetricsEndpoints"][0]
    scraped = set()
    for deployment in (d for d in documents if d["kind"] == "Deployment"):
        template = deployment["spec"]["template"]
        if selector.items() <= template["metadata"]["labels"].items():
            ports = {p["name"] for p in template["spec"]["containers"][0]["ports"]}
            assert endpoint["port"] in ports
            scraped.add(deployment["metadata"]["name"])
    assert scraped == set(SERVICES)
    assert endpoint["path"] == "/metrics"
