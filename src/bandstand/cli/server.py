"""Serving an ASGI app with uvicorn until SIGINT or SIGTERM (`up` and `serve`)."""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType

import typer
import uvicorn

from bandstand.cli.collector import freeze_startup_objects
from bandstand.platform.commands import console
from bandstand.platform.draining import Drain, DrainingMiddleware
from bandstand.platform.http_protocol import CoalescingHttpToolsProtocol
from bandstand.platform.settings import Settings
from bandstand.platform.threads import set_computing_threads

logger = logging.getLogger("bandstand.server")

# Longer than the gateway keeps pooled connections idle (30 s), so the service is never the
# side that closes a connection the gateway is about to reuse.
SERVICE_KEEP_ALIVE_SECONDS = 75
# After the drain: how long the requests in hand may take to finish before the process exits.
GRACEFUL_SHUTDOWN_SECONDS = 10


def _ignore_signal(_signum: int, _frame: FrameType | None) -> None:
    return None


class DrainingServer(uvicorn.Server):
    """uvicorn, draining first on SIGTERM (`platform.draining`): for `drain_seconds` it serves
    while it tells load balancers to go elsewhere, then stops gracefully. SIGINT, or a second
    SIGTERM, stops at once (gracefully still: requests in hand are finished)."""

    def __init__(self, config: uvicorn.Config, drain: Drain, drain_seconds: float) -> None:
        super().__init__(config)
        self.drain = drain
        self.drain_seconds = drain_seconds
        self._stop_at: float | None = None
        self._announced = False

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if sig == signal.SIGTERM and self.drain_seconds > 0 and not self.drain.active:
            self.drain.begin()
            self._stop_at = time.monotonic() + self.drain_seconds
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self._stop_at is not None and not self.should_exit:
            if not self._announced:
                self._announced = True
                logger.info("SIGTERM: draining for %.1f s, then stopping", self.drain_seconds)
            if time.monotonic() >= self._stop_at:
                self.should_exit = True
        return await super().on_tick(counter)


def run_server(
    app: object, host: str, port: int, settings: Settings, *, drain_seconds: float = 0.0
) -> None:
    """Serve until SIGINT or SIGTERM, then shut down gracefully and return (status 0).

    With `drain_seconds`, SIGTERM drains first (a replica behind a load balancer)."""
    drain = Drain()
    config = uvicorn.Config(
        DrainingMiddleware(app, drain),  # type: ignore[arg-type]
        host=host,
        port=port,
        lifespan="on",
        http=CoalescingHttpToolsProtocol,
        access_log=False,
        log_config=None,
        log_level=settings.log_level.lower(),
        timeout_keep_alive=SERVICE_KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        # Forwarded headers are read by the app (`platform.clients`), from
        # BANDSTAND_TRUSTED_PROXIES only and checking each hop is an address; uvicorn's own
        # reading (loopback trusted, any hop believed) would rewrite the client before it.
        proxy_headers=False,
    )
    server = DrainingServer(config, drain, drain_seconds)
    set_computing_threads(settings.computing_threads)
    freeze_startup_objects()
    # After its graceful shutdown uvicorn raises the signal that stopped it again, for the
    # handler that was installed before it ran: with Python's defaults that turns a clean stop
    # into a KeyboardInterrupt (SIGINT) or a death by signal (SIGTERM).
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, _ignore_signal) for sig in stop_signals}
    try:
        server.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not server.started:
        console.print(f"[red]Could not start on {host}:{port}[/] (see the log above)")
        raise typer.Exit(1)
