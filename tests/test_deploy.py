"""The container, compose and Kubernetes files agree with the registry (validated, not run)."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import yaml

from bandstand import registry

DEPLOY = Path(__file__).parents[1] / "deploy"


def _k8s_documents() -> list[dict[str, Any]]:
    documents: list[dict[str, Any]] = []
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        documents.extend(doc for doc in yaml.safe_load_all(path.read_text()) if doc)
    return documents


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
