"""The compose file against the Compose Specification's JSON schema, and its wiring.

The schema is the compose-spec project's, as check-jsonschema vendors it (a dev
dependency), so it follows the spec without a copy in this repository.
"""

from __future__ import annotations

import copy
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

DEPLOY = Path(__file__).parents[2] / "deploy"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    vendored = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    return dict(json.loads(vendored.read_text()))


def test_the_compose_file_matches_the_compose_specification(
    compose: dict[str, Any], schema: dict[str, Any]
) -> None:
    jsonschema.validate(compose, schema)


def test_the_schema_catches_a_misspelt_key(compose: dict[str, Any], schema: dict[str, Any]) -> None:
    broken = copy.deepcopy(compose)
    broken["services"]["redis"]["healthchek"] = broken["services"]["redis"].pop("healthcheck")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def profile(compose: dict[str, Any], name: str) -> set[str]:
    """The services `docker compose --profile NAME up` starts."""
    return {s for s, spec in compose["services"].items() if name in spec.get("profiles", [name])}


def test_each_profile_runs_foresight_with_its_store_and_monitoring(compose: dict[str, Any]) -> None:
    shared = {"redis", "prometheus", "grafana"}
    assert profile(compose, "cpu") == shared | {"foresight"}
    assert profile(compose, "gpu") == shared | {"foresight-gpu"}
    assert profile(compose, "replicas") == shared | {"foresight-a", "foresight-b", "front"}
    for name in ("foresight", "foresight-gpu", "foresight-a", "foresight-b"):
        service = compose["services"][name]
        assert service["environment"]["FORESIGHT_STORE"] == "redis://redis:6379/0"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    gpu = compose["services"]["foresight-gpu"]
    assert gpu["build"]["dockerfile"] == "deploy/docker/Dockerfile.gpu"
    assert gpu["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]


def test_every_engine_gets_more_shared_memory_than_dockers_default(
    compose: dict[str, Any],
) -> None:
    # vLLM's engine queue takes 160 MiB of /dev/shm (found running the CPU image); Docker's
    # default is 64 MiB. The GPU service shares the host's.
    for name in ("foresight", "foresight-a", "foresight-b"):
        assert compose["services"][name]["shm_size"] == "1gb", name
    assert compose["services"]["foresight-gpu"]["ipc"] == "host"


def test_every_image_can_be_replaced_from_the_environment(compose: dict[str, Any]) -> None:
    # An offline site substitutes its mirror's images; the defaults stay the public ones.
    for name, service in compose["services"].items():
        assert re.fullmatch(r"\$\{[A-Z_]+_IMAGE:-[^}]+\}", service["image"]), name
        for value in service.get("build", {}).get("args", {}).values():
            assert re.fullmatch(r"\$\{[A-Z_]+_IMAGE:-[^}]+\}", value), name


def test_the_front_balances_the_two_replicas_on_the_sdk_header() -> None:
    conf = (DEPLOY / "nginx" / "replicas.conf").read_text()
    assert re.findall(r"server (foresight-[ab]):8000", conf) == ["foresight-a", "foresight-b"]
    assert "hash $affinity consistent" in conf
    assert "$http_x_foresight_conversation" in conf  # X-Foresight-Conversation, as the SDK sends
    assert "proxy_buffering off" in conf  # streams pass through chunk by chunk


def test_prometheus_scrapes_every_foresight_service(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {
        t.split(":")[0]
        for job in config["scrape_configs"]
        for group in job["static_configs"]
        for t in group["targets"]
    }
    foresight = {s for s in compose["services"] if s.startswith("foresight")}
    assert targets == foresight


def test_grafana_is_provisioned_from_the_mounted_files(compose: dict[str, Any]) -> None:
    mounts = dict(v.split(":")[:2] for v in compose["services"]["grafana"]["volumes"])
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    providers = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/dashboards/foresight.yml").read_text()
    )["providers"]
    assert providers[0]["options"]["path"] == mounts["./grafana/dashboards"]
    datasource = yaml.safe_load(
        (DEPLOY / "grafana/provisioning/datasources/prometheus.yml").read_text()
    )["datasources"][0]
    dashboard = json.loads((DEPLOY / "grafana/dashboards/foresight.json").read_text())
    uids = {t["datasource"]["uid"] for p in dashboard["panels"] for t in p.get("targets", [])}
    assert uids == {datasource["uid"]}
    assert datasource["url"] == "http://prometheus:9090"
