"""The container, compose and Kubernetes files agree with the registry (validated, not run)."""

from __future__ import annotations

import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from bandstand import registry
from bandstand.cli.server import GRACEFUL_SHUTDOWN_SECONDS
from bandstand.platform.settings import Settings

DEPLOY = Path(__file__).parents[1] / "deploy"
# The Kubernetes API the manifests are checked against (schemas bundled by kubernetes-validate).
KUBERNETES_VERSION = "1.35.0"
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|PRIVATE_KEY(?!_PATH)|CREDENTIAL")
SECRET_VALUE = re.compile(r"://[^/@\s]+:[^/@\s]+@|-----BEGIN")


def _k8s_paths() -> list[Path]:
    return sorted(p for p in (DEPLOY / "k8s").glob("*.yaml") if p.name != "kustomization.yaml")


def _k8s_documents() -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    for path in _k8s_paths():
        documents.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return documents


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in _k8s_documents() if d["kind"] == kind}


def _pod_specs() -> dict[str, dict[str, Any]]:
    """Every workload's pod spec, by "Kind/name"."""
    return {
        f"{d['kind']}/{d['metadata']['name']}": d["spec"]["template"]["spec"]
        for d in _k8s_documents()
        if d["kind"] in {"Deployment", "Job"}
    }


def test_compose_runs_every_service_on_the_real_engines() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "rabbitmq", "redis", "gateway"} <= set(services)
    for entry in registry.SERVICES:
        service = services[entry.name]
        assert service["command"][:2] == ["serve", entry.name]
        environment = service["environment"]
        if entry.has_database:
            database = environment[f"BANDSTAND_DATABASES__{entry.name.upper()}"]
            assert database.startswith("postgresql+")
        assert environment["BANDSTAND_BROKER_URL"].startswith("amqp://")
        assert environment["BANDSTAND_CACHE_URL"].startswith("redis://")
        assert f"BANDSTAND_SERVICE_URLS__{entry.name.upper()}" in environment
    databases = (DEPLOY / "postgres" / "create-databases.sql").read_text()
    for name in registry.with_database():
        assert f"CREATE DATABASE {name};" in databases


def test_kubernetes_manifests_are_complete() -> None:
    documents = _k8s_documents()
    for document in documents:
        assert {"apiVersion", "kind", "metadata"} <= set(document)
        assert document["metadata"]["name"]
    by_kind: dict[str, set[str]] = {}
    for document in documents:
        by_kind.setdefault(document["kind"], set()).add(document["metadata"]["name"])
    for name in [*registry.names(), "gateway"]:
        assert name in by_kind["Deployment"]
        assert name in by_kind["Service"]
        assert name in by_kind["HorizontalPodAutoscaler"]
    assert "Ingress" in by_kind
    workers = {f"{name}-worker" for entry in registry.SERVICES for name in entry.workers}
    assert workers <= by_kind["Deployment"]
    for document in documents:
        if document["kind"] != "Deployment":
            continue
        container = document["spec"]["template"]["spec"]["containers"][0]
        if document["metadata"]["name"] in workers:
            # A worker serves no HTTP: Kubernetes watches its process.
            assert container["args"][:2] == ["worker", document["metadata"]["name"][:-7]]
            continue
        assert container["readinessProbe"]["httpGet"]["path"] in {"/ready", "/health/"}
        assert container["livenessProbe"]["httpGet"]["path"] == "/health/"
        assert container["args"][0] == "serve"
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    on_disk = {p.name for p in (DEPLOY / "k8s").glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


def test_dockerfile_runs_the_cli_as_a_non_root_user() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["bandstand"]' in dockerfile
    assert "uv sync --frozen --no-dev" in dockerfile
    assert "USER bandstand" in dockerfile


def test_services_believe_forwarded_addresses_from_the_gateway_alone() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    gateway_address = services["gateway"]["networks"]["default"]["ipv4_address"]
    # Clients reach the compose gateway directly: it trusts nobody's header.
    assert json.loads(services["gateway"]["environment"]["BANDSTAND_TRUSTED_PROXIES"]) == []
    for entry in registry.SERVICES:
        trusted = json.loads(services[entry.name]["environment"]["BANDSTAND_TRUSTED_PROXIES"])
        assert trusted == [f"{gateway_address}/32"]
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(gateway_address) in ipaddress.ip_network(subnet)

    (config,) = [
        document
        for document in _k8s_documents()
        if document["kind"] == "ConfigMap" and document["metadata"]["name"] == "bandstand-config"
    ]
    networks = json.loads(config["data"]["BANDSTAND_TRUSTED_PROXIES"])
    assert networks
    assert all(ipaddress.ip_network(network).is_private for network in networks)


@pytest.mark.parametrize("path", _k8s_paths(), ids=lambda p: p.name)
def test_kubernetes_manifests_validate_against_the_api_schemas(path: Path) -> None:
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    assert documents
    for document in documents:
        # strict: a field the API does not know is refused, as `kubectl apply` would refuse it.
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_kubernetes_validator_refuses_unknown_fields() -> None:
    (config,) = _of_kind("ConfigMap").values()
    kubernetes_validate.validate(config, KUBERNETES_VERSION, strict=True)
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate({**config, "spec": {}}, KUBERNETES_VERSION, strict=True)


def test_compose_file_validates_against_the_compose_specification() -> None:
    schema = json.loads((DEPLOY / "schemas" / "compose-spec.json").read_text())
    # Loaded as YAML first: anchors and merge keys resolved; `${VAR:?...}` stays a string.
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    assert not [error.message for error in validator.iter_errors(compose)]
    assert list(validator.iter_errors({**compose, "servics": {}}))


def test_every_service_has_a_disruption_budget_and_the_workloads_are_bounded() -> None:
    budgets = _of_kind("PodDisruptionBudget")
    deployments = _of_kind("Deployment")
    workers = {f"{name}-worker" for entry in registry.SERVICES for name in entry.workers}
    for name in [*registry.names(), "gateway"]:
        selector = deployments[name]["spec"]["selector"]["matchLabels"]
        assert budgets[name]["spec"]["selector"]["matchLabels"] == selector
    assert set(budgets) == set(deployments) - workers
    for name, autoscaler in _of_kind("HorizontalPodAutoscaler").items():
        assert autoscaler["spec"]["scaleTargetRef"]["name"] == name
        assert autoscaler["spec"]["minReplicas"] >= 2
    for workload, pod in _pod_specs().items():
        assert pod["securityContext"]["runAsNonRoot"] is True, workload
        for container in pod["containers"]:
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), workload
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), workload


