"""The manifests as a real Kubernetes API server admits them (`control_plane`: etcd,
kube-apiserver with RBAC and Pod Security admission, kube-controller-manager; no node).

Each overlay is applied server-side (strict field validation) into a namespace that enforces
Pod Security "restricted", with any warning counted as a failure; the controllers then create
every Deployment's Pods, which admission must let in. Each ServiceAccount may do exactly what
the table below says, and what admission refuses is shown refused: a privileged container, one
that may run as root, a KafkaTopic with a field Strimzi does not have, a ScaledObject and a
PrometheusRule that break their CRDs' rules.
"""

from __future__ import annotations

import copy
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

import carenet_kit.metrics  # noqa: F401 - registers the metrics every service exports
import carenet_notifications.dispatch  # noqa: F401 - registers notifications' delivery counter
from carenet_devtools.control_plane import ControlPlane

from .conftest import Built, build_with

RESTRICTED = {
    f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn", "audit")
} | {"pod-security.kubernetes.io/enforce-version": "latest"}
DISCOVERY_ONLY = {
    ("selfsubjectreviews.authentication.k8s.io", "create"),
    ("selfsubjectaccessreviews.authorization.k8s.io", "create"),
    ("selfsubjectrulesreviews.authorization.k8s.io", "create"),
    *(
        (url, "get")
        for url in (
            "/.well-known/openid-configuration",
            "/.well-known/openid-configuration/",
            "/api",
            "/api/*",
            "/apis",
            "/apis/*",
            "/healthz",
            "/livez",
            "/openapi",
            "/openapi/*",
            "/openid/v1/jwks",
            "/openid/v1/jwks/",
            "/readyz",
            "/version",
            "/version/",
        )
    ),
}
"""What every authenticated caller may do in any cluster (the default roles system:basic-user,
system:discovery, system:public-info-viewer and system:service-account-issuer-discovery)."""
PERMISSIONS = dict.fromkeys(
    ("intake", "routing", "casework", "notifications", "audit"), DISCOVERY_ONLY
)
"""Each service's ServiceAccount: no service calls the Kubernetes API, so none may do more
than discover it (and none mounts its token)."""


def apply(cluster: ControlPlane, documents: list[dict[str, Any]], *extra: str) -> tuple[int, str]:
    """Server-side apply, strict field validation, any warning an error: (exit code, output)."""
    result = cluster.kubectl(
        "apply",
        "--server-side",
        "--field-manager=carenet-tests",
        "--validate=strict",
        "--warnings-as-errors",
        *extra,
        "-f",
        "-",
        stdin=yaml.safe_dump_all(documents),
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def restricted_namespace(cluster: ControlPlane, name: str) -> None:
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": RESTRICTED},
    }
    code, output = apply(cluster, [namespace])
    assert code == 0, output


def install_crds(cluster: ControlPlane, *files: Path) -> None:
    """CRDs as their projects publish them (their own warnings are theirs: not counted)."""
    for path in files:
        cluster.kubectl("apply", "--server-side", "--field-manager=carenet-tests", "-f", str(path))
    names = [yaml.safe_load(path.read_text())["metadata"]["name"] for path in files]
    cluster.kubectl(
        "wait", "--for=condition=Established", "--timeout=60s", *(f"crd/{n}" for n in names)
    )


@pytest.fixture(scope="module")
def crds(cluster: ControlPlane, strimzi_crds: Path, operator_crds: Path) -> None:
    install_crds(
        cluster, *sorted(strimzi_crds.glob("*.yaml")), *sorted(operator_crds.glob("*.yaml"))
    )


