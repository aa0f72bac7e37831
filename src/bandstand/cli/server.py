"""Serving an ASGI app with uvicorn until SIGINT or SIGTERM (`up` and `serve`)."""

from __future__ import annotations

import gc
import signal
from types import FrameType

import typer
import uvicorn

from bandstand.platform.commands import console
from bandstand.platform.http_protocol import CoalescingHttpToolsProtocol
from bandstand.platform.settings import Settings

# Longer than the gateway keeps pooled connections idle (30 s), so the service is never the
# side that closes a connection the gateway is about to reuse.
SERVICE_KEEP_ALIVE_SECONDS = 75


def _ignore_signal(_signum: int, _frame: FrameType | None) -> None:
    return None


def freeze_startup_objects() -> None:
    """Leave what start-up built (modules, routes, models, settings) out of the collector's
    full passes: a request makes garbage, and each full pass otherwise walks all of it again,
    a pause of tens of milliseconds in a busy service."""
    gc.collect()
    gc.freeze()


def run_server(app: object, host: str, port: int, settings: Settings) -> None:
    """Serve until SIGINT or SIGTERM, then shut down gracefully and return (status 0)."""
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        lifespan="on",
        http=CoalescingHttpToolsProtocol,
        access_log=False,
        log_config=None,
        log_level=settings.log_level.lower(),
        timeout_keep_alive=SERVICE_KEEP_ALIVE_SECONDS,
        timeout_graceful_shutdown=10,
        # Forwarded headers are read by the app (`platform.clients`), from
        # BANDSTAND_TRUSTED_PROXIES only and checking each hop is an address; uvicorn's own
        # reading (loopback trusted, any hop believed) would rewrite the client before it.
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
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