def test_migrations_run_as_a_job_with_the_services_configuration() -> None:
    (job,) = _of_kind("Job").values()
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] in {"Never", "OnFailure"}
    (container,) = pod["containers"]
    assert container["args"] == ["migrate"]
    service_pod = _pod_specs()["Deployment/identity"]
    assert container["envFrom"] == service_pod["containers"][0]["envFrom"]
    assert container["image"] == service_pod["containers"][0]["image"]


def test_secrets_come_from_secrets_never_from_config_maps() -> None:
    secrets = _of_kind("Secret")
    secret_keys = {key for secret in secrets.values() for key in secret.get("stringData", {})}
    for name in registry.with_database():
        assert f"BANDSTAND_DATABASES__{name.upper()}" in secret_keys
    assert {"BANDSTAND_BROKER_URL", "BANDSTAND_WEB_SECRET", "private-key.pem"} <= secret_keys
    for config in _of_kind("ConfigMap").values():
        for key, value in config["data"].items():
            assert not SECRET_NAME.search(key), key
            assert not SECRET_VALUE.search(value), key
    for workload, pod in _pod_specs().items():
        for container in pod["containers"]:
            for variable in container.get("env", []):
                # A literal value in a manifest is as visible as one in a ConfigMap.
                assert not SECRET_NAME.search(variable["name"]), workload
            for source in container.get("envFrom", []):
                reference = source.get("configMapRef") or source["secretRef"]
                assert reference["name"] in {*secrets, *_of_kind("ConfigMap")}
    web = _pod_specs()["Deployment/web"]["containers"][0]
    assert {"secretRef": {"name": "bandstand-urls"}} in web["envFrom"]


def test_dockerfile_is_multi_stage_and_copies_no_secrets() -> None:
    lines = [
        line.strip()
        for line in (DEPLOY / "Dockerfile").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    stages = [index for index, line in enumerate(lines) if line.startswith("FROM ")]
    assert len(stages) >= 2
    final = lines[stages[-1] :]
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert any(line.startswith("COPY --from=") for line in final)
    for line in lines:
        if line.split()[0] in {"COPY", "ADD", "ENV", "ARG"}:
            assert not re.search(r"\.pem|\.env\b|secret|password|private", line, re.I), line


def test_a_stopped_container_has_time_to_drain_and_finish_its_requests() -> None:
    """SIGTERM drains for `drain_seconds`, then uvicorn finishes what it holds (up to 10 s):
    the orchestrator must not SIGKILL it before."""
    needed = Settings.model_fields["drain_seconds"].default + GRACEFUL_SHUTDOWN_SECONDS
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    for name in [*registry.names(), "gateway"]:
        grace = compose["services"][name]["stop_grace_period"]
        assert float(grace.rstrip("s")) > needed, name
    for workload, pod in _pod_specs().items():
        # Kubernetes' default grace period is 30 s.
        assert pod.get("terminationGracePeriodSeconds", 30) > needed, workload