def get(cluster: ControlPlane, *args: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(cluster.kubectl("get", *args, "-o", "json").stdout)[
        "items"
    ]
    return items


def wait_for_pods(
    cluster: ControlPlane, namespace: str, expected: dict[str, int], timeout: float = 90
) -> dict[str, int]:
    """Pods per Deployment, once the controllers created as many as each asks for."""
    deadline = time.monotonic() + timeout
    while True:
        pods: dict[str, int] = {}
        for pod in get(cluster, "pods", "-n", namespace):
            name = pod["metadata"]["labels"]["app.kubernetes.io/name"]
            pods[name] = pods.get(name, 0) + 1
        if pods == expected or time.monotonic() > deadline:
            return pods
        time.sleep(0.5)


def refusals(cluster: ControlPlane, namespace: str) -> list[str]:
    """What the controllers were refused (FailedCreate events)."""
    return [
        event["message"]
        for event in get(cluster, "events", "-n", namespace)
        if event.get("reason") == "FailedCreate"
    ]


def test_every_overlay_is_admitted_under_restricted(
    cluster: ControlPlane, crds: None, built: Built
) -> None:
    namespace = built.documents[0]["metadata"]["namespace"]
    restricted_namespace(cluster, namespace)
    started = time.perf_counter()
    code, output = apply(cluster, built.documents)
    applied = time.perf_counter() - started
    assert code == 0, output
    assert "Warning" not in output, output
    admitted = {(d["kind"], d["metadata"]["name"]) for d in built.documents}
    found = {
        (item["kind"], item["metadata"]["name"])
        for kinds in (
            "all,configmaps,serviceaccounts,networkpolicies,poddisruptionbudgets",
            "kafkatopics,kafkausers",
        )
        for item in get(cluster, kinds, "-n", namespace)
    }
    assert admitted <= found | {("HorizontalPodAutoscaler", n) for _, n in admitted}, (
        admitted - found
    )
    expected = {
        d["metadata"]["name"]: d["spec"].get("replicas", 1) for d in built.of_kind("Deployment")
    }
    pods = wait_for_pods(cluster, namespace, expected)
    print(
        f"\n{built.overlay}: {len(built.documents)} documents admitted in {applied:.2f}s; "
        f"Pods created and admitted: {pods}"
    )
    assert pods == expected, refusals(cluster, namespace)
    assert refusals(cluster, namespace) == []


def permissions(cluster: ControlPlane, namespace: str, account: str) -> set[tuple[str, str]]:
    """(resource or URL, verb) the account may use in its namespace, as `kubectl auth can-i
    --list` prints them (a table: resources, non-resource URLs, resource names, verbs)."""
    header, *rows = cluster.kubectl(
        "auth",
        "can-i",
        "--list",
        f"--as=system:serviceaccount:{namespace}:{account}",
        "-n",
        namespace,
    ).stdout.splitlines()
    columns = ("Resources", "Non-Resource URLs", "Resource Names", "Verbs")
    starts = [header.index(column) for column in columns]
    allowed = set()
    for row in rows:
        resource, urls, names, verbs = (
            row[start:end].strip() for start, end in zip(starts, [*starts[1:], None], strict=True)
        )
        assert names == "[]", row  # no grant to named objects: none is expected
        for what in [resource] if resource else urls.strip("[]").split():
            allowed |= {(what, verb) for verb in verbs.strip("[]").split()}
    return allowed


def test_each_service_account_may_do_what_its_service_needs_and_no_more(
    cluster: ControlPlane, crds: None, built: Built
) -> None:
    namespace = built.documents[0]["metadata"]["namespace"]
    restricted_namespace(cluster, namespace)
    code, output = apply(cluster, built.of_kind("ServiceAccount"))
    assert code == 0, output
    for account in built.of_kind("ServiceAccount"):
        name = account["metadata"]["name"]
        assert permissions(cluster, namespace, name) == PERMISSIONS[name], name


def test_the_permission_check_sees_a_grant_too_many(cluster: ControlPlane) -> None:
    """Negative control: one RoleBinding more and the comparison fails."""
    namespace = "carenet-rbac-control"
    restricted_namespace(cluster, namespace)
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "casework", "namespace": namespace},
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": "casework-view", "namespace": namespace},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "ServiceAccount", "name": "casework", "namespace": namespace}],
    }
    code, output = apply(cluster, [account])
    assert code == 0, output
    assert permissions(cluster, namespace, "casework") == PERMISSIONS["casework"]
    code, output = apply(cluster, [binding])
    assert code == 0, output
    granted = permissions(cluster, namespace, "casework") - PERMISSIONS["casework"]
    assert ("pods", "get") in granted


def pod_of(deployment: dict[str, Any], namespace: str) -> dict[str, Any]:
    template = copy.deepcopy(deployment["spec"]["template"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            **template["metadata"],
            "name": f"{deployment['metadata']['name']}-probe",
            "namespace": namespace,
        },
        "spec": template["spec"],
    }


