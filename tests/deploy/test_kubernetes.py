"""The kustomize base and overlays render, and every resource validates offline.

Rendering is kustomize's own (``kubectl kustomize``); built-in kinds are checked against
the Kubernetes OpenAPI schemas that kubernetes-validate ships (strict: unknown fields are
errors). The custom resources (ServiceMonitor, LeaderWorkerSet) have no schema there:
their pod templates are checked as Pod specs, and the references between resources
(selectors, ports, the Secret, the HPA's target) are checked here. What stays unchecked
is the custom resources' own top-level fields.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

K8S = Path(__file__).parents[2] / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33.0"
BUILDS = ["base", "overlays/tensor-parallel", "overlays/multi-node"]
CUSTOM = {"ServiceMonitor", "LeaderWorkerSet"}


def render(build: str) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl (with its built-in kustomize) is needed to render deploy/k8s"
    out = subprocess.run(
        [kubectl, "kustomize", str(K8S / build)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def find(resources: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [r for r in resources if r["kind"] == kind and name in (None, r["metadata"]["name"])]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def pod_templates(resource: dict[str, Any]) -> list[dict[str, Any]]:
    spec = resource["spec"]
    if resource["kind"] == "LeaderWorkerSet":
        lws = spec["leaderWorkerTemplate"]
        return [lws["leaderTemplate"], lws["workerTemplate"]]
    return [spec["template"]]


def validate(resource: dict[str, Any]) -> None:
    kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


@pytest.fixture(scope="module", params=BUILDS)
def rendered(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    return render(request.param)


def test_every_builtin_resource_matches_its_schema(rendered: list[dict[str, Any]]) -> None:
    for resource in rendered:
        if resource["kind"] not in CUSTOM:
            validate(resource)


def test_custom_resources_carry_valid_pod_templates(rendered: list[dict[str, Any]]) -> None:
    for resource in rendered:
        if resource["kind"] == "LeaderWorkerSet":
            for template in pod_templates(resource):
                pod = {"apiVersion": "v1", "kind": "Pod", **template}
                pod["metadata"] = {"name": "template", **template.get("metadata", {})}
                validate(pod)


def serving(rendered: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The workload that serves HTTP and its serving pod template."""
    workload = next(r for r in rendered if r["kind"] in {"Deployment", "LeaderWorkerSet"})
    return workload, pod_templates(workload)[0]


def test_the_service_reaches_only_serving_pods(rendered: list[dict[str, Any]]) -> None:
    workload, template = serving(rendered)
    service = find(rendered, "Service", "foresight")
    labels = template["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    if workload["kind"] == "LeaderWorkerSet":  # workers run no HTTP server
        worker = pod_templates(workload)[1]["metadata"]["labels"]
        assert not service["spec"]["selector"].items() <= worker.items()
    container = template["spec"]["containers"][0]
    ports = {p["name"] for p in container["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"


def test_the_api_key_comes_from_the_secret(rendered: list[dict[str, Any]]) -> None:
    _, template = serving(rendered)
    env = {e["name"]: e for e in template["spec"]["containers"][0]["env"]}
    ref = env["FORESIGHT_API_KEY"]["valueFrom"]["secretKeyRef"]
    secret = find(rendered, "Secret", ref["name"])
    assert ref["key"] in secret["stringData"]


def test_plans_go_to_the_clusters_redis(rendered: list[dict[str, Any]]) -> None:
    _, template = serving(rendered)
    env = {e["name"]: e.get("value") for e in template["spec"]["containers"][0]["env"]}
    host = env["FORESIGHT_STORE"].removeprefix("redis://").split(":")[0]
    redis = find(rendered, "Service", host)
    statefulset = find(rendered, "StatefulSet", host)
    assert (
        redis["spec"]["selector"].items()
        <= statefulset["spec"]["template"]["metadata"]["labels"].items()
    )


def test_the_autoscaler_targets_the_workload_on_a_queue_metric(
    rendered: list[dict[str, Any]],
) -> None:
    workload, _ = serving(rendered)
    hpa = find(rendered, "HorizontalPodAutoscaler")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == (workload["kind"], workload["metadata"]["name"])
    assert target["apiVersion"] == workload["apiVersion"]
    names = [m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"]]
    assert names == ["foresight_requests_waiting"]


def test_scraping_and_affinity_point_at_the_service(rendered: list[dict[str, Any]]) -> None:
    service = find(rendered, "Service", "foresight")
    monitor = find(rendered, "ServiceMonitor")
    assert (
        monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
    )
    ports = {p["name"] for p in service["spec"]["ports"]}
    assert {e["port"] for e in monitor["spec"]["endpoints"]} <= ports
    assert all(e["path"] == "/metrics" for e in monitor["spec"]["endpoints"])
    ingress = find(rendered, "Ingress")
    hashed = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/upstream-hash-by"]
    # The header the SDK sends; the address spreads clients that send none.
    assert hashed == "$http_x_foresight_conversation$remote_addr"
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "foresight" and backend["port"]["name"] in ports


def test_overlays_give_vllm_its_parallelism() -> None:
    tp = render("overlays/tensor-parallel")
    container = find(tp, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert "--tensor-parallel-size=4" in container["args"]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == "4"
    mn = render("overlays/multi-node")
    assert not [r for r in mn if r["kind"] == "Deployment" and r["metadata"]["name"] == "foresight"]
    lws = find(mn, "LeaderWorkerSet")
    leader, worker = pod_templates(lws)
    args = leader["spec"]["containers"][0]["args"]
    assert "--distributed-executor-backend=ray" in args
    assert leader["spec"]["containers"][0]["command"] == ["foresight-ray-node", "leader"]
    assert worker["spec"]["containers"][0]["command"] == ["foresight-ray-node", "worker"]
    images = {c["image"] for t in (leader, worker) for c in t["spec"]["containers"]}
    assert images == {"foresight:gpu"}  # the overlay's image rewrite reaches the CRD


def test_a_broken_manifest_is_caught() -> None:
    deployment = find(render("base"), "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["prot"] = 1
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment)
