"""JSON logs with a request id carried across services, and Prometheus metrics."""

from __future__ import annotations

import logging
import os
import sys
import time
from contextvars import ContextVar
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

HTTP_REQUESTS = Counter(
    "bandstand_http_requests_total",
    "HTTP requests answered",
    ["service", "method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "bandstand_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

OUTBOX_PENDING = Gauge(
    "bandstand_outbox_pending",
    "Events written to a service's outbox and not yet accepted by the broker",
    ["service"],
)

MESSAGES_HANDLED = Counter(
    "bandstand_messages_handled_total",
    "Messages this process took from a queue, by how they were settled (acked: handled or "
    "skipped as a redelivery; rejected: retried later or dead-lettered; released: shutting down)",
    ["queue", "outcome"],
)

_configured = False


class _RequestIds:
    """Random (version 4) UUIDs as 32 hex digits, from the OS's randomness fetched 256 at a
    time rather than with a system call per request."""

    BATCH = 256

    def __init__(self) -> None:
        self._ids: list[str] = []
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._ids = []  # a forked child never hands out the ids its parent still will

    def new(self) -> str:
        if not self._ids:
            self._ids = self._batch()
        return self._ids.pop()

    def _batch(self) -> list[str]:
        raw = bytearray(os.urandom(16 * self.BATCH))
        # The version (4) and variant (RFC 4122) bits, as uuid.uuid4() sets them.
        raw[6::16] = bytes(byte & 0x0F | 0x40 for byte in raw[6::16])
        raw[8::16] = bytes(byte & 0x3F | 0x80 for byte in raw[8::16])
        digits = raw.hex()
        return [digits[at : at + 32] for at in range(0, len(digits), 32)]


new_request_id = _RequestIds().new


def _add_request_id(
    _logger: object, _name: str, event: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    request_id = request_id_var.get()
    if request_id is not None:
        event.setdefault("request_id", request_id)
    return event


def configure_logging(level: str = "INFO", *, json_logs: bool = True) -> None:
    """Route stdlib and structlog records through one JSON (or console) renderer."""
    global _configured
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        _add_request_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if json_logs
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "aiormq", "aio_pika"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    logging.getLogger("uvicorn.error").handlers[:] = []
    logging.getLogger("uvicorn").handlers[:] = []
    if not _configured:
        structlog.configure(
            # Dropping what is below the level first keeps a silenced access log free.
            processors=[
                structlog.stdlib.filter_by_level,
                *shared,
                structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
            ],
            logger_factory=structlog.stdlib.LoggerFactory(),
            wrapper_class=structlog.stdlib.BoundLogger,
            cache_logger_on_first_use=True,
        )
        _configured = True


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _route_label(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    upstream = scope.get("bandstand_upstream")
    return f"upstream:{upstream}" if isinstance(upstream, str) else "unmatched"


class RequestContextMiddleware:
    """Take or make `X-Request-ID`, echo it, log one access line, count and time the request."""

    def __init__(self, app: ASGIApp, *, service: str, access_log: bool = True) -> None:
        self.app = app
        self.service = service
        self.access_log = access_log
        self.logger = structlog.get_logger("bandstand.access")
        # The metrics' children by label values: `labels()` checks and locks on every call.
        self._counted: dict[tuple[str, str, str], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, REQUEST_ID_HEADER.encode())
        request_id = incoming if incoming and len(incoming) <= 128 else new_request_id()
        if incoming != request_id:
            scope["headers"] = [
                *[(k, v) for k, v in scope.get("headers", ()) if k != b"x-request-id"],
                (b"x-request-id", request_id.encode()),
            ]
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                if not any(k == b"x-request-id" for k, _ in headers):
                    headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_label(scope)
            method = scope.get("method", "")
            self._counter(method, route, status).inc()
            self._histogram(method, route).observe(elapsed)
            if self.access_log:
                self.logger.info(
                    "request",
                    service=self.service,
                    method=method,
                    path=scope.get("path"),
                    status=status,
                    duration_ms=round(elapsed * 1000, 2),
                )
            request_id_var.reset(token)

    def _counter(self, method: str, route: str, status: int) -> Any:
        key = (method, route, str(status))
        child = self._counted.get(key)
        if child is None:
            child = self._counted[key] = HTTP_REQUESTS.labels(self.service, *key)
        return child

    def _histogram(self, method: str, route: str) -> Any:
        key = (method, route)
        child = self._timed.get(key)
        if child is None:
            child = self._timed[key] = HTTP_LATENCY.labels(self.service, *key)
        return child


async def metrics_endpoint(_request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