@pytest.mark.parametrize(
    ("case", "change", "rule"),
    [
        # (privileged with allowPrivilegeEscalation false is not even valid: both, as one writes it)
        (
            "privileged",
            {"privileged": True, "allowPrivilegeEscalation": True},
            'privileged (container "casework"',
        ),
        ("root", {"runAsNonRoot": False}, "runAsNonRoot != true"),
        ("escalation", {"allowPrivilegeEscalation": True}, "allowPrivilegeEscalation != false"),
    ],
)
def test_pod_security_refuses_a_container_that_breaks_restricted(
    cluster: ControlPlane, kustomize: Path, case: str, change: dict[str, Any], rule: str
) -> None:
    """Negative controls: the production casework Pod is admitted (dry run), and the same with
    one setting of its container changed is refused; its Deployment is applied only with a
    warning (which the overlay test counts as a failure), and if applied anyway the controller
    is refused every Pod it tries to create (which the overlay test would see)."""
    from .conftest import build  # noqa: PLC0415

    namespace = f"carenet-refused-{case}"
    restricted_namespace(cluster, namespace)
    production = build(kustomize, "production")
    deployment = production.named("Deployment", "casework")
    account = production.named("ServiceAccount", "casework")
    for document in (deployment, account):
        document["metadata"]["namespace"] = namespace
    code, output = apply(cluster, [account])
    assert code == 0, output
    pod = pod_of(deployment, namespace)
    code, output = apply(cluster, [pod], "--dry-run=server")
    assert code == 0, output
    for spec in (pod["spec"], deployment["spec"]["template"]["spec"]):
        spec["containers"][0]["securityContext"].update(change)
    code, output = apply(cluster, [pod], "--dry-run=server")
    assert code != 0
    assert "violates PodSecurity" in output, output
    assert rule in output, output
    code, output = apply(cluster, [deployment], "--dry-run=server")
    assert code != 0
    assert "would violate PodSecurity" in output, output
    assert rule in output, output
    code, output = apply(cluster, [deployment], "--warnings-as-errors=false")
    assert code == 0, output
    deadline = time.monotonic() + 60
    while not (refused := refusals(cluster, namespace)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert any(rule in message for message in refused), refused
    assert get(cluster, "pods", "-n", namespace) == []


def test_a_custom_resource_that_breaks_its_crd_is_refused(
    cluster: ControlPlane, crds: None, kustomize: Path
) -> None:
    """Negative controls for the CRDs the overlays and components use: a KafkaTopic with a field
    Strimzi does not have and one with partitions as a word; a ScaledObject whose trigger
    setting is not a string; a PrometheusRule whose `for` is not a duration."""
    namespace = "carenet-crd-control"
    restricted_namespace(cluster, namespace)
    documents = production_with_components(kustomize, namespace)
    topic = next(d for d in documents if d["kind"] == "KafkaTopic")
    scaled = next(d for d in documents if d["kind"] == "ScaledObject")
    rule = next(d for d in documents if d["kind"] == "PrometheusRule")
    for document in (topic, scaled, rule):
        code, output = apply(cluster, [document], "--dry-run=server")
        assert code == 0, output
    broken = [
        (
            changed(topic, ("spec", "replication"), 3),
            ".spec.replication: field not declared in schema",
        ),
        (changed(topic, ("spec", "partitions"), "six"), "spec.partitions"),
        (
            changed(scaled, ("spec", "triggers", 0, "metadata", "lagThreshold"), 100),
            "spec.triggers[0].metadata.lagThreshold",
        ),
        (
            changed(rule, ("spec", "groups", 0, "rules", 0, "for"), "ten minutes"),
            "spec.groups[0].rules[0].for",
        ),
    ]
    for document, expected in broken:
        code, output = apply(cluster, [document], "--dry-run=server")
        assert code != 0, document
        assert expected in output, output


def changed(document: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A copy of `document` with the field at `path` set to `value`."""
    copied = copy.deepcopy(document)
    node: Any = copied
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copied


def production_with_components(kustomize: Path, namespace: str) -> list[dict[str, Any]]:
    """What an operator's overlay builds: production with both optional components."""
    return build_with(kustomize, "production", ("keda", "prometheus-operator"), namespace)


def test_lag_scaling_and_the_alert_rules_are_admitted(
    cluster: ControlPlane, crds: None, kustomize: Path
) -> None:
    namespace = "carenet-operators"
    restricted_namespace(cluster, namespace)
    documents = production_with_components(kustomize, namespace)
    kinds = {d["kind"] for d in documents}
    assert "HorizontalPodAutoscaler" not in kinds  # KEDA's own takes each one's place
    assert {"ScaledObject", "TriggerAuthentication", "PodMonitor", "PrometheusRule"} <= kinds
    code, output = apply(cluster, documents)
    assert code == 0, output
    scaled = {d["metadata"]["name"]: d for d in get(cluster, "scaledobjects", "-n", namespace)}
    assert set(scaled) == {"intake", "routing", "casework", "notifications"}
    for name, resource in scaled.items():
        trigger = resource["spec"]["triggers"][0]["metadata"]
        assert trigger["consumerGroup"] == f"carenet-{name}"
        assert resource["spec"]["maxReplicaCount"] <= 6  # the partitions of a topic
        assert trigger["allowIdleConsumers"] == "false"


def exported_metrics() -> set[str]:
    """Every series name a service's `/metrics` can hold: the families of the registry the
    services share (`carenet_kit.metrics`, notifications' delivery counter), with a counter's
    `_total` and a histogram's `_bucket`, `_count` and `_sum`."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
    return {
        f"{family.name}{suffix}"
        for family in REGISTRY.collect()
        for suffix in ("", *suffixes.get(family.type, ()))
    }


def test_every_metric_an_alert_uses_is_one_a_service_exports(kustomize: Path) -> None:
    documents = production_with_components(kustomize, "carenet")
    rules = next(d for d in documents if d["kind"] == "PrometheusRule")["spec"]["groups"]
    used = {
        name
        for group in rules
        for rule in group["rules"]
        for name in re.findall(r"\b(carenet_[a-z_]+|http_[a-z_]+)\b", rule["expr"])
    }
    assert len(used) >= 8, used
    assert used <= exported_metrics(), used - exported_metrics()
