"""The deep health check: every service's readiness, each database, the broker with its queue
depths, and the cache, judged as one.

The services are those of the runtime's service directory (filled by the composition root:
in-process calls in embedded mode, HTTP in distributed mode); admin never names another service.

- `healthy`: every service ready and every dependency up.
- `unhealthy` (HTTP 503): the platform cannot do its work: the broker is down, admin's own
  database is down, identity (which every login and token needs) is not ready, or no service is.
- `degraded`: anything else down (a service or its database, the cache): the rest still works.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bandstand.platform.database import Database
from bandstand.platform.directory import PROBE_TIMEOUT_SECONDS, Readiness
from bandstand.platform.health import run_checks
from bandstand.platform.runtime import Runtime

HEALTHY = "healthy"
DEGRADED = "degraded"
UNHEALTHY = "unhealthy"
ESSENTIAL_SERVICES = frozenset({"identity"})


def _service_report(readiness: Readiness) -> dict[str, Any]:
    report: dict[str, Any] = {
        "status": "up" if readiness.ready else "down",
        "latency_ms": round(readiness.seconds * 1000, 1),
    }
    if readiness.status_code is not None:
        report["status_code"] = readiness.status_code
    checks = readiness.body.get("checks")
    if isinstance(checks, dict):
        report["checks"] = checks
    detail = readiness.error or readiness.body.get("detail")
    if detail and not readiness.ready:
        report["error"] = str(detail)
    return report


def _database_status(readiness: Readiness) -> dict[str, Any] | None:
    """The service's database as its readiness reported it; None for a service that answered
    its checks without a database among them (it owns none: the web keeps only sessions)."""
    checks = readiness.body.get("checks")
    database = checks.get("database") if isinstance(checks, dict) else None
    if isinstance(database, dict) and database.get("status") in ("up", "down"):
        return dict(database)
    if isinstance(checks, dict) and checks and database is None:
        return None
    return {"status": "unknown", "error": readiness.error or "the service did not answer"}


def _queues(readiness: dict[str, Readiness]) -> dict[str, int]:
    depths: dict[str, int] = {}
    for answer in readiness.values():
        queues = answer.body.get("queues")
        if isinstance(queues, dict):
            for name, depth in queues.items():
                if isinstance(depth, int) and not isinstance(depth, bool):
                    depths[str(name)] = depth
    return dict(sorted(depths.items()))


async def deep_health(
    runtime: Runtime,
    database: Database,
    *,
    service: str,
    probe_seconds: float = PROBE_TIMEOUT_SECONDS,
    authorization: str | None = None,
) -> tuple[int, dict[str, Any]]:
    """The status code and body of `GET /api/v1/health-check`."""
    own = await run_checks(
        {"database": database.ping, "broker": runtime.broker.ping, "cache": runtime.ping_cache}
    )
    readiness = await runtime.services.readiness(probe_seconds, authorization)
    services = {name: _service_report(answer) for name, answer in readiness.items()}
    reported = {name: _database_status(answer) for name, answer in readiness.items()}
    databases = {name: db for name, db in reported.items() if db is not None}
    databases.setdefault(service, own["database"])
    broker = {**own["broker"], "queues": _queues(readiness)}
    down = sorted(name for name, answer in readiness.items() if not answer.ready)
    databases_down = sorted(name for name, db in databases.items() if db["status"] != "up")

    essential_down = ESSENTIAL_SERVICES.intersection(down)
    if (
        own["broker"]["status"] != "up"
        or own["database"]["status"] != "up"
        or essential_down
        or (readiness and len(down) == len(readiness))
    ):
        status = UNHEALTHY
    elif down or databases_down or own["cache"]["status"] != "up":
        status = DEGRADED
    else:
        status = HEALTHY
    body: dict[str, Any] = {
        "service": service,
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "status": status,
        "checks": {
            "services": services,
            "databases": databases,
            "broker": broker,
            "cache": own["cache"],
        },
    }
    if down:
        body["detail"] = f"not ready: {', '.join(down)}"
    return (503 if status == UNHEALTHY else 200), body
