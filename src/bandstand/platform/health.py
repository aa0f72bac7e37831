"""`/health/` (alive) and `/ready` (every dependency answers) for every service.

`/ready?queues=1` also reports the depth of each queue the service consumes (and of its
dead-letter queue), so one look at every service's readiness shows the backlog of the whole
platform. Only when asked: measuring a queue on RabbitMQ opens channels, which the frequent
probes of an orchestrator should not cost."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from bandstand.platform.lean_routes import ServiceRouter
from bandstand.platform.messaging.broker import Broker, dead_letter_queue
from bandstand.platform.security import Principal

logger = logging.getLogger("bandstand.health")

ReadinessCheck = Callable[[], Awaitable[None]]
CHECK_TIMEOUT_SECONDS = 2.0


class HealthBody(BaseModel):
    status: str
    service: str
    version: str


async def run_checks(checks: dict[str, ReadinessCheck]) -> dict[str, dict[str, Any]]:
    """Run every check concurrently with a timeout; report each as up or down with why."""

    async def one(check: ReadinessCheck) -> dict[str, Any]:
        try:
            await asyncio.wait_for(check(), CHECK_TIMEOUT_SECONDS)
        except TimeoutError:
            return {"status": "down", "error": f"no answer within {CHECK_TIMEOUT_SECONDS:g}s"}
        except Exception as exc:
            return {"status": "down", "error": str(exc) or type(exc).__name__}
        return {"status": "up"}

    results = await asyncio.gather(*(one(check) for check in checks.values()))
    return dict(zip(checks, results, strict=True))


async def shown_to_admins_only(request: Request) -> bool:
    """True when the caller sends an admin's valid access token.

    Why a check failed (an exception's text: hosts, ports, driver messages) is operational
    detail; anyone else learns only which check is down."""
    runtime = getattr(request.app.state, "runtime", None)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if runtime is None or scheme.lower() != "bearer" or not token:
        return False
    try:
        principal: Principal = await runtime.verifier.verify(token.strip())
    except Exception:
        return False
    return principal.is_admin


def without_errors(results: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {name: {"status": result["status"]} for name, result in results.items()}


async def queue_depths(broker: Broker, queues: list[str]) -> dict[str, int]:
    """Messages waiting in each queue and its dead-letter queue; a queue that cannot be
    measured (not declared yet, broker gone meanwhile) is left out."""
    names = [name for queue in queues for name in (queue, dead_letter_queue(queue))]

    async def one(name: str) -> int | None:
        try:
            return await asyncio.wait_for(broker.queue_depth(name), CHECK_TIMEOUT_SECONDS)
        except Exception:
            return None

    depths = await asyncio.gather(*(one(name) for name in names))
    return {name: depth for name, depth in zip(names, depths, strict=True) if depth is not None}


def health_router(service: str, version: str) -> APIRouter:
    router = ServiceRouter(tags=["health"])
    body = {"status": "healthy", "service": service, "version": version}

    @router.get("/health", response_model=HealthBody, summary="Liveness")
    async def health() -> dict[str, str]:
        return body

    @router.get(
        "/ready",
        summary="Readiness: database, broker and cache answer",
        responses={503: {"description": "A database, broker or cache does not answer"}},
    )
    async def ready(request: Request) -> JSONResponse:
        checks: dict[str, ReadinessCheck] = request.app.state.readiness_checks
        results = await run_checks(checks)
        down = [name for name, result in results.items() if result["status"] != "up"]
        if down:
            logger.warning(
                "not ready",
                extra={"checks": {name: results[name].get("error") for name in down}},
            )
        if not await shown_to_admins_only(request):
            results = without_errors(results)
        payload: dict[str, Any] = {
            "status": "not ready" if down else "ready",
            "service": service,
            "checks": results,
        }
        runner = getattr(request.app.state, "subscriptions", None)
        runtime = getattr(request.app.state, "runtime", None)
        queues: list[str] = list(getattr(runner, "queues", []))
        wanted = request.query_params.get("queues", "").lower() in ("1", "true", "yes")
        broker_up = results.get("broker", {}).get("status") == "up"
        if wanted and queues and runtime is not None and broker_up:
            payload["queues"] = await queue_depths(runtime.broker, queues)
        if down:
            payload["detail"] = f"unavailable: {', '.join(down)}"
        return JSONResponse(payload, status_code=503 if down else 200)

    return router
