"""An ASGI app served by uvicorn, as `bandstand serve` runs it, from a thread of the test."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import uvicorn

from bandstand.platform.http_protocol import CoalescingHttpToolsProtocol
from tests.support.servers import free_port


@contextmanager
def uvicorn_in_thread(app: Any, *, lifespan: Literal["on", "off"] = "on") -> Iterator[str]:
    """`app` served by uvicorn on a free loopback port from another thread; yields its URL."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        http=CoalescingHttpToolsProtocol,  # as `bandstand serve` runs it
        lifespan=lifespan,
        log_level="warning",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-under-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
